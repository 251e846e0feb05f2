"""Temporal composites of the observations selected by a mask."""

from __future__ import annotations

import numpy as np

CI95_Z = 1.96


def masked_stats(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, sample standard deviation (n - 1) and count over time of the masked observations.

    ``values`` is (band, time, ...) and ``mask`` (time, ...); an observation counts
    where the mask is set and the value is finite.  The standard deviation is NaN
    below two observations, the mean below one.
    """
    selected = mask[None] & np.isfinite(values)
    count = selected.sum(axis=1)
    data = np.where(selected, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = data.sum(axis=1) / count
        squares = np.where(selected, (values - mean[:, None]) ** 2, 0.0).sum(axis=1)
        std = np.sqrt(squares / (count - 1))
    std[count < 2] = np.nan
    return mean.astype(np.float32), std.astype(np.float32), count[0].astype(np.float32)


def ci95(std: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Half-width of the 95 % confidence interval of the mean: 1.96 * std / sqrt(n)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (CI95_Z * std / np.sqrt(count)).astype(np.float32)
