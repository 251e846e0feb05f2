"""The cube gives the right reflectance from COGs of known DN in every layout, on both sides of 04.00.

Each item is written as its provider publishes it today (see docs/observations/providers.md):
where the provider declares scale and offset, which flag says the offset is already in the DN,
and what the DN then are.
"""

from datetime import datetime

import numpy as np
import pytest

from baresoil.catalog.layouts import (
    CDSE,
    EARTH_SEARCH,
    EARTH_SEARCH_L2A,
    EARTH_SEARCH_V0,
    LAYOUTS,
    PLANETARY_COMPUTER,
    REFLECTANCE_BANDS,
)
from baresoil.catalog.source import StacSource, TimeRange
from baresoil.config import Config, CubeConfig
from baresoil.cube import open_cube
from baresoil.grid import area_from_bbox

from tests.support.stac_factory import REFLECTANCE, lonlat_bbox, make_item, write_catalog, write_scene

BEFORE = datetime(2021, 12, 1, 10, 20)
AFTER = datetime(2022, 2, 1, 10, 20)
SIDES = {"before": (BEFORE, "03.01"), "after": (AFTER, "05.11")}

# layout -> side -> (DN added to round(reflectance * 10000), extra item properties, offset source)
PUBLISHED = {
    EARTH_SEARCH.name: {"before": (0, {}, "raster:bands"), "after": (1000, {}, "raster:bands")},
    EARTH_SEARCH_L2A.name: {
        "before": (0, {"earthsearch:boa_offset_applied": False}, "raster:bands"),
        "after": (0, {"earthsearch:boa_offset_applied": True}, "applied-flag"),  # harmonised DN
    },
    PLANETARY_COMPUTER.name: {"before": (0, {}, "baseline"), "after": (1000, {}, "baseline")},
    EARTH_SEARCH_V0.name: {
        "before": (0, {}, "baseline"),
        "after": (0, {"sentinel:boa_offset_applied": True}, "applied-flag"),  # harmonised DN
    },
    CDSE.name: {"before": (0, {}, "asset"), "after": (1000, {}, "asset")},
}


def _cube(catalog, resolution=20.0, start="2021-11-01", end="2022-03-01"):
    config = Config(cube=CubeConfig(resolution=resolution))
    area = area_from_bbox(*lonlat_bbox())
    return open_cube(StacSource(str(catalog)), area, TimeRange.parse(start, end), config)


def _assert_reflectance(cube, err=""):
    for band in REFLECTANCE_BANDS:
        values = cube[band].compute().values
        assert values.dtype == np.float32
        assert np.all(np.isfinite(values))
        np.testing.assert_allclose(values, REFLECTANCE[band], atol=1e-6, err_msg=f"{err} {band}")


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.name)
def test_known_dn_give_the_right_reflectance_in_every_layout(tmp_path, layout, side):
    when, baseline = SIDES[side]
    offset_dn, properties, source = PUBLISHED[layout.name][side]
    paths = write_scene(tmp_path / "scene", offset_dn=offset_dn)
    item = make_item(layout, "item", when, paths, baseline, properties=properties)
    cube = _cube(write_catalog(tmp_path / "stac", [item]))
    assert cube.sizes["time"] == 1
    _assert_reflectance(cube, f"{layout.name} {side}")
    assert cube.offset_source.values.tolist() == [source]
    assert cube.layout.values.tolist() == [layout.name]
    assert cube.processing_baseline.values.tolist() == [baseline]


def _flagged_pair(tmp_path, flag_key, layout):
    """An item before 04.00 and one after whose DN are harmonised and whose flag says so."""
    before = write_scene(tmp_path / "before", offset_dn=0)
    after = write_scene(tmp_path / "after", offset_dn=0)
    return [
        make_item(layout, "before", BEFORE, before, "03.01", properties={flag_key: False}),
        make_item(layout, "after", AFTER, after, "04.00", properties={flag_key: True}),
    ]


@pytest.mark.parametrize(
    ("flag_key", "layout"),
    [("earthsearch:boa_offset_applied", EARTH_SEARCH_L2A), ("sentinel:boa_offset_applied", EARTH_SEARCH_V0)],
)
def test_offset_already_applied_flag_is_honoured_over_the_declared_offset(tmp_path, flag_key, layout):
    """Earth Search declares offset -0.1 in raster:bands (v1) or has baseline 04.00 (v0) on items
    whose DN are already harmonised; applying it would make every reflectance 0.1 too low."""
    items = _flagged_pair(tmp_path, flag_key, layout)
    if layout is EARTH_SEARCH_L2A:
        assert items[1].assets["red"].extra_fields["raster:bands"][0]["offset"] == -0.1
    cube = _cube(write_catalog(tmp_path / "stac", items))
    _assert_reflectance(cube, flag_key)
    first = "raster:bands" if layout is EARTH_SEARCH_L2A else "baseline"
    assert cube.offset_source.values.tolist() == [first, "applied-flag"]


