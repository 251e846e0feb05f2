"""Daily gap-filled time series with an uncertainty band: a Whittaker smoother read as a posterior.

The Whittaker smoother finds the daily series ``z`` minimising

    sum_i w_i (y_i - z_i)^2 + lam * sum_t (z_t - 2 z_{t-1} + z_{t-2})^2

which is the posterior mean of ``z`` under a Gaussian second-difference prior
of precision ``lam / s2`` and observation noise of variance ``s2 / w_i``.  The
same posterior gives each day's variance, ``s2 * diag((W + lam D'D)^-1)``: small
on observed days, growing through a cloudy gap, which is exactly the spread a
confidence in days needs (q10 and q90 are the mean -/+ 1.2816 standard deviations).

``A = W + lam D'D`` is pentadiagonal, so one pixel costs O(days): a banded
Cholesky factorisation, two triangular solves, and the band of the inverse by
the Takahashi recursion (only the diagonal and two off-diagonals are needed).
The kernels run over (day, pixel) arrays with numba; no xarray, no I/O.
"""

from __future__ import annotations

import numba
import numpy as np

Z90 = 1.2815515655446004
"""Standard normal quantile of 0.90: q10/q90 lie this many standard deviations from the mean."""


@numba.njit(cache=True)
def _penalty_bands(n: int, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Diagonal and the first two upper diagonals of lam * D'D (second differences)."""
    d0 = np.zeros(n)
    d1 = np.zeros(n)
    d2 = np.zeros(n)
    for k in range(n - 2):  # each second difference touches days k, k+1, k+2 with 1, -2, 1
        coef = (1.0, -2.0, 1.0)
        for a in range(3):
            d0[k + a] += lam * coef[a] * coef[a]
            if a < 2:
                d1[k + a] += lam * coef[a] * coef[a + 1]
        d2[k] += lam * coef[0] * coef[2]
    return d0, d1, d2


@numba.njit(cache=True)
def _cholesky5(d0: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A = L L' for a symmetric pentadiagonal A; returns L's diagonal and two sub-diagonals."""
    n = d0.shape[0]
    l0 = np.zeros(n)
    l1 = np.zeros(n)  # l1[i] = L[i+1, i]
    l2 = np.zeros(n)  # l2[i] = L[i+2, i]
    for i in range(n):
        s = d0[i]
        if i >= 1:
            s -= l1[i - 1] ** 2
        if i >= 2:
            s -= l2[i - 2] ** 2
        l0[i] = np.sqrt(s)
        if i + 1 < n:
            t = d1[i]
            if i >= 1:
                t -= l1[i - 1] * l2[i - 1]
            l1[i] = t / l0[i]
        if i + 2 < n:
            l2[i] = d2[i] / l0[i]
    return l0, l1, l2


@numba.njit(cache=True)
def _solve5(l0: np.ndarray, l1: np.ndarray, l2: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = b.shape[0]
    y = np.zeros(n)
    for i in range(n):  # L y = b
        s = b[i]
        if i >= 1:
            s -= l1[i - 1] * y[i - 1]
        if i >= 2:
            s -= l2[i - 2] * y[i - 2]
        y[i] = s / l0[i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):  # L' x = y
        s = y[i]
        if i + 1 < n:
            s -= l1[i] * x[i + 1]
        if i + 2 < n:
            s -= l2[i] * x[i + 2]
        x[i] = s / l0[i]
    return x


@numba.njit(cache=True)
def _inverse_diagonal5(l0: np.ndarray, l1: np.ndarray, l2: np.ndarray) -> np.ndarray:
    """diag(A^-1) from A's banded Cholesky factor (Takahashi recursion, O(n))."""
    n = l0.shape[0]
    s0 = np.zeros(n)  # S[i, i]
    s1 = np.zeros(n)  # S[i, i+1]
    s2 = np.zeros(n)  # S[i, i+2]
    for i in range(n - 1, -1, -1):
        a1 = l1[i] / l0[i] if i + 1 < n else 0.0
        a2 = l2[i] / l0[i] if i + 2 < n else 0.0
        # S[i, j] for j = i+2, i+1 from the rows below, then the diagonal
        if i + 2 < n:
            s2[i] = -(a1 * s1[i + 1] + a2 * s0[i + 2])
        if i + 1 < n:
            s_i1 = -(a1 * s0[i + 1] + (a2 * s1[i + 1] if i + 2 < n else 0.0))
            s1[i] = s_i1
        s0[i] = 1.0 / l0[i] ** 2 - a1 * s1[i] - a2 * s2[i]
    return s0


@numba.njit(cache=True)
def whittaker_band(y: np.ndarray, w: np.ndarray, lam: float, s2: float) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed daily series and its standard deviation for one pixel.

    ``y`` holds the observations on a daily grid (any value where ``w`` is 0),
    ``w`` the observation weights (0 for days without one), ``s2`` the noise
    variance of an observation of weight 1.  Returns (mean, std) per day.
    """
    n = y.shape[0]
    d0, d1, d2 = _penalty_bands(n, lam)
    for i in range(n):
        d0[i] += w[i]
    l0, l1, l2 = _cholesky5(d0, d1, d2)
    z = _solve5(l0, l1, l2, w * np.where(w > 0, y, 0.0))
    std = np.sqrt(s2 * _inverse_diagonal5(l0, l1, l2))
    return z, std


@numba.njit(cache=True)
def smooth_pixels(y: np.ndarray, w: np.ndarray, lam: float, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`whittaker_band` over (day, pixel) arrays; ``s2`` per pixel. NaN where a pixel has < 3 obs."""
    n_day, n_pix = y.shape
    mean = np.full((n_day, n_pix), np.nan, dtype=np.float32)
    std = np.full((n_day, n_pix), np.nan, dtype=np.float32)
    for p in range(n_pix):
        if (w[:, p] > 0).sum() < 3:
            continue
        z, s = whittaker_band(y[:, p], w[:, p], lam, s2[p])
        mean[:, p] = z
        std[:, p] = s
    return mean, std


@numba.njit(cache=True)
def _drop_spikes(y: np.ndarray, w: np.ndarray, depth: float, max_gap: float, soil: float) -> np.ndarray:
    """Weights with isolated dips removed: an observation lower than both neighbours by ``depth``.

    Undetected clouds, haze and shadows pull NDVI down on single dates; a harvest
    or a tillage also drops it, but the following observations stay low, so only
    isolated dips are removed.  In a cloudy autumn the one clear view of a
    harvested or ploughed field may be isolated too, the next view coming after
    the following crop (or volunteers) has grown: a dip down to the ``soil`` level
    whose next observation is more than ``max_gap`` days later is kept.
    """
    out = w.copy()
    idx = np.flatnonzero(w > 0)
    for k in range(1, idx.size - 1):
        i = idx[k]
        if idx[k + 1] - i > max_gap and y[i] <= soil:
            continue  # time enough to harvest or plough and to grow again: not a spike
        if y[i] < y[idx[k - 1]] - depth and y[i] < y[idx[k + 1]] - depth:
            out[i] = 0.0
    return out


@numba.njit(cache=True)
def used_weights(y: np.ndarray, w: np.ndarray, spike: float, spike_gap: float, soil: float) -> np.ndarray:
    """The weights :func:`fit_band` fits with: ``w`` without the isolated dips of primary observations
    (see :func:`_drop_spikes`; none dropped when ``spike`` is 0)."""
    primary = np.where(w >= 1.0, w, 0.0)
    if spike > 0:
        primary = _drop_spikes(y, primary, spike, spike_gap, soil)
    return primary + np.where(w < 1.0, w, 0.0)


@numba.njit(cache=True)
def fit_band(
    y: np.ndarray,
    w: np.ndarray,
    lam: float,
    noise_floor: float,
    spike: float,
    spike_gap: float = 0.0,
    soil: float = -np.inf,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Daily posterior mean and standard deviation of one pixel, with its noise estimated from the data.

    Observations of weight 1 are the primary ones; smaller weights mark
    secondary observations whose noise variance is ``1 / weight`` times theirs
    (e.g. NDVI predicted from Sentinel-1).  Isolated dips of primary
    observations deeper than ``spike`` are dropped first (but not a dip to the
    ``soil`` level followed by more than ``spike_gap`` days without observation:
    a harvest or tillage seen once); the noise standard
    deviation is the robust spread (1.4826 MAD) of the primary residuals, never
    below ``noise_floor``.  The mean never goes below the lowest primary observation
    used.  Returns (mean, std, number of primary observations used).
    """
    n = y.shape[0]
    weights = used_weights(y, w, spike, spike_gap, soil)
    d0, d1, d2 = _penalty_bands(n, lam)
    for i in range(n):
        d0[i] += weights[i]
    l0, l1, l2 = _cholesky5(d0, d1, d2)
    z = _solve5(l0, l1, l2, weights * np.where(weights > 0, y, 0.0))
    used = np.flatnonzero(weights >= 1.0)
    residual = np.abs(y[used] - z[used])
    sigma = max(1.4826 * np.median(residual), noise_floor) if used.size else noise_floor
    std = sigma * np.sqrt(_inverse_diagonal5(l0, l1, l2))
    if used.size:
        # after a steep fall into a cloudy gap the curve carries its slope on, below anything the pixel
        # ever showed: a harvest's level would then be read off an undershoot weeks later
        z = np.maximum(z, y[used].min())
    return z, std, used.size


def quantile_band(mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q10, q50, q90 of the daily posterior (Gaussian)."""
    return mean - Z90 * std, mean, mean + Z90 * std
