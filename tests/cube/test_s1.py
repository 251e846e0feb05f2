"""Sentinel-1 onto the EEA grid, on the simulator's Sentinel-1 catalog of a tiny world."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import reproject

from baresoil.catalog.source import TimeRange
from baresoil.config import Config, CubeConfig
from baresoil.cube import open_cube
from baresoil.cube.s1 import load_s1, open_s1_cube
from baresoil.errors import AssetError, NoItemsError
from baresoil.simulate import load_s1_truth

from tests.support.parcel_world import PERIOD, parcel_world, s2_catalog, world_area

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return parcel_world(tmp_path_factory)


@pytest.fixture(scope="module")
def s1(sim):
    config = Config(cube=CubeConfig(resolution=20, chunk_size=16))
    return open_s1_cube(str(sim.s1_catalog), world_area(margin_m=40), PERIOD, config)


def test_cube_is_lazy_db_on_the_eea_grid(sim, s1):
    passes, _ = load_s1_truth(sim.root)
    assert s1.sizes["time"] == len(passes)
    assert list(s1.time.dt.date.values) == list(passes["date"])
    assert s1.odc.geobox.crs.epsg == 3035 and s1.odc.geobox.resolution.x == 20
    for band in ("VV", "VH"):
        assert isinstance(s1[band].data, da.Array)
        assert s1[band].dtype == np.float32 and s1[band].attrs["units"] == "dB"
        assert s1[band].data.chunks[0] == (len(passes),)  # all dates in one chunk
        assert s1[band].data.chunksize[1:] == (16, 16)
    assert set(s1.orbit_state.values) == {"ascending"} and set(s1.relative_orbit.values) == {117}
    values = s1.VH.values
    assert np.isfinite(values).all() and -35 < np.nanmedian(values) < -5
    assert (s1.VV.values > s1.VH.values).mean() > 0.95  # co-polarisation is the stronger


def test_values_are_resampled_in_linear_power(sim, s1):
    """Resampling averages power, not dB (which would lose about 0.5 dB to speckle)."""
    passes, _ = load_s1_truth(sim.root)
    geobox = s1.odc.geobox
    for i in (1, 4):
        expected = np.full(geobox.shape, np.nan, np.float32)
        with rasterio.open(sim.root / "sar" / passes["item"].iloc[i] / "vv.tif") as src:
            reproject(src.read(1), expected, src_transform=src.transform, src_crs=src.crs,
                      src_nodata=src.nodata, dst_transform=geobox.transform, dst_crs=str(geobox.crs),
                      dst_nodata=np.nan, resampling=Resampling.average)  # fmt: skip
        power = 10 ** (s1.VV.isel(time=i).values / 10)
        assert 10 * np.log10(power.mean() / expected.mean()) == pytest.approx(0.0, abs=0.1)
        assert np.corrcoef(power.ravel(), expected.ravel())[0, 1] > 0.8


def test_loads_onto_the_sentinel2_cube_grid_and_chunks(sim):
    config = Config(cube=CubeConfig(resolution=20, chunk_size=12))
    s2 = open_cube(str(s2_catalog(sim)), world_area(margin_m=40), PERIOD, config)
    s1 = load_s1(str(sim.s1_catalog), s2.odc.geobox, PERIOD, chunk=12)
    assert s1.odc.geobox == s2.odc.geobox
    assert s1.VV.data.chunks[1:] == s2.B04.data.chunks[1:]


def test_a_catalog_without_sentinel1_assets_is_a_clear_error(sim):
    with pytest.raises(AssetError, match=r"earth-search.*no Sentinel-1 items with VV and VH.*(red|scl)"):
        open_s1_cube(str(s2_catalog(sim)), world_area(), PERIOD)


def test_no_pass_in_the_period_names_sentinel1(sim, s1):
    with pytest.raises(NoItemsError, match="Sentinel-1 source"):
        load_s1(str(sim.s1_catalog), s1.odc.geobox, TimeRange.parse("2019-01-01", "2019-02-01"))
