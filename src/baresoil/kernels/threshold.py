"""A PVIR2 threshold estimated from the data of a region (in the spirit of HISET).

SCMaP compares PVIR2 with regional thresholds that DLR derived with HISET
(histogram separation of land-cover classes) and ships as a European raster.
Without that raster or a land-cover map, this estimator reads the threshold
off the region's own histogram of clear-sky PVIR2 observations:

1. the bare-soil mode is the highest peak of the (smoothed) histogram at low
   PVIR2 (below ``mode_max``): soils of the region at their usual moisture;
2. its spread is measured on the mode's *left* flank only, which no vegetation
   or crop residue contaminates (a half-normal fit: median distance / 0.6745);
3. the threshold lies ``k`` spreads right of the mode, and never beyond the
   histogram valley that separates the mode from the residue/vegetation side.

Regions whose histogram has no bare-soil mode (forest, grassland, too few
observations) return NaN, and the caller falls back to a fixed value.
"""

from __future__ import annotations

import numpy as np

HALF_NORMAL_MEDIAN = 0.6745


def estimate_pvir2_threshold(
    values: np.ndarray,
    *,
    k: float = 2.5,
    mode_max: float = 0.35,
    bin_width: float = 0.01,
    min_values: int = 500,
    min_mode_share: float = 0.02,
) -> float:
    """Threshold for ``values`` (PVIR2 of clear observations, any shape), or NaN."""
    values = values[np.isfinite(values)]
    if values.size < min_values:
        return float("nan")
    edges = np.arange(-1.0, 2.0 + bin_width, bin_width)
    hist, _ = np.histogram(values, bins=edges)
    smooth = np.convolve(hist, _gaussian(2.0), mode="same")
    centres = (edges[:-1] + edges[1:]) / 2
    low = centres <= mode_max
    peak_index = int(np.argmax(np.where(low, smooth, -1)))
    peak = centres[peak_index]
    near = np.abs(values - peak) <= 0.1
    if near.mean() < min_mode_share:
        return float("nan")
    left = peak - values[(values < peak) & (values > peak - 0.5)]
    if left.size < min_values // 10:
        return float("nan")
    spread = float(np.median(left)) / HALF_NORMAL_MEDIAN
    valley = _valley_after(smooth, centres, peak_index)
    return float(min(peak + k * spread, valley))


def _gaussian(sigma_bins: float) -> np.ndarray:
    x = np.arange(-3 * int(np.ceil(sigma_bins)), 3 * int(np.ceil(sigma_bins)) + 1)
    weights = np.exp(-0.5 * (x / sigma_bins) ** 2)
    return weights / weights.sum()


def _valley_after(smooth: np.ndarray, centres: np.ndarray, peak_index: int) -> float:
    """Position of the first local minimum right of the peak (or +inf when none)."""
    for i in range(peak_index + 1, len(smooth) - 1):
        if smooth[i] <= smooth[i - 1] and smooth[i] < smooth[i + 1]:
            return float(centres[i])
    return float("inf")
