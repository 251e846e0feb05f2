"""Scene resolution: scene filters, solar-day merging, missing bands, provider provenance."""

import logging
from datetime import datetime

import numpy as np
import pytest

from baresoil.catalog.layouts import EARTH_SEARCH, EARTH_SEARCH_V0
from baresoil.catalog.scenes import resolve_item, select_scenes
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import SceneFilter
from baresoil.cube import open_cube
from baresoil.errors import AssetError, NoItemsError, TimeRangeError
from baresoil.grid import area_from_bbox

from tests.support.stac_factory import REFLECTANCE, lonlat_bbox, make_item, write_catalog, write_scene

DAY = datetime(2021, 6, 1, 10, 20)


def _items(tmp_path, layout=EARTH_SEARCH, specs=()):
    items = []
    for i, (when, props) in enumerate(specs):
        paths = write_scene(tmp_path / f"s{i}", offset_dn=0)
        items.append(make_item(layout, f"item{i}", when, paths, "03.01", properties=props))
    return items


def test_scene_filters_cloud_cover_and_sun_elevation(tmp_path):
    items = _items(
        tmp_path,
        specs=[
            (datetime(2021, 6, 1, 10), {"eo:cloud_cover": 79.0}),
            (datetime(2021, 6, 6, 10), {"eo:cloud_cover": 81.0}),
            (datetime(2021, 6, 11, 10), {"view:sun_elevation": 19.5}),
            (datetime(2021, 6, 16, 10), {"view:sun_elevation": 20.0}),
        ],
    )
    scenes = select_scenes(items)
    assert [s.items[0].id for s in scenes] == ["item0", "item3"]
    relaxed = select_scenes(items, SceneFilter(max_cloud_cover=90, min_sun_elevation=10))
    assert len(relaxed) == 4
    with pytest.raises(NoItemsError, match="no scene passes the filters"):
        select_scenes(items[1:3])


def test_items_without_sun_elevation_are_named_once_not_silently_kept(tmp_path, caplog):
    """Earth Search v0 items publish no sun angle: the sun filter cannot judge them, and says so."""
    items = _items(
        tmp_path,
        EARTH_SEARCH_V0,
        specs=[(datetime(2021, 12, 1 + 5 * i, 10), {}) for i in range(7)],
    )
    with caplog.at_level(logging.WARNING, logger="baresoil.catalog.scenes"):
        scenes = select_scenes(items)
    assert len(scenes) == 7  # kept: nothing tells their sun is low
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    named = "7 of 7 items (collection sentinel-s2-l2a-cogs: item0, item1, item2, item3, item4 and 2 more)"
    assert named in warnings[0]
    assert "no sun elevation (view:sun_elevation, s2:mean_solar_zenith" in warnings[0]
    assert "scenes.min_sun_elevation = 20 deg cannot apply" in warnings[0]


def test_items_with_sun_elevation_raise_no_warning(tmp_path, caplog):
    items = _items(tmp_path, specs=[(datetime(2021, 6, 1, 10), {})])
    with caplog.at_level(logging.WARNING, logger="baresoil.catalog.scenes"):
        select_scenes(items)
    assert not caplog.records


def test_earth_search_v0_item_is_its_own_layout_with_its_own_baseline(tmp_path):
    """A v0 item is not labelled Planetary Computer, and its sentinel:processing_baseline is read."""
    paths = write_scene(tmp_path / "s", offset_dn=0)
    properties = {
        "sentinel:boa_offset_applied": True,
        "sentinel:product_id": "S2A_MSIL2A_20240513T102021_N0510_R065_T32UPU_20240513T120000",
    }
    when = datetime(2024, 5, 13, 10)
    item = make_item(EARTH_SEARCH_V0, "S2A_32UPU_20240513_0_L2A", when, paths, "05.11", properties=properties)
    resolved = resolve_item(item)
    assert resolved.layout is EARTH_SEARCH_V0
    assert resolved.processing_baseline == "05.11"
    assert resolved.offset_source == "applied-flag"
    assert resolved.sun_elevation is None
    del item.properties["sentinel:processing_baseline"]
    assert resolve_item(item).processing_baseline == "05.10", "from the product id's N-number"


