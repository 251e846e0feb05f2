"""Terrain covariates from an elevation grid: slope and topographic position.

Soil properties follow the landscape: depressions collect fine material and
organic matter, ridges lose them.  The topographic position index (TPI, the
elevation minus the mean elevation within a radius) tells hollows (< 0) from
crests (> 0) at the scale of the radius; a few radii describe the relief at a few
scales.  Both work on plain 2-D arrays with NaN for missing elevation; the mean
ignores missing cells (and the area beyond the array), so a block processed with
enough overlap gives the same values as the whole array.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def slope_degrees(dem: np.ndarray, resolution: float) -> np.ndarray:
    """Slope (degrees) by central differences; one-sided at the array edges; NaN next to missing cells."""
    dem = np.asarray(dem, np.float64)
    if min(dem.shape) < 2:
        return np.full(dem.shape, np.nan, np.float32)
    dz_dy, dz_dx = np.gradient(dem, resolution)
    return np.degrees(np.arctan(np.hypot(dz_dx, dz_dy))).astype(np.float32)


def topographic_position(dem: np.ndarray, radius: int) -> np.ndarray:
    """Elevation minus the mean of the finite cells in the (2 radius + 1)² window around each cell."""
    dem = np.asarray(dem, np.float64)
    finite = np.isfinite(dem)
    size = 2 * int(radius) + 1
    sums = ndimage.uniform_filter(np.where(finite, dem, 0.0), size=size, mode="constant", cval=0.0)
    counts = ndimage.uniform_filter(finite.astype(np.float64), size=size, mode="constant", cval=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 1e-9, sums / counts, np.nan)
    return np.where(finite, dem - mean, np.nan).astype(np.float32)
