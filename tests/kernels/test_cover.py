"""Soil, residue and green shares by unmixing, on tiny (band, time, pixel) arrays with known answers."""

import numpy as np
import pytest

from baresoil.catalog.layouts import REFLECTANCE_BANDS
from baresoil.config import SoilSuiteConfig
from baresoil.kernels import cover
from baresoil.kernels.cover import (
    BAND_ORDER,
    LIBRARY_NPV,
    LIBRARY_PV,
    MIN_ENDMEMBER_OBS,
    MOISTURE_DARKENING,
    SceneEndmembers,
    cover_fractions,
    mostly_soil,
    scene_endmembers,
    soil_reference,
)
from baresoil.products.soilsuite import _cover_screen

LOAM = np.array([0.075, 0.105, 0.14, 0.165, 0.185, 0.195, 0.205, 0.215, 0.30, 0.262], np.float32)
SAND = np.array([0.12, 0.17, 0.24, 0.27, 0.29, 0.30, 0.31, 0.32, 0.40, 0.36], np.float32)
SCENE = SceneEndmembers(pv=LIBRARY_PV, npv=LIBRARY_NPV)


def _mix(soil, s, r, g, moisture=0.0):
    return s * soil * (1 - MOISTURE_DARKENING * moisture) + r * LIBRARY_NPV + g * LIBRARY_PV


def _stack(*spectra_per_time):
    """(band, time, pixel) from lists (one per time) of spectra (one per pixel)."""
    per_time = [np.stack(per_pixel, axis=-1) for per_pixel in spectra_per_time]
    return np.stack(per_time, axis=1).astype(np.float32)


def test_soil_reference_takes_the_median_of_the_less_covered_half_not_the_extreme():
    # a thin cloud shadow the screens missed: darker, most in the SWIR1, so its NDTI is the lowest
    light = np.array([0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.74], np.float32)
    shadowed, straw = LOAM * light, _mix(LOAM, 0.5, 0.5, 0.0)
    dates = [shadowed, _mix(LOAM, 1, 0, 0), _mix(LOAM, 1, 0, 0, 0.1), _mix(LOAM, 1, 0, 0, 0.2), straw, straw]
    R = _stack(*[[x] for x in dates])
    tillage = cover.ndti(R[8, :, 0], R[9, :, 0])
    assert np.argsort(tillage)[:4].tolist() == [0, 1, 2, 3]  # shadow, then the soil from dry to wet
    soil = soil_reference(R, np.ones((6, 1), bool), k=2)
    # the lower half (3 dates), per band its median: the soil at moisture 0.1, not shadow and dry soil mixed
    np.testing.assert_allclose(soil[:, 0], _mix(LOAM, 1, 0, 0, 0.1), rtol=1e-5)


def test_soil_ndvi_ceiling_lies_halfway_to_the_blocks_canopy_and_keeps_red_soils():
    # an iron-rich soil: the red absorbed, NDVI about 0.38 bare
    red = LOAM.copy()
    red[2] = 0.09
    red[6] = 0.2
    R = _stack(*[[_mix(red, 1, 0, 0, m)] for m in (0.0, 0.1, 0.2, 0.3)])
    candidates = np.ones((4, 1), bool)
    bare_ndvi = float(np.median(cover.ndvi(R[2], R[6])))
    assert 0.35 < bare_ndvi < 0.4
    canopy = float(cover.ndvi(LIBRARY_PV[2], LIBRARY_PV[6]))
    ceiling = cover.soil_ndvi_ceiling(R, candidates, LIBRARY_PV)
    assert ceiling == pytest.approx((bare_ndvi + canopy) / 2, abs=1e-6)
    assert np.isfinite(soil_reference(R, candidates, max_ndvi=ceiling)).all()
    assert np.isnan(soil_reference(R, candidates, max_ndvi=cover.SOIL_MAX_NDVI)).all()  # a fixed 0.3 loses it
    nothing = cover.soil_ndvi_ceiling(R, np.zeros_like(candidates), LIBRARY_PV)
    assert nothing == cover.SOIL_MAX_NDVI  # no candidates: the fallback


