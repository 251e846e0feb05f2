"""Temporal composites of the observations selected by a mask, over (time, pixel) arrays."""

from __future__ import annotations

import numba
import numpy as np

CI95_Z = 1.96


@numba.njit(cache=True)
def masked_stats(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, sample standard deviation (n - 1) and count over time of the masked observations.

    ``values`` is (band, time, pixel) and ``mask`` (time, pixel); an observation
    counts where the mask is set and the value is finite.  One pass per pixel
    (Welford), so no masked copy of the stack is made.  The mean is NaN without
    observations, the standard deviation below two; the count is that of band 0.
    """
    n_band, n_time, n_pix = values.shape
    mean = np.full((n_band, n_pix), np.nan, dtype=np.float32)
    std = np.full((n_band, n_pix), np.nan, dtype=np.float32)
    count = np.zeros(n_pix, dtype=np.float32)
    for p in range(n_pix):
        for b in range(n_band):
            n = 0
            m = 0.0
            m2 = 0.0
            for t in range(n_time):
                if mask[t, p]:
                    x = values[b, t, p]
                    if not np.isnan(x):
                        n += 1
                        delta = x - m
                        m += delta / n
                        m2 += delta * (x - m)
            if b == 0:
                count[p] = n
            if n > 0:
                mean[b, p] = m
            if n > 1:
                std[b, p] = np.sqrt(m2 / (n - 1))
    return mean, std, count


def ci95(std: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Half-width of the 95 % confidence interval of the mean: 1.96 * std / sqrt(n)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (CI95_Z * std / np.sqrt(count)).astype(np.float32)
