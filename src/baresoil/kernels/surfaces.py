"""Built-up land and water from the time series alone: SCMaP's 'other surfaces' without a land-cover map.

SCMaP takes its third class from a land-cover map.  Without one, the series
itself tells most of it:

* **water**: most of a pixel's clear observations are water (the SCL says so, or
  MNDWI is positive);
* **built-up land** (roofs, streets, yards and the gardens between them): never
  really green and never changing — even the pixel's greenest observations (a
  high quantile of NDVI over the period) stay well below the greenest meadows'
  and crops' of the area, and
  its NDVI hardly moves through the seasons, where every field greens up and is
  harvested, every meadow is mown, every deciduous wood loses its leaves;
* such pixels count where they cluster (their share within a neighbourhood of
  about a hundred metres): a settlement, not one odd pixel.

Bare rock (a quarry, a gravel pit) is never green either but is a bare surface,
not built-up: it is told apart by its brightness (mineral surfaces are far
brighter in the blue than roofs, streets and their mixtures).  Evergreen
conifers and meadows are steady too, but greener.

Arrays are (time, pixel) with NaN where not observed; the neighbourhood needs the
block's (y, x) shape.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .composite import masked_median

MIN_SERIES_DAYS = 300
"""Built-up land is told from fields by fields' greening and harvest: a series shorter than a growing
season (a winter, a spring) shows bare fields as steady and never green as any roof."""


def spans_a_growing_season(times: np.ndarray) -> bool:
    """Whether the dates (datetime64) span enough of a year to tell built-up land from bare fields."""
    if times.size == 0:
        return False
    days = (times.max() - times.min()).astype("timedelta64[D]").astype(int)
    return bool(days >= MIN_SERIES_DAYS)


def masked_quantile(values: np.ndarray, mask: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile over time of each pixel's masked finite values (NaN without any)."""
    data = np.where(mask & np.isfinite(values), values, np.nan)
    out = np.full(values.shape[1:], np.nan, np.float32)
    counts = np.isfinite(data).sum(axis=0)
    ordered = np.sort(data, axis=0)  # NaN last: each pixel's own values first, in order
    # the pixels with as many values at once: np.nanquantile's result, without its loop over pixels
    for n in np.unique(counts[counts > 0]):
        pixels = np.flatnonzero(counts == n)
        out[pixels] = np.quantile(ordered[:n, pixels], q, axis=0)
    return out


def steady_and_never_green(
    ndvi: np.ndarray, valid: np.ndarray, green_share: float, max_amplitude: float = 0.3
) -> np.ndarray:
    """(pixel,) True where NDVI's 90th percentile stays under ``green_share`` of the block's green level
    and its spread (90th less 10th percentile) under ``max_amplitude``: sealed surfaces and the gardens
    between them.

    The block's green level is the 90th percentile, over its pixels, of their greenest observations:
    how green a meadow or a crop gets here, which haze, clouds and the vegetation itself set from
    world to world, so the ceiling follows it.
    """
    peak = masked_quantile(ndvi, valid, 0.9)
    low = masked_quantile(ndvi, valid, 0.1)
    seen = peak[np.isfinite(peak)]
    if seen.size == 0:
        return np.zeros(peak.shape, bool)
    ceiling = green_share * float(np.quantile(seen, 0.9))
    with np.errstate(invalid="ignore"):
        return (peak < ceiling) & (peak - low < max_amplitude)


def mostly_water(water_obs: np.ndarray, valid: np.ndarray, share: float = 0.5) -> np.ndarray:
    """(pixel,) True where at least ``share`` of the valid observations are water."""
    n_valid = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (water_obs & valid).sum(axis=0) / n_valid >= share


def clustered(flags: np.ndarray, shape: tuple[int, int], window: int, min_share: float) -> np.ndarray:
    """(pixel,) flags whose ``window`` × ``window`` neighbourhood (pixels, in the block of ``shape``) holds
    at least ``min_share`` flagged pixels."""
    grid = flags.reshape(shape).astype(np.float32)
    share = ndimage.uniform_filter(grid, size=window, mode="nearest").reshape(-1)
    return flags & (share >= min_share)


def bright_mineral(blue: np.ndarray, valid: np.ndarray, min_blue: float) -> np.ndarray:
    """(pixel,) True where the pixel's median blue reflectance is that of bright rock or sand."""
    median = masked_median(blue, valid)
    with np.errstate(invalid="ignore"):
        return median >= min_blue