def test_cover_screen_finds_a_red_soils_bare_dates():
    red = LOAM.copy()
    red[2] = 0.09
    red[6] = 0.2
    dates = [_mix(red, 1, 0, 0), _mix(red, 1, 0, 0, 0.3), _mix(red, 0.5, 0.5, 0), _mix(red, 0.2, 0, 0.8)]
    R = _stack(*[[x] for x in dates])
    valid = np.ones((4, 1), bool)
    candidates = np.array([[True], [True], [False], [False]])
    screened, _, soil_share = _cover_screen(R, valid, valid, candidates, SoilSuiteConfig())
    assert np.isfinite(soil_share).all()  # the pixel has a soil of its own, though it reads NDVI 0.38 bare
    assert screened[:, 0].tolist() == [True, True, False, False]


def test_soil_reference_takes_the_lowest_ndti_candidates():
    straw = _mix(LOAM, 0.5, 0.5, 0.0)
    R = _stack([LOAM, LOAM], [straw, straw], [LOAM * 0.9, straw], [straw, straw])
    candidates = np.array([[True, True], [True, True], [True, False], [True, True]])
    soil = soil_reference(R, candidates, k=2)
    # pixel 0: the two soil dates (NDTI of soil < straw), not the straw ones
    np.testing.assert_allclose(soil[:, 0], (LOAM + 0.9 * LOAM) / 2, rtol=1e-5)
    # pixel 1: one soil and three straw candidates -> soil and one straw
    np.testing.assert_allclose(soil[:, 1], (LOAM + straw) / 2, rtol=1e-5)
    one = soil_reference(R, np.array([[True, False], [False, False], [False, False], [False, True]]), k=2)
    assert np.isnan(one).all()  # fewer than k candidates: no reference


def test_cover_fractions_recover_known_shares_of_each_pixels_own_soil(monkeypatch):
    cases = [(1.0, 0.0, 0.0, 0.0), (0.6, 0.4, 0.0, 0.3), (0.8, 0.0, 0.2, 0.0), (0.97, 0.0, 0.03, 0.6)]
    R = _stack(*[[_mix(LOAM, s, r, g, m), _mix(SAND, s, r, g, m)] for s, r, g, m in cases])
    R[:, 0, 1] = np.nan  # a gap
    soil = np.stack([LOAM, SAND], axis=-1)
    shares = cover_fractions(R, soil, SCENE)
    for t, (s, r, g, _) in enumerate(cases):
        for p in range(2):
            if t == 0 and p == 1:
                assert np.isnan(shares[:, t, p]).all()
                continue
            np.testing.assert_allclose(shares[:, t, p], [s, r, g], atol=1e-4)
    monkeypatch.setattr(cover, "PIXEL_BATCH", 1)  # pixels one at a time: the same answer
    np.testing.assert_array_equal(cover_fractions(R, soil, SCENE), shares)
    no_soil = cover_fractions(R, np.full_like(soil, np.nan), SCENE)
    assert np.isnan(no_soil).all()


def test_mostly_soil_keeps_wet_and_lightly_green_soil_and_drops_straw_and_crop():
    soil = LOAM[:, None]
    R = _stack([_mix(LOAM, 1, 0, 0, 0.8)], [_mix(LOAM, 0.97, 0, 0.03)], [_mix(LOAM, 0.55, 0.45, 0)],
               [_mix(LOAM, 0.9, 0, 0.1)], [_mix(LOAM, 0.75, 0.25, 0)])  # fmt: skip
    bare = mostly_soil(cover_fractions(R, soil, SCENE), min_soil=0.7, max_green=0.05)
    assert bare[:, 0].tolist() == [True, True, False, False, True]


def test_scene_endmembers_take_the_extremes_and_fall_back_to_the_library():
    rng = np.random.default_rng(0)
    n = 4000
    s = rng.uniform(0, 1, n)
    r = rng.uniform(0, 1, n) * (1 - s)
    g = 1 - s - r
    pure_npv = np.array([0.08, 0.11, 0.14, 0.17, 0.21, 0.24, 0.27, 0.29, 0.38, 0.28], np.float32)
    pure_pv = np.array([0.02, 0.05, 0.025, 0.08, 0.24, 0.32, 0.37, 0.39, 0.19, 0.09], np.float32)
    s[:200], r[:200], g[:200] = 0, 1, 0  # some pure residue and some pure canopy in the block
    s[200:400], r[200:400], g[200:400] = 0, 0, 1
    R = (s * LOAM[:, None] + r * pure_npv[:, None] + g * pure_pv[:, None])[:, None, :].astype(np.float32)
    valid = np.ones((1, n), bool)
    scene = scene_endmembers(R, valid, quantile=0.95)
    np.testing.assert_allclose(scene.pv, pure_pv, atol=2e-3)
    np.testing.assert_allclose(scene.npv, pure_npv, atol=2e-3)
    few = np.zeros_like(valid)
    few[:, 400 : 400 + 2 * MIN_ENDMEMBER_OBS] = True  # mixtures only: too few at the extremes
    fallback = scene_endmembers(R, few, quantile=0.95)
    np.testing.assert_array_equal(fallback.pv, LIBRARY_PV)
    np.testing.assert_array_equal(fallback.npv, LIBRARY_NPV)


