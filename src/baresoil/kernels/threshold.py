"""PVIR2 thresholds estimated from the data: each pixel's own bare-soil level.

SCMaP compares PVIR2 with regional thresholds that DLR derived with HISET
(separating the index histograms of land-cover classes) and ships as a European
raster.  Where the threshold must come from the data alone, the variation that
matters most is not between regions but between soils: the PVIR2 of bare soil
rises with iron, falls with organic matter, and moves with moisture, so a
single value cuts through the bare-soil mode of some fields and through the
crop-residue mode of others.

The estimator reads the bare-soil level off each pixel's own time series: the
``k``-th lowest PVIR2 of its eligible clear observations (robust to one or two
noisy values) approximates the low end of its bare-soil mode, and the
threshold lies ``delta`` above it (about 2.5 times the within-pixel spread of
bare soil with moisture), clipped to ``[low, high]``.  The upper clip keeps
permanent vegetation, whose lowest PVIR2 stays far above, from ever being
called bare; the lower clip keeps a pixel with a single very dark observation
from losing its ordinary bare dates.  Validated against the simulator's truth
in ``benchmarks/bench_soilsuite.py``.
"""

from __future__ import annotations

import numpy as np


def pixel_pvir2_threshold(
    pvir2: np.ndarray,
    eligible: np.ndarray,
    *,
    k: int = 2,
    delta: float = 0.08,
    low: float = 0.1,
    high: float = 0.25,
    fallback: float,
) -> np.ndarray:
    """Per-pixel thresholds from (time, pixel) PVIR2; ``fallback`` where fewer than k+1 observations."""
    values = np.where(eligible & np.isfinite(pvir2), pvir2, np.inf)
    if values.shape[0] <= k:
        return np.full(values.shape[1:], fallback, dtype=np.float32)
    floor = np.partition(values, k, axis=0)[k]
    threshold = np.clip(floor + delta, low, high)
    return np.where(np.isfinite(floor), threshold, fallback).astype(np.float32)
