"""The Whittaker smoother and its posterior band, against dense linear algebra and known curves."""

import numpy as np
import pytest

from baresoil.kernels.smooth import quantile_band, smooth_pixels, whittaker_band


def _dense(y, w, lam, s2):
    n = len(y)
    D = np.diff(np.eye(n), n=2, axis=0)
    A = np.diag(w) + lam * D.T @ D
    z = np.linalg.solve(A, w * np.where(w > 0, y, 0.0))
    return z, np.sqrt(s2 * np.diag(np.linalg.inv(A)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_dense_solution_and_inverse(seed):
    rng = np.random.default_rng(seed)
    n = 60
    y = rng.normal(size=n)
    w = (rng.random(n) < 0.3).astype(float) * rng.uniform(0.5, 2, n)
    w[[0, 30]] = 1.0
    z, std = whittaker_band(y, w, 50.0, 0.01)
    z_ref, std_ref = _dense(y, w, 50.0, 0.01)
    np.testing.assert_allclose(z, z_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(std, std_ref, rtol=1e-8)


def test_band_widens_in_a_gap_and_narrows_at_observations():
    n = 120
    days = np.arange(n)
    truth = 0.2 + 0.6 * np.exp(-(((days - 60) / 20.0) ** 2))
    w = np.zeros(n)
    w[::5] = 1.0
    w[40:80] = 0.0  # a cloudy spell of 40 days
    _, std = whittaker_band(truth, w, 20.0, 0.02**2)
    assert std[60] > 3 * std[20]  # middle of the gap vs an observed stretch
    assert abs(40 + int(np.argmax(std[40:80])) - 59) <= 2  # widest in the middle of the gap


def test_band_is_calibrated_on_noisy_seasons():
    """About 80 % of true daily values lie inside q10-q90 when noise and prior match."""
    rng = np.random.default_rng(7)
    n, n_pix = 365, 300
    days = np.arange(n)[:, None]
    peak = rng.uniform(150, 220, n_pix)
    truth = 0.15 + 0.7 / (1 + np.exp(-(days - peak + 40) / 8)) - 0.7 / (1 + np.exp(-(days - peak - 40) / 8))
    w = (rng.random((n, n_pix)) < 0.15).astype(float)
    noise = 0.03
    y = truth + rng.normal(0, noise, (n, n_pix))
    mean, std = smooth_pixels(y, w, 30.0, np.full(n_pix, noise**2))
    q10, _, q90 = quantile_band(mean, std)
    inside = np.mean((truth >= q10) & (truth <= q90))
    assert 0.7 <= inside <= 0.95, inside
    assert np.abs(mean - truth).mean() < 0.03


def test_too_few_observations_give_nan():
    y = np.zeros((30, 2))
    w = np.zeros((30, 2))
    w[[3, 10, 20], 0] = 1
    w[[3, 10], 1] = 1
    mean, _ = smooth_pixels(y, w, 10.0, np.array([0.01, 0.01]))
    assert np.isfinite(mean[:, 0]).all() and np.isnan(mean[:, 1]).all()
