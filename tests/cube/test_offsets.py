"""The cube gives the same reflectance before and after baseline 04.00 in every layout."""

from datetime import datetime

import numpy as np
import pytest

from baresoil.catalog.layouts import CDSE, EARTH_SEARCH, LAYOUTS, PLANETARY_COMPUTER, REFLECTANCE_BANDS
from baresoil.catalog.source import StacSource, TimeRange
from baresoil.config import Config, CubeConfig
from baresoil.cube import open_cube
from baresoil.grid import area_from_bbox

from stac_factory import REFLECTANCE, lonlat_bbox, make_item, write_catalog, write_scene

BEFORE = datetime(2021, 12, 1, 10, 20)
AFTER = datetime(2022, 2, 1, 10, 20)


def _items(tmp_path, layout, after_dn=1000, collection="sentinel-2-l2a", **kwargs):
    """A scene before baseline 04.00 and one after, whose DN carry ``after_dn``."""
    before = write_scene(tmp_path / "before", offset_dn=0)
    after = write_scene(tmp_path / "after", offset_dn=after_dn)
    return [
        make_item(layout, "before", BEFORE, before, "03.01", collection=collection, **kwargs),
        make_item(layout, "after", AFTER, after, "04.00", collection=collection, **kwargs),
    ]


def _catalog(tmp_path, layout, **kwargs):
    return write_catalog(tmp_path / "stac", _items(tmp_path, layout, **kwargs))


def _cube(catalog, resolution=20.0):
    config = Config(cube=CubeConfig(resolution=resolution))
    return open_cube(
        StacSource(str(catalog)),
        area_from_bbox(*lonlat_bbox()),
        TimeRange.parse("2021-11-01", "2022-03-01"),
        config,
    )


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.name)
def test_same_reflectance_on_both_sides_of_baseline_04(tmp_path, layout):
    cube = _cube(_catalog(tmp_path, layout))
    assert cube.sizes["time"] == 2
    for band in REFLECTANCE_BANDS:
        values = cube[band].compute().values
        assert values.dtype == np.float32
        assert np.all(np.isfinite(values))
        np.testing.assert_allclose(values, REFLECTANCE[band], atol=1e-6, err_msg=f"{layout.name} {band}")


def test_earth_search_collection_1_layout(tmp_path):
    cube = _cube(_catalog(tmp_path, EARTH_SEARCH, collection="sentinel-2-c1-l2a"))
    np.testing.assert_allclose(cube.B04.compute().values, REFLECTANCE["B04"], atol=1e-6)


def test_offset_comes_from_metadata_not_from_the_baseline_when_declared(tmp_path):
    """A catalog whose raster:bands say offset 0 after 04.00 is believed (its DN were harmonised)."""
    items = _items(tmp_path, EARTH_SEARCH, after_dn=0)
    for asset in items[1].assets.values():
        band = asset.extra_fields["raster:bands"][0]
        if "offset" in band:
            band["offset"] = 0.0
    cube = _cube(write_catalog(tmp_path / "stac", items))
    np.testing.assert_allclose(cube.B08.compute().values, REFLECTANCE["B08"], atol=1e-6)


def test_planetary_computer_without_baseline_uses_the_date(tmp_path):
    items = _items(tmp_path, PLANETARY_COMPUTER)
    for item in items:
        del item.properties["s2:processing_baseline"]
    cube = _cube(write_catalog(tmp_path / "stac", items))
    np.testing.assert_allclose(cube.B12.compute().values, REFLECTANCE["B12"], atol=1e-6)


def test_cube_coordinates_and_chunks(tmp_path):
    cube = _cube(_catalog(tmp_path, CDSE), resolution=10.0)
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
