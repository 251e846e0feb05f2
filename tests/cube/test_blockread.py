"""Reading a block at once (every file once, the files of one grid warped together) gives odc-stac's values.

The scenes are UTM COGs with random values, holes of nodata and an overview for the 10 m bands, read onto
the EEA grid (a warp) at 20 m, at 10 m and at 50 m (a kernel reaching several source pixels), whole and
in chunks smaller than a file (windowed reads); one asset is corrupt and is left out the same way by both
readers.
"""

from datetime import datetime, timedelta

import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.enums import Resampling
from rasterio.transform import from_origin

from baresoil.catalog.layouts import NATIVE_RESOLUTION, PLANETARY_COMPUTER, REFLECTANCE_BANDS, SCL
from baresoil.catalog.scenes import select_scenes
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import CubeConfig, ReadConfig, SceneFilter
from baresoil.cube.handles import close_open_files
from baresoil.cube.load import read_dn
from baresoil.cube.reader import FailureJournal
from baresoil.grid import area_from_bbox

from tests.support.stac_factory import EPSG, ORIGIN, SIZE_M, lonlat_bbox, make_item, write_catalog


def _write(path, values, resolution):
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(driver="GTiff", dtype="uint16", count=1, width=values.shape[1], height=values.shape[0],
                   crs=f"EPSG:{EPSG}", transform=from_origin(*ORIGIN, resolution, resolution), nodata=0,
                   compress="deflate", tiled=True, blockxsize=32, blockysize=32)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype("uint16"), 1)
        if resolution == 10:
            dst.build_overviews([2], Resampling.average)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("blockread")
    rng = np.random.default_rng(11)
    items = []
    for i in range(4):
        paths = {}
        for band in (*REFLECTANCE_BANDS, SCL):
            n = SIZE_M // NATIVE_RESOLUTION[band]
            values = rng.integers(4, 12, (n, n)) if band == SCL else rng.integers(1, 6000, (n, n))
            values[rng.random((n, n)) < 0.05] = 0  # holes
            paths[band] = root / f"s{i}" / f"{band}.tif"
            _write(paths[band], values, NATIVE_RESOLUTION[band])
        when = datetime(2021, 6, 1, 10) + timedelta(days=5 * i)
        items.append(make_item(PLANETARY_COMPUTER, f"item{i}", when, paths, "03.01"))
    paths[SCL].write_bytes(paths[SCL].read_bytes()[:300])  # the last scene's SCL is cut short
    catalog = write_catalog(root / "stac", items)
    area = area_from_bbox(*lonlat_bbox(60))
    found = find_items(StacSource(str(catalog)), area, TimeRange.parse("2021-05-01", "2021-07-01"))
    return select_scenes(found, SceneFilter()), area


CASES = [(20, 0, 128), (20, 29, 128), (10, 0, 128), (10, 29, 128), (50, 4, 128), (10, 29, 0), (20, 29, 0.05)]
"""(resolution, chunk side, ``read.open_files_mb``): files kept open from block to block, none, some."""


@pytest.mark.parametrize(("resolution", "chunk", "open_mb"), CASES)
def test_a_block_read_at_once_is_odc_stacs_read_file_by_file(scenes, resolution, chunk, open_mb):
    """Files kept open from block to block (``open_mb``: all, none, some) read as fresh ones."""
    selected, area = scenes
    geobox = area.geobox(resolution)
    config = CubeConfig(resolution=resolution, chunk_size=chunk)
    reads = ReadConfig(retries=0, retry_delay_s=0.01, open_files_mb=open_mb)
    journals = FailureJournal(), FailureJournal()
    lazy = read_dn(selected, geobox, config, reads=reads, journal=journals[0])
    lazy_by_file = read_dn(selected, geobox, config, reads=reads, journal=journals[1], by_block=False)
    assert lazy.chunks == lazy_by_file.chunks
    by_block, by_file = lazy.compute(), lazy_by_file.compute()
    xr.testing.assert_identical(by_block, by_file)  # values, coordinates and attributes
    assert len(selected) == 4 and by_block.B04.shape[1] > max(chunk, 1)  # chunks smaller than the files
    for band in (*REFLECTANCE_BANDS, SCL):
        np.testing.assert_array_equal(by_block[band].values, by_file[band].values, err_msg=band)
    assert (by_block[SCL].values[3] == 0).all()  # the cut-short asset is left out ...
    assert (by_block["B04"].values > 0).mean() > 0.5  # ... the others are read
    assert [(f.item, f.band) for f in journals[0].failures()] == [("item3", SCL)]
    assert journals[0].failures() == journals[1].failures()
    close_open_files()
