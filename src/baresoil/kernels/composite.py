"""Temporal composites of the observations selected by a mask, over (time, pixel) arrays."""

from __future__ import annotations

import numba
import numpy as np

from . import parallel_kernel, pixel_stripes

CI95_Z = 1.96


@parallel_kernel
def masked_stats(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, sample standard deviation (n - 1) and count over time of the masked observations.

    ``values`` is (band, time, pixel) and ``mask`` (time, pixel); an observation
    counts where the mask is set and the value is finite.  One pass over the stack
    (Welford's update, pixels innermost), so no masked copy of it is made.  The mean is NaN
    without observations, the standard deviation below two; the count is that of band 0.
    """
    n_band, n_time, n_pix = values.shape
    mean = np.full((n_band, n_pix), np.nan, dtype=np.float32)
    std = np.full((n_band, n_pix), np.nan, dtype=np.float32)
    count = np.zeros(n_pix, dtype=np.float32)
    # bands are independent: one per core at a time; pixels innermost, along the arrays' contiguous axis
    for b in numba.prange(n_band):
        n = np.zeros(n_pix, dtype=np.int64)
        m = np.zeros(n_pix, dtype=np.float64)
        m2 = np.zeros(n_pix, dtype=np.float64)
        for t in range(n_time):
            for p in range(n_pix):
                x = values[b, t, p]
                if mask[t, p] and not np.isnan(x):
                    n[p] += 1
                    delta = x - m[p]
                    m[p] += delta / n[p]
                    m2[p] += delta * (x - m[p])
        for p in range(n_pix):
            if b == 0:
                count[p] = n[p]
            if n[p] > 0:
                mean[b, p] = m[p]
            if n[p] > 1:
                std[b, p] = np.sqrt(m2[p] / (n[p] - 1))
    return mean, std, count


def masked_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median over time (axis 0) of the masked finite observations, per pixel (NaN without any).

    ``values`` and ``mask`` share their shape, time first.  Replaces ``np.nanmedian`` of a
    NaN-filled copy, which goes through masked arrays and is several times slower.
    """
    flat_values = values.reshape(values.shape[0], -1)
    flat_mask = mask.reshape(mask.shape[0], -1)
    # pixel-major copies, so that each pixel's series is contiguous in the loop
    stripes = pixel_stripes(flat_values.shape[1])
    median = _masked_median(np.ascontiguousarray(flat_values.T), np.ascontiguousarray(flat_mask.T), stripes)
    return median.reshape(values.shape[1:])


@parallel_kernel
def _masked_median(values: np.ndarray, mask: np.ndarray, n_stripes: int) -> np.ndarray:
    n_pix = values.shape[0]
    out = np.full(n_pix, np.nan, dtype=np.float64)
    # pixels are independent: stripes of them on every core (each stripe its own work array)
    for stripe in numba.prange(n_stripes):
        first, stop = n_pix * stripe // n_stripes, n_pix * (stripe + 1) // n_stripes
        _masked_median_of(values, mask, out, first, stop)
    return out


@numba.njit(cache=True, nogil=True)
def _masked_median_of(values: np.ndarray, mask: np.ndarray, out: np.ndarray, first: int, stop: int) -> None:
    n_time = values.shape[1]
    series = np.empty(n_time, dtype=np.float64)
    for p in range(first, stop):
        n = 0
        for t in range(n_time):
            x = values[p, t]
            if mask[p, t] and not np.isnan(x):
                series[n] = x
                n += 1
        if n > 0:
            out[p] = np.median(series[:n])


def ci95(std: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Half-width of the 95 % confidence interval of the mean: 1.96 * std / sqrt(n)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (CI95_Z * std / np.sqrt(count)).astype(np.float32)
