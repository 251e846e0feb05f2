"""Temporal reductions on tiny arrays with known answers: median, mean, geometric median and counts."""

import numpy as np
import pytest

from baresoil.config import CompositeConfig
from baresoil.kernels import temporal
from baresoil.kernels.temporal import valid_counts

DEFAULTS = CompositeConfig()


def temporal_composite(R, valid, stat, **given):
    """The kernel with the config's defaults, but for ``given``."""
    settings = {"min_valid": DEFAULTS.min_valid_obs, "max_iterations": DEFAULTS.geomedian_max_iterations,
                "tolerance": DEFAULTS.geomedian_tolerance}  # fmt: skip
    return temporal.temporal_composite(R, valid, stat, **{**settings, **given})


def geometric_median(X):
    return temporal.geometric_median(X, DEFAULTS.geomedian_max_iterations, DEFAULTS.geomedian_tolerance)


def _series(*values):
    """One band, one pixel: (band=1, time, pixel=1)."""
    return np.array(values, dtype=np.float32)[None, :, None]


def test_median_of_an_odd_and_an_even_count():
    R = _series(0.1, 0.5, 0.2, 0.9)
    valid = np.array([True, True, True, False])[:, None]
    assert temporal_composite(R, valid, "median")[0, 0] == pytest.approx(0.2)
    valid_all = np.ones((4, 1), bool)
    # an even count: the mean of the two middle values, as numpy, xarray and openEO take it
    assert temporal_composite(R, valid_all, "median")[0, 0] == pytest.approx((0.2 + 0.5) / 2)


def test_mean_ignores_invalid_observations_whatever_their_value():
    R = _series(0.1, 100.0, 0.3)
    valid = np.array([True, False, True])[:, None]
    assert temporal_composite(R, valid, "mean")[0, 0] == pytest.approx(0.2)


def test_counts_and_nodata_where_no_valid_observation():
    R = np.array([[[0.1, 0.2], [0.3, 0.4]]], dtype=np.float32)  # (band, time=2, pixel=2)
    valid = np.array([[True, False], [True, False]])
    np.testing.assert_array_equal(valid_counts(valid), [2, 0])
    for stat in ("median", "mean", "geomedian"):
        out = temporal_composite(R, valid, stat)
        assert out[0, 0] == pytest.approx(0.2)
        assert np.isnan(out[0, 1])


def test_min_valid_leaves_pixels_with_too_few_observations_nodata():
    R = np.array([[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]], dtype=np.float32)
    valid = np.array([[True, True], [True, False], [True, False]])
    out = temporal_composite(R, valid, "median", min_valid=2)
    assert out[0, 0] == pytest.approx(0.3)
    assert np.isnan(out[0, 1])


def test_each_band_is_reduced_on_its_own_by_median_and_mean():
    R = np.array([[0.1, 0.2, 0.9], [0.8, 0.3, 0.4]], dtype=np.float32)[:, :, None]  # (band=2, time=3, 1)
    valid = np.ones((3, 1), bool)
    np.testing.assert_allclose(temporal_composite(R, valid, "median")[:, 0], [0.2, 0.4], rtol=1e-6)
    np.testing.assert_allclose(temporal_composite(R, valid, "mean")[:, 0], [0.4, 0.5], rtol=1e-6)


def test_geometric_median_of_a_triangle_is_its_centroid():
    """The Fermat point of a triangle without an angle of 120° or more; equilateral: the centroid."""
    x = np.array([0.0, 1.0, 0.5]) * 0.1
    y = np.array([0.0, 0.0, np.sqrt(3) / 2]) * 0.1
    X = np.array([x, y], dtype=np.float32)[:, :, None]
    np.testing.assert_allclose(geometric_median(X)[:, 0], [0.05, 0.1 * np.sqrt(3) / 6], atol=1e-6)


def test_geometric_median_resists_an_outlier_that_moves_the_mean():
    """A unit square and one far point: by symmetry on the diagonal, at t = 1/2 + sqrt(3)/6, where the
    derivative of the summed distances, 2(2t-1)/sqrt(2t²-2t+1) - sqrt(2), vanishes."""
    points = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [100, 100]], dtype=np.float32).T * 0.01
    expected = (0.5 + np.sqrt(3) / 6) * 0.01
    out = temporal_composite(points[:, :, None], np.ones((5, 1), bool), "geomedian", tolerance=1e-9)
    np.testing.assert_allclose(out[:, 0], [expected, expected], atol=1e-6)
    mean = temporal_composite(points[:, :, None], np.ones((5, 1), bool), "mean")
    assert mean[0, 0] > 0.2  # the far point drags the mean twenty times further


def test_geometric_median_of_one_band_is_the_median():
    R = _series(0.1, 0.7, 0.3, 0.2, 0.5)
    assert temporal_composite(R, np.ones((5, 1), bool), "geomedian")[0, 0] == pytest.approx(0.3, abs=1e-5)


def test_geometric_median_skips_invalid_observations_and_handles_many_pixels():
    rng = np.random.default_rng(0)
    R = rng.uniform(0, 0.4, (4, 9, 50)).astype(np.float32)
    valid = rng.random((9, 50)) > 0.3
    out = temporal_composite(R, valid, "geomedian")
    for pixel in (0, 17, 49):
        alone = geometric_median(R[:, valid[:, pixel], pixel : pixel + 1])[:, 0]
        np.testing.assert_allclose(out[:, pixel], alone, atol=1e-5)


def test_unknown_statistic_is_refused():
    with pytest.raises(ValueError, match="unknown statistic 'max'"):
        temporal_composite(_series(0.1), np.ones((1, 1), bool), "max")
