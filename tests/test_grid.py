"""The EEA reference grid: tile codes, bounds, snapping, areas."""

import pytest
from shapely.geometry import box

from baresoil.errors import AreaError
from baresoil.grid import (
    TileId,
    area_from_bbox,
    area_from_file,
    area_from_tile,
    geobox_for_bounds,
    parse_tile,
    snap_bounds,
    tiles_covering,
)


def test_tile_code_to_bounds_and_back():
    tile = parse_tile("E43N32")
    assert tile.bounds == (4_300_000, 3_200_000, 4_400_000, 3_300_000)
    assert tile.code == "E43N32"
    assert tiles_covering(tile.bounds) == [tile]
    assert parse_tile("e43n32 ") == tile


def test_tiles_covering_a_box_across_tile_edges():
    tiles = tiles_covering((4_395_000, 3_295_000, 4_405_000, 3_305_000))
    assert [t.code for t in tiles] == ["E43N32", "E44N32", "E43N33", "E44N33"]


@pytest.mark.parametrize("code", ["X43N32", "E4N32", "E43", "43N32", ""])
def test_malformed_tile_codes(code):
    with pytest.raises(AreaError, match="not an EEA tile code"):
        parse_tile(code)


def test_tile_outside_the_grid():
    with pytest.raises(AreaError, match="outside the EEA reference grid"):
        parse_tile("E99N99")


def test_snapping_aligns_pixel_edges_on_resolution_multiples():
    assert snap_bounds((4_300_003.0, 3_200_019.0, 4_300_041.0, 3_200_040.0), 20) == (
        4_300_000,
        3_200_000,
        4_300_060,
        3_200_040,
    )
    a = geobox_for_bounds((4_300_003.0, 3_200_019.0, 4_300_100.0, 3_200_100.0), 10)
    b = geobox_for_bounds((4_300_051.0, 3_200_077.0, 4_300_222.0, 3_200_301.0), 10)
    for gbox in (a, b):
        assert gbox.transform.c % 10 == 0 and gbox.transform.f % 10 == 0
        assert gbox.resolution.x == 10 and gbox.resolution.y == -10
        assert str(gbox.crs) == "EPSG:3035"


def test_bbox_area_and_its_lonlat_bounds():
    area = area_from_bbox(11.4, 48.1, 11.5, 48.2)
    lon0, lat0, lon1, lat1 = area.lonlat_bounds
    assert lon0 <= 11.4 and lat0 <= 48.1 and lon1 >= 11.5 and lat1 >= 48.2
    assert tiles_covering(area.bounds) == [TileId(44, 27)]


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ((11.5, 48.1, 11.4, 48.2), "W < E"),
        ((11.4, 48.2, 11.5, 48.1), "S < N"),
        ((11.4, 95.0, 11.5, 96.0), "latitudes"),
        ((-100.0, 40.0, -99.0, 41.0), "outside the EEA reference grid"),
    ],
)
def test_bad_bboxes(bbox, message):
    with pytest.raises(AreaError, match=message):
        area_from_bbox(*bbox)


def test_area_split_by_tile_covers_the_area():
    area = area_from_tile("E43N32").intersection(box(4_350_000, 3_250_000, 4_450_000, 3_350_000))
    parts = dict(area.split_by_tile())
    assert [t.code for t in parts] == ["E43N32"]
    assert parts[TileId(43, 32)].geometry.area == pytest.approx(50_000 * 50_000)


def test_area_from_vector_file_in_another_crs(tmp_path):
    import geopandas as gpd

    path = tmp_path / "aoi.gpkg"
    gpd.GeoDataFrame(geometry=[box(680_000, 5_340_000, 681_000, 5_341_000)], crs=32632).to_file(path)
    area = area_from_file(path)
    assert area.geometry.area == pytest.approx(1e6, rel=0.01)
    with pytest.raises(AreaError, match="not found"):
        area_from_file(tmp_path / "missing.gpkg")


def test_a_list_of_tile_codes_is_one_area_of_whole_tiles():
    area = area_from_tile("E43N32, e45n32,E43N32")
    assert area.label == "tiles E43N32,E45N32"
    parts = dict(area.split_by_tile())
    assert [t.code for t in parts] == ["E43N32", "E45N32"]  # not E44N32 between them
    assert all(part.geometry.area == pytest.approx(100_000**2) for part in parts.values())
    assert area_from_tile("E43N32").tile == TileId(43, 32)
    with pytest.raises(AreaError, match="not an EEA tile code"):
        area_from_tile("E43N32,E4N32")
    with pytest.raises(AreaError, match="not an EEA tile code"):
        area_from_tile(" , ")
