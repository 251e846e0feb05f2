"""Grouped statistics of pixels by an integer label (parcel code): exact, no Python loop over groups.

Pixels are sorted by label once; each group is then a contiguous segment, and
one compiled pass computes, per segment and per date, the statistics of the
finite values: mean, population standard deviation, min, max, median and the
quartiles (linear interpolation between order statistics, numpy's default)
and the count.  Medians and quartiles need all of a group's values at once, so
callers that split a group over several blocks gather its values first (see
:mod:`baresoil.products.parcels.markers`); the other statistics would merge,
quantiles would not.
"""

from __future__ import annotations

import numba
import numpy as np

STATS: tuple[str, ...] = ("mean", "std", "min", "max", "median", "p25", "p75", "count")
"""The statistics, in the order of the last axis of :func:`grouped_stats`' output."""


def sort_by_label(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, group labels, segment starts): ``labels[order]`` is sorted and group ``g`` spans
    ``order[starts[g]:starts[g + 1]]``.  Label 0 (no parcel) is left out."""
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    keep = ordered > 0
    order, ordered = order[keep], ordered[keep]
    if ordered.size == 0:
        return order, np.zeros(0, labels.dtype), np.zeros(1, np.int64)
    edges = np.flatnonzero(np.diff(ordered)) + 1
    starts = np.concatenate([[0], edges, [ordered.size]]).astype(np.int64)
    return order, ordered[starts[:-1]], starts


def grouped_stats(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Statistics of ``values`` (time, pixel), pixels already sorted into segments ``starts``.

    Returns (group, time, 8) float32 in the order of :data:`STATS`; NaN values are
    not counted; a group without a finite value on a date has count 0 and NaN elsewhere.
    """
    return _segment_stats(np.ascontiguousarray(values, dtype=np.float32), starts.astype(np.int64))


@numba.njit(cache=True, nogil=True)
def _segment_stats(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    n_time = values.shape[0]
    n_group = starts.size - 1
    out = np.full((n_group, n_time, 8), np.nan, dtype=np.float32)
    longest = 0
    for g in range(n_group):
        longest = max(longest, starts[g + 1] - starts[g])
    buffer = np.empty(longest, dtype=np.float64)
    for g in range(n_group):
        a, b = starts[g], starts[g + 1]
        for t in range(n_time):
            n = 0
            for i in range(a, b):
                v = values[t, i]
                if not np.isnan(v):
                    buffer[n] = v
                    n += 1
            out[g, t, 7] = n
            if n == 0:
                continue
            ordered = np.sort(buffer[:n])
            total = 0.0
            for i in range(n):
                total += ordered[i]
            mean = total / n
            squares = 0.0
            for i in range(n):
                squares += (ordered[i] - mean) ** 2
            out[g, t, 0] = mean
            out[g, t, 1] = np.sqrt(squares / n)
            out[g, t, 2] = ordered[0]
            out[g, t, 3] = ordered[n - 1]
            out[g, t, 4] = _quantile(ordered, n, 0.5)
            out[g, t, 5] = _quantile(ordered, n, 0.25)
            out[g, t, 6] = _quantile(ordered, n, 0.75)
    return out


@numba.njit(cache=True, nogil=True)
def _quantile(ordered: np.ndarray, n: int, q: float) -> float:
    position = q * (n - 1)
    low = int(np.floor(position))
    high = min(low + 1, n - 1)
    weight = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * weight