def test_flag_false_keeps_the_declared_offset(tmp_path):
    paths = write_scene(tmp_path / "after", offset_dn=1000)
    item = make_item(EARTH_SEARCH_L2A, "after", AFTER, paths, "04.00",
                     properties={"earthsearch:boa_offset_applied": False})  # fmt: skip
    cube = _cube(write_catalog(tmp_path / "stac", [item]))
    _assert_reflectance(cube)
    assert cube.offset_source.values.tolist() == ["raster:bands"]


@pytest.mark.parametrize("where", ["asset", "bands"])
def test_stac11_scale_and_offset_are_read_without_a_processing_baseline(tmp_path, where):
    """CDSE declares raster:scale/raster:offset on the asset (STAC 1.1); with processing:version
    removed the offset must still come from there, not be lost."""
    after = write_scene(tmp_path / "after", offset_dn=1000)
    item = make_item(CDSE, "after", AFTER, after, "04.00", declare=where)
    del item.properties["processing:version"]
    cube = _cube(write_catalog(tmp_path / "stac", [item]))
    _assert_reflectance(cube, where)
    assert cube.offset_source.values.tolist() == ["asset"]
    assert cube.processing_baseline.values.tolist() == ["unknown"]


def test_offset_sources_in_order_raster_bands_asset_baseline_date(tmp_path):
    """Each item declares less than the one before; the cube records which source decided.

    All are dated before the switch to 04.00 but carry its offset, except the last: only the
    declared scale and offset, then the published baseline, give the right reflectance.
    """
    scenes = {
        "raster-bands": (write_scene(tmp_path / "a", offset_dn=1000), "raster:bands", False),
        "asset": (write_scene(tmp_path / "b", offset_dn=1000), "asset", False),
        "baseline": (write_scene(tmp_path / "c", offset_dn=1000), None, True),
        "date": (write_scene(tmp_path / "d", offset_dn=0), None, False),
    }
    items = []
    for i, (name, (paths, where, keep_baseline)) in enumerate(scenes.items()):
        baseline = "04.00" if name != "date" else None
        when = datetime(2021, 12, 1 + 5 * i, 10)
        item = make_item(EARTH_SEARCH, name, when, paths, baseline, declare=where)
        if not keep_baseline:
            item.properties.pop("s2:processing_baseline", None)
        items.append(item)
    cube = _cube(write_catalog(tmp_path / "stac", items))
    _assert_reflectance(cube)
    assert cube.offset_source.values.tolist() == ["raster:bands", "asset", "baseline", "date"]


def test_planetary_computer_without_baseline_uses_the_date(tmp_path):
    before = write_scene(tmp_path / "before", offset_dn=0)
    after = write_scene(tmp_path / "after", offset_dn=1000)
    items = [
        make_item(PLANETARY_COMPUTER, "before", BEFORE, before, None),
        make_item(PLANETARY_COMPUTER, "after", AFTER, after, None),
    ]
    cube = _cube(write_catalog(tmp_path / "stac", items))
    _assert_reflectance(cube)
    assert cube.offset_source.values.tolist() == ["date", "date"]
    assert cube.processing_baseline.values.tolist() == ["unknown", "unknown"], "an assumption is no fact"


def test_cube_coordinates_and_chunks(tmp_path):
    before = write_scene(tmp_path / "before", offset_dn=0)
    after = write_scene(tmp_path / "after", offset_dn=1000)
    items = [
        make_item(CDSE, "before", BEFORE, before, "03.01"),
        make_item(CDSE, "after", AFTER, after, "04.00"),
    ]
    cube = _cube(write_catalog(tmp_path / "stac", items), resolution=10.0)
    assert cube.attrs["crs"] == "EPSG:3035"
    assert float(cube.x[1] - cube.x[0]) == 10.0
    # pixel edges on multiples of the resolution: centres at 5 m
    assert float(cube.x[0]) % 10 == 5.0
    assert list(cube.processing_baseline.values) == ["03.01", "04.00"]
    assert list(cube.platform.values) == ["sentinel-2a", "sentinel-2a"]
    np.testing.assert_allclose(cube.sun_elevation.values, 40.0)
    # every chunk holds all dates
    assert cube.B02.chunks[0] == (2,)


def test_automatic_chunks_keep_memory_per_chunk_bounded():
    from baresoil.cube.load import chunk_side

    config = CubeConfig()
    short, long = chunk_side(config, 80), chunk_side(config, 400)
    assert short > long  # longer periods, smaller blocks
    for side, dates in ((short, 80), (long, 400)):
        assert side % 32 == 0
        assert 10 * dates * side * side * 4 <= config.chunk_megabytes * 1e6
    assert chunk_side(CubeConfig(chunk_size=100), 80) == 100
