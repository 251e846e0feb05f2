"""Reading soil samples: coordinates, columns, and what is set aside by id."""

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from baresoil.products.soil import PROPERTIES, SampleColumns, SampleError, parse_property, read_samples

TO_EEA = Transformer.from_crs(4326, 3035, always_xy=True)
SOC = [parse_property("soc")]


def _write(path, text):
    path.write_text(text)
    return path


def test_lon_lat_columns_are_wgs84(tmp_path):
    csv = _write(tmp_path / "s.csv", "sample_id,lon,lat,soc\nA,11.4,48.2,12.5\nB,11.41,48.21,20\n")
    samples = read_samples(csv, SOC)
    x, y = TO_EEA.transform([11.4, 11.41], [48.2, 48.21])
    np.testing.assert_allclose(samples.x, x)
    np.testing.assert_allclose(samples.y, y)
    assert samples.ids.tolist() == ["A", "B"]
    np.testing.assert_allclose(samples.values["soc"], [12.5, 20.0])
    assert samples.excluded == {}


def test_other_coordinate_columns_and_crs_by_flags(tmp_path):
    to_utm = Transformer.from_crs(4326, 25832, always_xy=True)
    e, n = to_utm.transform(11.4, 48.2)
    csv = _write(tmp_path / "s.csv", f"id;E;N;OC\nA;{e:.3f};{n:.3f};1,5\nB;{e + 100:.3f};{n:.3f};2.5\n")
    samples = read_samples(
        csv, [parse_property("soc=OC")], SampleColumns(id="id", x="E", y="N", crs="EPSG:25832")
    )
    x, y = TO_EEA.transform(11.4, 48.2)
    assert samples.x[0] == pytest.approx(x, abs=0.01) and samples.y[0] == pytest.approx(y, abs=0.01)
    # a decimal comma is not a number: reported as a missing value by id
    assert samples.missing["soc"] == ("A",)
    assert samples.values["soc"][1] == 2.5


def test_geopackage_points_carry_their_crs(tmp_path):
    frame = gpd.GeoDataFrame(
        {"sample_id": ["G1", "G2"], "clay": [22.0, 31.5]},
        geometry=[Point(690_000, 5_340_000), Point(690_500, 5_340_500)],
        crs="EPSG:32632",
    )
    path = tmp_path / "s.gpkg"
    frame.to_file(path)
    samples = read_samples(path, [parse_property("clay")])
    x, y = Transformer.from_crs(32632, 3035, always_xy=True).transform(690_000, 5_340_000)
    assert samples.x[0] == pytest.approx(x) and samples.y[0] == pytest.approx(y)
    np.testing.assert_allclose(samples.values["clay"], [22.0, 31.5])


def test_duplicates_missing_values_and_locations_are_reported_by_id(tmp_path):
    csv = _write(
        tmp_path / "s.csv",
        "sample_id,lon,lat,soc,clay\n"
        "A,11.4,48.2,12,20\n"
        "B,11.5,48.2,,21\n"  # no SOC
        "A,11.6,48.2,14,22\n"  # id again
        "C,11.4,48.2,15,23\n"  # A's location again
        "D,,48.3,16,24\n"  # no longitude
        "E,11.7,95,17,25\n"  # latitude out of range
        "F,11.8,48.2,n.d.,26\n",  # text where a number should be
    )
    samples = read_samples(csv, [parse_property("soc"), parse_property("clay")])
    assert samples.ids.tolist() == ["A", "B", "F"]
    assert samples.excluded == {
        "no location": ("D", "E"),
        "duplicated id": ("A",),
        "duplicated location": ("C",),
    }
    assert samples.missing == {"soc": ("B", "F"), "clay": ()}
    np.testing.assert_allclose(samples.values["clay"], [20, 21, 26])


def test_missing_columns_are_named(tmp_path):
    csv = _write(tmp_path / "s.csv", "sample_id,x,y,soc\nA,1,2,3\n")
    with pytest.raises(SampleError, match=r"s\.csv: missing column\(s\) lon, lat, clay"):
        read_samples(csv, [parse_property("soc"), parse_property("clay")])
    with pytest.raises(SampleError, match=r"missing column.*ident"):
        read_samples(csv, SOC, SampleColumns(id="ident", x="x", y="y"))


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(SampleError, match="not found"):
        read_samples(tmp_path / "nowhere.csv", SOC)
    with pytest.raises(SampleError, match="not a usable soil property name"):
        parse_property(" %% ")
    csv = _write(tmp_path / "s.csv", "sample_id,lon,lat,soc\nA,11.4,48.2,12.5\n")
    with pytest.raises(SampleError, match="not a CRS"):
        read_samples(csv, SOC, SampleColumns(crs="EPSG:99999999"))
    line = gpd.GeoSeries.from_wkt(["LINESTRING (0 0, 1 1)"])
    lines = gpd.GeoDataFrame({"sample_id": ["L"], "soc": [1.0]}, geometry=line, crs="EPSG:4326")
    lines.to_file(tmp_path / "lines.gpkg")
    with pytest.raises(SampleError, match="expected point geometries"):
        read_samples(tmp_path / "lines.gpkg", SOC)


def test_property_names_and_columns():
    assert parse_property("SOC").prop is PROPERTIES["soc"]
    assert parse_property("ph=pH_H2O").column == "pH_H2O"
    assert PROPERTIES["soc"].layer_codes == ("SOC_Q05", "SOC_Q50", "SOC_Q95", "SOC_UNC")


def test_any_numeric_column_is_a_property_in_its_own_unit(tmp_path):
    csv = _write(
        tmp_path / "s.csv", "sample_id,lon,lat,OM,zinc,soil\nA,11.4,48.2,7.5,1022,1\nB,11.5,48.2,,640,2\n"
    )
    om, zinc = parse_property("om"), parse_property("Zn=zinc")
    # the column is found whatever its case; the known properties keep their metadata
    prop = om.prop
    assert (prop.name, prop.code, prop.unit, prop.dtype, prop.known) == ("om", "OM", "", "float32", False)
    assert zinc.prop.layer_codes == ("ZN_Q05", "ZN_Q50", "ZN_Q95", "ZN_UNC") and zinc.column == "zinc"
    assert parse_property("SOC").prop is PROPERTIES["soc"] and PROPERTIES["soc"].dtype == "int16"
    samples = read_samples(csv, [om, zinc])
    np.testing.assert_allclose(samples.values["om"], [7.5, np.nan])
    np.testing.assert_allclose(samples.values["zn"], [1022, 640])
    assert samples.missing["om"] == ("B",)
    # its layers are registered (float32 in the samples' unit) but not listed in the documentation
    from baresoil.registry import layer

    q50 = layer("OM_Q50")
    assert (q50.dtype, q50.scale, q50.unit, q50.listed) == ("float32", 1.0, None, False)
    assert layer("OM_UNC").dtype == "int16"


def test_a_column_without_numbers_is_refused_by_name(tmp_path):
    csv = _write(tmp_path / "s.csv", "sample_id,lon,lat,texture\nA,11.4,48.2,loam\nB,11.5,48.2,clay\n")
    with pytest.raises(SampleError, match=r"s\.csv: column 'texture' \(texture\) holds no numbers"):
        read_samples(csv, [parse_property("texture")])
