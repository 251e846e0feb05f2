"""Endmembers and soil spectra behave like the real thing where the products look."""

from __future__ import annotations

import numpy as np

from baresoil.simulate.spectra import (
    GREEN_CROP,
    RESIDUE,
    ROCK,
    SNOW,
    STRAW,
    WATER,
    dry_soil,
    moist,
    nbr,
    ndti,
    ndvi,
)


def _soils():
    soc, clay, iron = np.meshgrid(np.linspace(8, 40, 9), np.linspace(10, 45, 8), np.linspace(-2, 2, 5))
    return dry_soil(soc.ravel(), clay.ravel(), iron.ravel()), soc.ravel(), clay.ravel()


def test_tillage_index_separates_residue_from_soil():
    soils, _, _ = _soils()
    assert ndti(STRAW) > 0.1 and ndti(RESIDUE) > 0.1
    assert np.all(ndti(soils) < 0.1)


def test_pvir2_of_dry_soil_varies_within_a_narrow_band():
    soils, _, _ = _soils()
    pvir2 = ndvi(soils) + nbr(soils)
    assert np.mean((pvir2 > -0.1) & (pvir2 < 0.2)) > 0.95
    assert pvir2.max() - pvir2.min() > 0.1, "no single threshold fits every soil"
    assert ndvi(GREEN_CROP) + nbr(GREEN_CROP) > 1.0


def test_soc_darkens_and_clay_deepens_the_swir2_absorption():
    soils, soc, clay = _soils()
    brightness = soils[:8].mean(axis=0)
    assert np.corrcoef(np.log(soc), brightness)[0, 1] < -0.9
    ratio = soils[9] / soils[8]
    assert np.corrcoef(clay, ratio)[0, 1] < -0.95


def test_moisture_darkens_every_band_and_the_swir_most():
    soil = dry_soil(np.array(15.0), np.array(24.0), np.array(0.0))
    wet = moist(soil, np.array(0.6))
    loss = 1 - wet / soil
    assert np.all(loss > 0.2)
    assert loss[9] > loss[8] > loss[2]


def test_special_surfaces():
    assert np.ptp(ROCK) < 0.15 and ROCK.min() > 0.3, "bright and flat"
    assert WATER[6] < 0.02 and WATER[9] < 0.01
    assert SNOW[:4].min() > 0.7 and SNOW[8] < 0.15
