"""Per-pixel temporal reductions of reflectance: median, mean and geometric median, with counts.

Arrays are (band, time, pixel) reflectance and a (time, pixel) mask of the valid
observations; every reduction returns (band, pixel) float32, NaN where a pixel
has fewer than ``min_valid`` valid observations, and the counts.

* ``median`` and ``mean`` reduce each band on its own (the median of an even count
  is the mean of the two middle values, as numpy's, xarray's and openEO's are);
* ``geomedian`` is the geometric median of the spectra (the point of band space
  with the least summed Euclidean distance to the observations): a spectrum the
  bands agree on, robust to the clouds and shadows the mask missed, as the
  Geoscience Australia / Digital Earth geomedian composites, by the modified
  Weiszfeld algorithm of Vardi and Zhang (2000) in numba.  Why not the libraries:
  see ``docs/composite/algorithm.md``.
"""

from __future__ import annotations

import typing
import warnings
from typing import Literal

import numba
import numpy as np

Statistic = Literal["median", "mean", "geomedian"]
"""The per-pixel reductions (the config's ``composite.stat`` takes its choices from here)."""
STATS: tuple[str, ...] = typing.get_args(Statistic)


def valid_counts(valid: np.ndarray) -> np.ndarray:
    """Valid observations per pixel: (time, pixel) bool -> (pixel,) float32."""
    return valid.sum(axis=0).astype(np.float32)


def temporal_composite(
    R: np.ndarray,
    valid: np.ndarray,
    stat: str,
    min_valid: int,
    max_iterations: int,
    tolerance: float,
) -> np.ndarray:
    """The composite of ``R`` (band, time, pixel) over its ``valid`` (time, pixel) observations."""
    if stat not in STATS:
        raise ValueError(f"unknown statistic {stat!r}; choose one of {', '.join(STATS)}")
    n_band, _, n_pixel = R.shape
    out = np.full((n_band, n_pixel), np.nan, np.float32)
    count = valid.sum(axis=0)
    enough = count >= max(min_valid, 1)
    if not enough.any():
        return out
    masked = np.where(valid[None, :, enough], R[:, :, enough], np.nan).astype(np.float32)
    if stat == "median":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[:, enough] = np.nanmedian(masked, axis=1)
    elif stat == "mean":
        out[:, enough] = np.nansum(masked, axis=1, dtype=np.float64) / count[enough]
    else:
        out[:, enough] = geometric_median(masked, max_iterations, tolerance)
    return out


def geometric_median(X: np.ndarray, max_iterations: int, tolerance: float) -> np.ndarray:
    """Geometric median of each pixel's spectra: X (band, time, pixel), NaN for a missing observation
    (all its bands), -> (band, pixel) float32, NaN where a pixel has no observation."""
    valid = np.ascontiguousarray(np.isfinite(X).all(axis=0).T)
    out = np.full((X.shape[2], X.shape[0]), np.nan, np.float32)
    # (pixel, time, band): each pixel's spectra side by side in memory
    spectra = np.ascontiguousarray(X.transpose(2, 1, 0), np.float64)
    _weiszfeld(spectra, valid, max_iterations, tolerance, out)
    return out.T


@numba.njit(cache=True, nogil=True)
def _weiszfeld(
    X: np.ndarray, valid: np.ndarray, max_iterations: int, tolerance: float, out: np.ndarray
) -> None:  # pragma: no cover - numba
    """Vardi and Zhang's modified Weiszfeld iterations per pixel, from the mean of its observations.

    Each pixel starts afresh (no warm start from its neighbour), so a pixel's value does not depend on
    the chunk it is computed in.  Two observations give their midpoint (any point between them is a
    geometric median; the mean is where the iterations start and stay).  Where the median is one of
    the observations, Weiszfeld's iterations approach it ever more slowly and stop short of it: the
    observation nearest the last estimate is tested for optimality (the unit vectors from the other
    observations to it sum to less than its multiplicity) and taken when it is the median.
    """
    n_pixel, n_time, n_band = X.shape
    y = np.empty(n_band)
    numerator = np.empty(n_band)
    for p in range(n_pixel):
        n = 0
        y[:] = 0.0
        for t in range(n_time):
            if valid[p, t]:
                n += 1
                for b in range(n_band):
                    y[b] += X[p, t, b]
        if n == 0:
            continue
        y /= n
        for _ in range(max_iterations):
            numerator[:] = 0.0
            weights = 0.0
            coinciding = 0
            for t in range(n_time):
                if not valid[p, t]:
                    continue
                distance = 0.0
                for b in range(n_band):
                    distance += (X[p, t, b] - y[b]) ** 2
                distance = np.sqrt(distance)
                if distance < 1e-12:
                    coinciding += 1
                    continue
                weights += 1.0 / distance
                for b in range(n_band):
                    numerator[b] += X[p, t, b] / distance
            if weights == 0.0:
                break
            step = 0.0
            pull = 0.0  # |R|: the resultant of the unit vectors towards the other observations
            for b in range(n_band):
                pull += ((numerator[b] / weights - y[b]) * weights) ** 2
            pull = np.sqrt(pull)
            keep = min(1.0, coinciding / pull) if pull > 0 else 1.0
            for b in range(n_band):
                moved = (1.0 - keep) * numerator[b] / weights + keep * y[b]
                step += (moved - y[b]) ** 2
                y[b] = moved
            if np.sqrt(step) < tolerance:
                break
        _snap_to_observation(X, valid, p, y)
        for b in range(n_band):
            out[p, b] = y[b]


@numba.njit(cache=True, nogil=True)
def _snap_to_observation(X: np.ndarray, valid: np.ndarray, p: int, y: np.ndarray) -> None:  # pragma: no cover
    """Replace ``y`` by the observation nearest to it when that observation is the geometric median."""
    _, n_time, n_band = X.shape
    nearest, best = -1, np.inf
    for t in range(n_time):
        if valid[p, t]:
            distance = 0.0
            for b in range(n_band):
                distance += (X[p, t, b] - y[b]) ** 2
            if distance < best:
                nearest, best = t, distance
    resultant = np.zeros(n_band)
    multiplicity = 0
    for t in range(n_time):
        if not valid[p, t]:
            continue
        distance = 0.0
        for b in range(n_band):
            distance += (X[p, nearest, b] - X[p, t, b]) ** 2
        distance = np.sqrt(distance)
        if distance < 1e-12:
            multiplicity += 1
            continue
        for b in range(n_band):
            resultant[b] += (X[p, nearest, b] - X[p, t, b]) / distance
    # strictly: where the pull equals the multiplicity (two observations, or collinear ones) the medians
    # form a segment, and the estimate already lies on it
    if np.sqrt((resultant**2).sum()) < multiplicity * (1.0 - 1e-9):
        for b in range(n_band):
            y[b] = X[p, nearest, b]