def test_a_block_without_residue_takes_no_soil_for_residue():
    # every observation is bare soil (its NDTI varying a little): the highest NDTI is the soil's own
    n = 30_000
    R = np.repeat(LOAM[:, None, None], n, axis=2) * np.linspace(0.9, 1.1, n, dtype=np.float32)[None, None]
    R[9] *= np.linspace(1.02, 0.98, n, dtype=np.float32)[None]
    valid = np.ones((1, n), bool)
    assert float(cover.ndti(*scene_endmembers(R, valid).npv[8:10])) < 0.1  # unconstrained: soil taken
    soil_ndti = float(cover.ndti(LOAM[8], LOAM[9]))
    np.testing.assert_array_equal(scene_endmembers(R, valid, npv_min_ndti=soil_ndti + 0.03).npv, LIBRARY_NPV)
    # and the cover screen keeps such a block's bare soil bare
    two_dates = R.reshape(10, 2, n // 2)  # each pixel seen bare twice: a soil of its own
    both = np.ones((2, n // 2), bool)
    screened, _, soil_share = _cover_screen(two_dates, both, both, both, SoilSuiteConfig())
    assert screened.all() and np.nanmin(soil_share) > 0.9


def test_cover_screen_rejudges_candidates_where_the_pixel_has_a_soil():
    # pixel 0 has soil dates; its straw date passed the rule, its lightly green soil date did not
    soil, wet, straw, lightly_green = (_mix(LOAM, 1, 0, 0), _mix(LOAM, 1, 0, 0, 0.5), _mix(LOAM, 0.5, 0.5, 0),
                                       _mix(LOAM, 0.97, 0, 0.03))  # fmt: skip
    R = _stack(*[[x, LIBRARY_PV] for x in (soil, wet, straw, lightly_green)])
    valid = np.ones((4, 2), bool)
    candidates = np.array([[True, False], [True, False], [True, False], [False, True]])
    screened, own, soil_share = _cover_screen(R, valid, valid, candidates, SoilSuiteConfig())
    assert screened[:, 0].tolist() == [True, True, False, True]
    assert screened[:, 1].tolist() == [False, False, False, True]  # no soil of its own: the rule stands
    np.testing.assert_allclose(own[:, 3, 0], LOAM, atol=2e-3)  # the green taken out of the soil's spectrum
    assert np.isnan(own[:, :, 1]).all()
    assert soil_share[0, 0] == pytest.approx(1.0, abs=0.01)
    assert soil_share[2, 0] == pytest.approx(0.5, abs=0.05)  # the straw date


def test_band_order_is_the_cubes():
    assert tuple(BAND_ORDER) == tuple(REFLECTANCE_BANDS)


def test_own_soil_takes_the_residue_and_green_out_and_keeps_the_moisture():
    """A bare observation with some green or straw: the soil's own spectrum, wet as it was that day."""
    cases = [(1.0, 0.0, 0.0, 0.0), (0.8, 0.0, 0.2, 0.3), (0.75, 0.25, 0.0, 0.0), (0.8, 0.1, 0.1, 0.6)]
    R = _stack(*[[_mix(LOAM, s, r, g, m), _mix(SAND, s, r, g, m)] for s, r, g, m in cases])
    soil = np.stack([LOAM, SAND], axis=-1)
    abundances = cover.unmix(R, soil, SCENE)
    own = cover.own_soil(R, abundances, SCENE)
    for t, (_, _, _, m) in enumerate(cases):
        for p, spectrum in enumerate((LOAM, SAND)):
            np.testing.assert_allclose(own[:, t, p], spectrum * (1 - MOISTURE_DARKENING * m), atol=2e-3)
    mixed = R[:, 1, 0]
    assert np.abs(mixed - LOAM).max() > 0.03, "the mixture itself is far from the soil's spectrum"
    assert np.isnan(cover.own_soil(R, cover.unmix(R, np.full_like(soil, np.nan), SCENE), SCENE)).all()
