"""Parcel input on tiny hand-made polygons with known pixel counts."""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from baresoil.grid import geobox_for_bounds
from baresoil.inputs.parcels import (
    CLIPPED,
    EMPTY_AFTER_BUFFER,
    OUTSIDE,
    OVERLAP,
    REPAIRED,
    TOO_FEW_PIXELS,
    ParcelError,
    default_buffer_m,
    pixel_counts,
    rasterise_parcels,
    read_parcels,
)

# A 300 m x 200 m grid on the EEA grid (EPSG:3035), 10 m pixels.
X0, Y0 = 4_300_000.0, 2_800_000.0
GRID = geobox_for_bounds((X0, Y0, X0 + 300, Y0 + 200), 10)


def _frame(rows, crs="EPSG:3035", id_column="field"):
    ids, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {id_column: list(ids), "crop": ["wheat"] * len(ids)}, geometry=list(geoms), crs=crs
    )


def _rect(x, y, w, h):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


# field 1: [2, 102] x [3, 63] -> buffered 5 m: [7, 97] x [8, 58]: pixel centres 15..95 (9) x 15..55 (5)
# field 2: a 14 m square: after the buffer a 4 m square holding no pixel centre (smaller than a pixel)
# field 3: 8 m wide strip: nothing left after the buffer
# field 4: bow-tie (invalid), repaired into two triangles
# field 5: crosses the east edge of the grid at x = 300
PARCELS = [
    (1, _rect(2, 3, 100, 60)),
    (2, _rect(151, 151, 14, 14)),
    (3, _rect(200, 10, 8, 100)),
    (4, Polygon([(X0 + 120, Y0 + 20), (X0 + 180, Y0 + 80), (X0 + 180, Y0 + 20), (X0 + 120, Y0 + 80)])),
    (5, _rect(262, 102, 80, 60)),
]


@pytest.fixture
def gpkg(tmp_path):
    path = tmp_path / "parcels.gpkg"
    _frame(PARCELS).to_crs(25832).to_file(path, engine="pyogrio")  # the agency's CRS, not the grid's
    return path


def test_reads_any_crs_into_eea_with_codes_and_buffer(gpkg):
    parcels = read_parcels(gpkg, "field", category_column="crop", buffer_m=5)
    assert parcels.frame.crs.to_epsg() == 3035
    assert list(parcels.frame["parcel_id"]) == [1, 2, 4, 5]  # 3 is gone after the buffer
    assert list(parcels.frame["code"]) == [1, 2, 3, 4]
    assert set(parcels.frame["category"]) == {"wheat"}
    first = parcels.frame.iloc[0]
    assert first["area_m2"] == pytest.approx(100 * 60, rel=1e-6)
    assert first.geometry.area == pytest.approx(90 * 50, rel=1e-6)
    issues = dict(zip(parcels.report["parcel_id"], parcels.report["issue"], strict=True))
    assert issues == {3: EMPTY_AFTER_BUFFER, 4: REPAIRED}
    assert not parcels.report.set_index("parcel_id").loc[3, "kept"]


def test_geoparquet_and_shapefile_read_the_same(tmp_path, gpkg):
    frame = _frame(PARCELS[:2])
    frame.to_parquet(tmp_path / "p.parquet")
    frame.to_file(tmp_path / "p.shp", engine="pyogrio")
    a = read_parcels(tmp_path / "p.parquet", "field", buffer_m=0)
    b = read_parcels(tmp_path / "p.shp", "field", buffer_m=0)
    assert list(a.frame["parcel_id"]) == list(b.frame["parcel_id"]) == [1, 2]
    np.testing.assert_allclose(a.frame.geometry.area, b.frame.geometry.area)


def test_missing_id_column_names_file_and_columns(gpkg):
    with pytest.raises(ParcelError, match=r"parcels\.gpkg.*'NewID'.*field, crop"):
        read_parcels(gpkg, "NewID")


def test_missing_category_column_is_an_error(gpkg):
    with pytest.raises(ParcelError, match="'LC'"):
        read_parcels(gpkg, "field", category_column="LC")


def test_the_crop_column_is_carried_and_a_missing_one_named(gpkg):
    parcels = read_parcels(gpkg, "field", crop_column="crop", buffer_m=5)
    assert list(parcels.frame["crop"]) == ["wheat"] * 4
    assert "category" not in parcels.frame
    with pytest.raises(ParcelError, match=r"no column 'crop_2022'; the file has: field, crop"):
        read_parcels(gpkg, "field", crop_column="crop_2022")


def test_duplicate_ids_are_named(tmp_path):
    path = tmp_path / "dup.gpkg"
    _frame([("A", _rect(0, 0, 50, 50)), ("B", _rect(60, 0, 50, 50)), ("A", _rect(120, 0, 50, 50))]).to_file(
        path
    )
    with pytest.raises(ParcelError, match=r"duplicate parcel ids in 'field': 'A' \(2x\)"):
        read_parcels(path, "field")


