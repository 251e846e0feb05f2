"""Indices and bare-surface rules on hand-made reflectances with known answers."""

import numpy as np
import pytest

from baresoil.kernels.bare import bare_geos3, bare_periods, bare_pvir2, bare_sen4cap, blue_outliers
from baresoil.kernels.composite import ci95, masked_median, masked_stats
from baresoil.kernels.indices import mndwi, nbr, nbr2, ndvi, pvir2, vnsir

# B02 B03 B04 B08 B11 B12 of three surfaces
SOIL = dict(B02=0.08, B03=0.11, B04=0.16, B08=0.24, B11=0.30, B12=0.26)
STRAW = dict(B02=0.08, B03=0.11, B04=0.14, B08=0.27, B11=0.38, B12=0.28)
CANOPY = dict(B02=0.03, B03=0.06, B04=0.03, B08=0.38, B11=0.20, B12=0.10)


def test_indices_by_hand():
    assert ndvi(np.float32(0.1), np.float32(0.3)) == pytest.approx(0.5)
    assert nbr(np.float32(0.3), np.float32(0.1)) == pytest.approx(0.5)
    assert nbr2(np.float32(0.3), np.float32(0.2)) == pytest.approx(0.2)
    soil = pvir2(SOIL["B04"], SOIL["B08"], SOIL["B12"])
    assert soil == pytest.approx(0.08 / 0.40 + (-0.02) / 0.50)
    assert vnsir(0.1, 0.1, 0.1, 0.3, 0.2) == pytest.approx(1 - ((2 * 0.1 - 0.1 - 0.1) + 3 * (0.2 - 0.3)))
    assert mndwi(0.05, 0.01) > 0
    assert np.isnan(ndvi(np.float32(0.0), np.float32(0.0)))


def test_pvir2_separates_soil_from_straw_and_canopy():
    values = {name: pvir2(s["B04"], s["B08"], s["B12"]) for name, s in
              (("soil", SOIL), ("straw", STRAW), ("canopy", CANOPY))}  # fmt: skip
    assert values["soil"] < 0.2 < values["straw"] < values["canopy"]
    assert bare_pvir2(SOIL["B04"], SOIL["B08"], SOIL["B12"], 0.2)
    assert not bare_pvir2(STRAW["B04"], STRAW["B08"], STRAW["B12"], 0.2)
    # a per-pixel threshold array
    b04 = np.array([0.16, 0.16])
    out = bare_pvir2(b04, np.array([0.24, 0.24]), np.array([0.26, 0.26]), np.array([0.1, 0.2]))
    assert out.tolist() == [False, True]


def test_geos3_and_sen4cap_rules():
    def args(s, keys):
        return [np.float32(s[k]) for k in keys]

    geos3 = ("B02", "B03", "B04", "B08", "B11", "B12")
    assert bare_geos3(*args(SOIL, geos3))
    assert not bare_geos3(*args(CANOPY, geos3))
    assert not bare_geos3(*args(STRAW, geos3))  # NBR2 of straw is 0.15 > 0.10
    s4c = ("B04", "B08", "B11", "B12")
    assert not bare_sen4cap(*args(SOIL, s4c))  # NDVI 0.2 is not < 0.15
    darker_red = dict(SOIL, B04=0.20)
    assert bare_sen4cap(*args(darker_red, s4c))
    assert not bare_sen4cap(*args(dict(STRAW, B04=0.24), s4c))  # NDTI of straw > 0.10


def test_rules_are_false_where_there_is_no_observation():
    nan = np.float32(np.nan)
    assert not bare_pvir2(nan, nan, nan, 0.2)
    assert not bare_sen4cap(nan, nan, nan, nan)
    assert not bare_geos3(nan, nan, nan, nan, nan, nan)


SCMAP = (3.0, 0.008)
"""SCMaP's blue outlier filter: 3 robust standard deviations, at least 80 DN."""


def test_blue_outlier_filter():
    b02 = np.array(
        [[0.080, 0.080], [0.082, 0.080], [0.079, 0.080], [0.081, 0.100], [0.095, 0.086], [0.080, 0.5]]
    )
    candidates = np.ones_like(b02, dtype=bool)
    candidates[5, 0] = False  # not a candidate: never an outlier
    out = blue_outliers(b02, candidates, *SCMAP)
    # pixel 0: median 0.080, MAD 0.001 -> limit max(0.0844, 0.088): 0.095 is out
    assert out[:, 0].tolist() == [False, False, False, False, True, False]
    # pixel 1: median 0.080, MAD 0 -> limit 0.088: 0.100 and 0.5 are out, 0.086 stays
    assert out[:, 1].tolist() == [False, False, False, True, False, True]
    assert not blue_outliers(b02, np.zeros_like(candidates), *SCMAP).any()


