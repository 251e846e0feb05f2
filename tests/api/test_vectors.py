"""Inline GeoJSON as the API takes it: what passes, what is refused and in which words."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pytest

from baresoil.api.vectors import GeoJsonError, check_column, check_ids, feature_collection, outside

SQUARE = [[[11.0, 48.0], [11.01, 48.0], [11.01, 48.01], [11.0, 48.01], [11.0, 48.0]]]


def _collection(*geometries: dict, **extra) -> dict:
    features = [{"type": "Feature", "geometry": g, "properties": {"fid": i, "soc": 1.5 * i}}
                for i, g in enumerate(geometries)]  # fmt: skip
    return {"type": "FeatureCollection", "features": features, **extra}


def test_polygons_and_multipolygons_in_wgs84_pass_and_are_written_for_gdal(tmp_path):
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE, [[[p[0] + 0.02, p[1]] for p in SQUARE[0]]]]}
    crs84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    features = feature_collection(
        _collection({"type": "Polygon", "coordinates": SQUARE}, multi, crs=crs84), ("Polygon", "MultiPolygon")
    )
    check_ids(features, "fid")
    assert features.bounds() == (11.0, 48.0, 11.03, 48.01)
    assert outside(features, (11.0, 48.0, 11.02, 48.02), "fid") == ["features[1] (fid 1)"]
    frame = gpd.read_file(features.write(tmp_path / "parcels.geojson"))
    assert frame.crs.to_epsg() == 4326 and list(frame["fid"]) == [0, 1]
    assert "crs" not in json.loads((tmp_path / "parcels.geojson").read_text())


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        (None, "features[0]: geometry: missing"),
        ({"type": "LineString", "coordinates": SQUARE[0]}, "'LineString'; a Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": [SQUARE[0][:3]]}, "3 position(s)"),
        ({"type": "Polygon", "coordinates": [[[11.0, 48.0], [11.0, "48"], [11.1, 48.0], [11.0, 48.0]]]},
         "a position is [longitude, latitude]"),
        ({"type": "Polygon", "coordinates": [[[p[1], p[0] + 100] for p in SQUARE[0]]]}, "reproject"),
        ({"type": "MultiPolygon", "coordinates": []}, "non-empty array of polygons"),
    ],
)  # fmt: skip
def test_bad_geometries_name_the_feature(geometry, words):
    with pytest.raises(GeoJsonError) as caught:
        feature_collection(_collection(geometry), ("Polygon", "MultiPolygon"))
    assert words in str(caught.value)


def test_values_and_columns_are_checked_by_kind():
    points = _collection(*({"type": "Point", "coordinates": [11.0 + i / 100, 48.0]} for i in range(3)))
    features = feature_collection(points, ("Point",))
    check_column(features, "soc", numbers=True)
    points["features"][2]["properties"]["soc"] = True
    with pytest.raises(GeoJsonError, match=r"features\[2\]: 'soc' must be a number or null, got True"):
        check_column(feature_collection(points, ("Point",)), "soc", numbers=True)
    points["features"][2]["properties"]["soc"] = math.nan
    with pytest.raises(GeoJsonError, match=r"features\[2\]: a property is NaN"):
        feature_collection(points, ("Point",))
    points["features"][2]["properties"] = {"fid": 1.5}
    with pytest.raises(GeoJsonError, match=r"features\[2\]: 'fid' must be a non-empty text or an integer"):
        check_ids(feature_collection(points, ("Point",)), "fid")
    with pytest.raises(GeoJsonError, match="a GeoJSON FeatureCollection is needed, got 'Feature'"):
        feature_collection(points["features"][0], ("Point",))