def test_items_of_one_solar_day_become_one_scene(tmp_path):
    items = _items(
        tmp_path,
        specs=[
            (datetime(2021, 6, 1, 10, 20, 1), {}),
            (datetime(2021, 6, 1, 10, 20, 4), {}),
            (datetime(2021, 6, 1, 23, 30), {}),  # local solar time (lon 11 E) is already 2 June
            (datetime(2021, 6, 6, 10, 20), {}),
        ],
    )
    scenes = select_scenes(items)
    assert [len(s.items) for s in scenes] == [2, 1, 1]
    assert scenes[0].time == datetime(2021, 6, 1, 10, 20, 1)


def test_same_day_items_are_mosaicked_in_the_cube(tmp_path):
    """Two tiles of one overpass, each with data on one half only, give one full date."""
    n = 50  # 20 m pixels
    west = np.zeros((n, n), dtype=int)
    west[:, : n // 2 + 5] = 4
    east = np.zeros((n, n), dtype=int)
    east[:, n // 2 - 5 :] = 5
    items = []
    for name, scl, second in (("west", west, 1), ("east", east, 3)):
        paths = write_scene(tmp_path / name, offset_dn=0, scl=scl)
        items.append(make_item(EARTH_SEARCH, name, DAY.replace(second=second), paths, "03.01"))
    cube = open_cube(
        str(write_catalog(tmp_path / "stac", items)),
        area_from_bbox(*lonlat_bbox()),
        TimeRange.parse("2021-06-01", "2021-06-01"),
    )
    assert cube.sizes["time"] == 1
    scl = cube.SCL.compute().values[0]
    assert set(np.unique(scl)) == {4, 5}  # no gap (0) between the two halves
    assert cube["items"].values[0] == "east,west" or cube["items"].values[0] == "west,east"
    np.testing.assert_allclose(cube.B03.compute().values, REFLECTANCE["B03"], atol=1e-6)


def test_missing_band_names_item_and_band(tmp_path):
    (item,) = _items(tmp_path, specs=[(DAY, {})])
    del item.assets["swir16"]
    with pytest.raises(AssetError, match=r"item item0: band B11 \(asset 'swir16'\) is missing"):
        resolve_item(item)


def test_missing_file_names_item_and_band(tmp_path):
    (item,) = _items(tmp_path, specs=[(DAY, {})])
    (tmp_path / "s0" / "B8A.tif").unlink()
    with pytest.raises(AssetError, match=r"item item0: band B8A file not found"):
        resolve_item(item)


def test_unknown_layout_lists_the_assets(tmp_path):
    (item,) = _items(tmp_path, specs=[(DAY, {})])
    item.assets = {"visual": item.assets["red"]}
    with pytest.raises(AssetError, match=r"unknown Sentinel-2 L2A asset layout.*visual"):
        resolve_item(item)


def test_find_items_filters_area_time_and_collection(tmp_path):
    items = _items(tmp_path, specs=[(DAY, {}), (datetime(2021, 7, 1, 10), {})])
    catalog = write_catalog(tmp_path / "stac", items)
    area = area_from_bbox(*lonlat_bbox())
    assert len(find_items(StacSource(str(catalog)), area, TimeRange.parse("2021-06-01", "2021-06-30"))) == 1
    with pytest.raises(NoItemsError, match="no items"):
        find_items(
            StacSource(str(catalog), "other-collection"), area, TimeRange.parse("2021-01-01", "2021-12-31")
        )
    with pytest.raises(NoItemsError, match="no items"):
        find_items(
            StacSource(str(catalog)),
            area_from_bbox(5.0, 45.0, 5.1, 45.1),
            TimeRange.parse("2021-01-01", "2021-12-31"),
        )


def test_reversed_time_range():
    with pytest.raises(TimeRangeError, match="reversed"):
        TimeRange.parse("2022-12-31", "2021-01-01")
    with pytest.raises(TimeRangeError, match="not YYYY-MM-DD"):
        TimeRange.parse("2021-13-01", "2022-01-01")