def test_a_drier_soil_brighter_in_every_band_is_not_haze():
    """Observation 4 is 20 % brighter in blue than the pixel's usual: haze adds more in the blue
    than in the SWIR (pixel 0), a drier soil more in the SWIR (pixel 1)."""
    b02 = np.array([[0.080, 0.080], [0.082, 0.082], [0.079, 0.079], [0.081, 0.081], [0.096, 0.096]])
    swir = np.array([[0.25, 0.25], [0.25, 0.25], [0.26, 0.26], [0.25, 0.25], [0.26, 0.33]])
    candidates = np.ones_like(b02, dtype=bool)
    assert blue_outliers(b02, candidates, *SCMAP)[4].tolist() == [True, True]  # SCMaP's test alone
    assert blue_outliers(b02, candidates, *SCMAP, swir=swir)[4].tolist() == [True, False]
    assert not blue_outliers(b02, candidates, *SCMAP, swir=swir)[:4].any()


def test_composite_with_gaps_and_ci95():
    values = np.array([[[0.1, 0.3], [0.2, np.nan], [0.3, 0.3], [9.9, 0.3]]])  # (band, time, pixel)
    mask = np.array([[True, True], [True, True], [True, False], [False, False]])
    mean, std, count = masked_stats(values, mask)
    assert count.tolist() == [3, 1]
    np.testing.assert_allclose(mean[0], [0.2, 0.3], rtol=1e-6)
    np.testing.assert_allclose(std[0, 0], 0.1, rtol=1e-5)  # sample std (n - 1)
    assert np.isnan(std[0, 1])  # one observation: no spread
    np.testing.assert_allclose(ci95(std, count)[0, 0], 1.96 * 0.1 / np.sqrt(3), rtol=1e-5)
    empty_mean, _, empty_count = masked_stats(values, np.zeros_like(mask))
    assert np.isnan(empty_mean).all() and (empty_count == 0).all()


def test_masked_median_skips_masked_and_missing_observations():
    values = np.array([[1.0, 5.0, np.nan], [3.0, np.nan, 2.0], [2.0, 7.0, 9.0], [100.0, 6.0, 4.0]])
    mask = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 0], [0, 1, 0]], dtype=bool)
    # pixel 0: 1, 3, 2 (100 masked); pixel 1: 5, 7, 6 (NaN skipped), an even count would average;
    # pixel 2: nothing selected
    median = masked_median(values, mask)
    assert median[:2].tolist() == [2.0, 6.0] and np.isnan(median[2])
    even = masked_median(values[:2, :1], mask[:2, :1])
    assert even.tolist() == [2.0]
    cube = values.reshape(4, 1, 3)  # any shape with time first
    np.testing.assert_array_equal(masked_median(cube, mask.reshape(4, 1, 3)), median.reshape(1, 3))


def test_bare_periods_count_runs_across_cloudy_gaps():
    # pixel 0: bare, cloud, bare, veg, bare -> 2 periods; pixel 1: never bare; pixel 2: bare at the end
    bare = np.array([[1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1]], dtype=bool)
    valid = np.array([[1, 1, 1], [0, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]], dtype=bool)
    doy = np.array([10, 20, 30, 40, 50], dtype=np.float32)
    first, last, count = bare_periods(bare, valid, doy)
    assert count.tolist() == [2, 0, 1]
    assert first[0] == 10 and last[0] == 50 and first[2] == 50
    assert np.isnan(first[1]) and np.isnan(last[1])


def test_dark_outliers_drop_missed_shadows_but_keep_wet_soil():
    from baresoil.kernels.bare import dark_outliers

    # pixel 0: dry 0.30, wet 0.22 (27 % darker), shadow 0.10; pixel 1: no candidate
    brightness = np.array([[0.30, 0.3], [0.31, 0.3], [0.22, 0.3], [0.10, 0.3], [0.29, 0.3]])
    candidates = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [1, 0]], dtype=bool)
    out = dark_outliers(brightness, candidates, ratio=0.6)
    assert out[:, 0].tolist() == [False, False, False, True, False]
    assert not out[:, 1].any()
    assert not dark_outliers(brightness, candidates, ratio=0).any()


def test_pixel_threshold_follows_each_soil_and_is_clipped():
    from baresoil.kernels.threshold import pixel_pvir2_threshold

    # columns: a dark soil (bare level 0.05), a red soil (0.15), grassland (never below 0.5),
    # a pixel with too few observations
    pv = np.array([
        [0.05, 0.15, 0.60, 0.1],
        [0.06, 0.16, 0.55, np.nan],
        [0.07, 0.17, 0.70, np.nan],
        [0.60, 0.80, 0.65, np.nan],
        [0.30, 0.35, 0.90, np.nan],
    ])  # fmt: skip
    eligible = np.isfinite(pv)
    thr = pixel_pvir2_threshold(pv, eligible, k=2, delta=0.08, low=0.1, high=0.25, fallback=0.2)
    np.testing.assert_allclose(thr, [0.15, 0.25, 0.25, 0.2], atol=1e-6)
    # with the thresholds, the red soil's bare dates all count and the grassland stays vegetated
    assert (pv[:3, 1] <= thr[1]).all() and not (pv[:, 2] <= thr[2]).any()