def test_missing_file_and_unreadable_file(tmp_path):
    with pytest.raises(ParcelError, match="not found"):
        read_parcels(tmp_path / "none.gpkg", "id")
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(ParcelError, match="cannot read"):
        read_parcels(bad, "id")


def test_rasterised_pixel_counts_and_small_parcel_reported(gpkg):
    parcels = read_parcels(gpkg, "field", buffer_m=5).clip(box(*GRID.boundingbox), "the grid")
    codes = rasterise_parcels(parcels, GRID, chunks=8)
    assert isinstance(codes.data, da.Array)
    assert codes.data.chunks == ((8,) * 2 + (4,), (8,) * 3 + (6,))
    counts = pixel_counts(codes, len(parcels))
    by_id = dict(zip(parcels.frame["parcel_id"], counts[parcels.frame["code"]], strict=True))
    assert by_id[1] == 9 * 5
    assert by_id[2] == 0  # smaller than a pixel: no pixel centre inside
    checked = parcels.with_pixel_counts(counts, min_pixels=3)
    assert checked.frame.set_index("parcel_id").loc[2, "n_pixels"] == 0
    few = checked.report[checked.report["issue"] == TOO_FEW_PIXELS]
    assert list(few["parcel_id"]) == [2] and few["kept"].all()
    assert "0 pixel(s)" in few["detail"].iloc[0]


def test_parcel_crossing_the_edge_keeps_its_inside_part(gpkg):
    parcels = read_parcels(gpkg, "field", buffer_m=5).clip(box(*GRID.boundingbox), "the grid")
    row = parcels.frame.set_index("parcel_id").loc[5]
    # buffered: [267, 337] x [107, 157]; inside the grid up to x = 300: 33 m of 70 m
    assert row.geometry.area == pytest.approx(33 * 50, rel=1e-6)
    report = parcels.report.set_index("parcel_id")
    assert report.loc[5, "issue"] == CLIPPED and report.loc[5, "kept"]
    assert "47 %" in report.loc[5, "detail"]
    codes = rasterise_parcels(parcels, GRID, chunks=16).values
    code = parcels.frame.set_index("parcel_id").loc[5, "code"]
    # pixel centres 275, 285, 295 (3 columns) x 115 .. 155 (5 rows)
    assert (codes == code).sum() == 3 * 5


def test_parcel_outside_the_area_is_reported_and_dropped(gpkg):
    parcels = read_parcels(gpkg, "field", buffer_m=5).clip(_rect(0, 0, 110, 70), "the scenes")
    assert list(parcels.frame["parcel_id"]) == [1]
    report = parcels.report.set_index("parcel_id")
    assert report.loc[5, "issue"] == OUTSIDE and not report.loc[5, "kept"]


def test_chunked_rasterisation_matches_one_block_and_reference(gpkg):
    parcels = read_parcels(gpkg, "field", buffer_m=5)
    whole = rasterise_parcels(parcels, GRID, chunks=(((20,), (30,)))).values
    chunked = rasterise_parcels(parcels, GRID, chunks=((7, 7, 6), (11, 11, 8))).values
    np.testing.assert_array_equal(whole, chunked)
    # reference: pixel centres inside the buffered polygons
    xs = X0 + 5 + 10 * np.arange(30)
    ys = Y0 + 200 - 5 - 10 * np.arange(20)
    points = shapely.points(*np.meshgrid(xs, ys))
    for code, geom in zip(parcels.frame["code"], parcels.frame.geometry, strict=True):
        np.testing.assert_array_equal(whole == code, shapely.contains(geom, points), err_msg=str(code))


def test_text_ids_and_overlaps(tmp_path):
    path = tmp_path / "text.gpkg"
    _frame([("DE-1", _rect(0, 0, 60, 60)), ("DE-2", _rect(40, 0, 60, 60))]).to_file(path)
    parcels = read_parcels(path, "field", buffer_m=5)
    assert list(parcels.id_of_code(np.array([2, 1]))) == ["DE-2", "DE-1"]
    overlaps = parcels.report[parcels.report["issue"] == OVERLAP]
    assert set(overlaps["parcel_id"]) == {"DE-1", "DE-2"}
    codes = rasterise_parcels(parcels, geobox_for_bounds((X0, Y0, X0 + 100, Y0 + 60), 10)).values
    assert (codes == 2).sum() > (codes == 1).sum()  # the later parcel takes the shared pixels


def test_default_buffer_follows_sen4cap():
    assert default_buffer_m(10) == 5 and default_buffer_m(20) == 10
