"""Scenes are written as providers publish them: COGs, uint16 DN, nodata 0, native resolutions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import rasterio

from baresoil.catalog.layouts import ALL_BANDS, NATIVE_RESOLUTION, SCL
from baresoil.simulate import spectra
from baresoil.simulate.spectra import BANDS
from baresoil.simulate.world import ROCK, WATER

pytestmark = pytest.mark.slow
BASELINE_04 = date(2022, 1, 25)


def test_every_scene_has_one_cog_per_band(tiny_sim, tiny_truth):
    scenes = sorted(p.name for p in tiny_sim.scenes_dir.iterdir())
    assert len(scenes) == 2 * len(tiny_truth.dates)  # two tiles per date
    for scene in scenes:
        folder = tiny_sim.scenes_dir / scene
        assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(
            f"{b}.tif" for b in ALL_BANDS
        )
        # from baseline 04.00 the DN Earth Search's sentinel-2-l2a serves (see test_sim_stac)
        harmonised = [p.name for p in folder.iterdir() if p.is_dir()]
        after = date(int(scene[10:14]), int(scene[14:16]), int(scene[16:18])) >= BASELINE_04
        assert harmonised == (["harmonised"] if after else []), scene
        if after:
            assert sorted(p.name for p in (folder / "harmonised").iterdir()) == sorted(
                f"{b}.tif" for b in ALL_BANDS if b != SCL
            )
    assert not list(tiny_sim.root.rglob("*.tmp"))


@pytest.mark.parametrize("band", ALL_BANDS)
def test_cog_layout_dtype_nodata_and_resolution(tiny_sim, band):
    scene = sorted(tiny_sim.scenes_dir.iterdir())[3]
    with rasterio.open(scene / f"{band}.tif") as src:
        assert src.driver == "GTiff"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.compression is not None and src.compression.value == "DEFLATE"
        assert src.block_shapes == [(256, 256)]
        assert src.overviews(1), "COGs ship with overviews"
        assert src.dtypes[0] == ("uint8" if band == SCL else "uint16")
        assert src.nodata == 0
        assert src.crs.to_epsg() == 32632
        assert src.res == (NATIVE_RESOLUTION[band],) * 2
        data = src.read(1)
        assert data.min() >= 1, "0 is reserved for nodata; every pixel of the tile part is valid"


def test_dn_carry_the_baseline_offset_from_2022_01_25(tiny_sim, tiny_truth, mosaic):
    """Rock and water have a constant surface: on clear dates before and after the switch their DN
    differ by 1000, i.e. equal reflectance once the offset is removed."""
    obs = tiny_truth.observations
    constant = np.isin(tiny_truth.landcover, (ROCK, WATER))
    assert constant.sum() > 50

    before = [i for i, d in enumerate(tiny_truth.dates) if d < BASELINE_04]
    after = [i for i, d in enumerate(tiny_truth.dates) if d >= BASELINE_04]
    assert set(obs.loc[before, "offset_dn"]) == {0} and set(obs.loc[after, "offset_dn"]) == {1000}
    assert set(obs.loc[before, "baseline"]) <= {"02.09", "03.00", "03.01"}
    assert set(obs.loc[after, "baseline"]) == {"04.00"}
    clear = (tiny_truth.sky == 0) & constant[None]
    i, j = max(((i, j) for i in before for j in after), key=lambda ij: (clear[ij[0]] & clear[ij[1]]).sum())
    both = clear[i] & clear[j]
    assert both.sum() >= 30, "the tiny world needs rock or water seen clear on both sides of the switch"
    for band in ("B02", "B04", "B08"):
        a = mosaic(tiny_sim, tiny_truth, i, band).astype(float)
        b = mosaic(tiny_sim, tiny_truth, j, band).astype(float)
        diff = b[both] - a[both]
        assert abs(np.median(diff) - 1000) < 8, band  # sensor noise: ~35 DN per pixel difference
        assert abs(np.mean(diff) - 1000) < 15, band
        q25, q75 = np.percentile(diff, [25, 75])
        assert q75 - q25 < 70, band  # the spread of sensor noise, not of a changed surface


def test_twenty_metre_bands_are_block_means_of_the_ten_metre_surface(tiny_sim, tiny_truth, mosaic):
    """B8A (20 m) and B08 (10 m) of a dense, flat water surface agree within noise after 2x2 averaging."""
    i = int(np.argmin(tiny_truth.observations["cloud_cover"]))
    water = tiny_truth.landcover == WATER
    block = water.reshape(water.shape[0] // 2, 2, -1, 2).all(axis=(1, 3))
    b08 = mosaic(tiny_sim, tiny_truth, i, "B08").astype(float)
    b08_20 = b08.reshape(b08.shape[0] // 2, 2, -1, 2).mean(axis=(1, 3))
    b8a = mosaic(tiny_sim, tiny_truth, i, "B8A").astype(float)
    assert block.sum() > 10
    expected = 10_000 * (spectra.WATER[BANDS.index("B8A")] - spectra.WATER[BANDS.index("B08")])  # -10 DN
    noise = 10_000 * tiny_truth.spec.noise_reflectance * np.sqrt(1 + 1 / 4)  # one 20 m, four 10 m pixels
    standard_error = noise / np.sqrt(block.sum())
    assert abs(np.mean(b8a[block] - b08_20[block]) - expected) < 4 * standard_error
