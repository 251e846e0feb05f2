"""Terrain covariates from an elevation grid: slope and topographic position.

Soil properties follow the landscape: depressions collect fine material and
organic matter, ridges lose them.  The topographic position index (TPI, the
elevation minus the mean elevation within a radius) tells hollows (< 0) from
crests (> 0) at the scale of the radius; a few radii describe the relief at a few
scales.  Both work on plain 2-D arrays with NaN for missing elevation, and
neither lets a missing neighbour erase a cell that has an elevation: the mean
ignores missing cells (and the area beyond the array), and the slope falls back
to a one-sided difference where one neighbour is missing, as it does at the
array's edge.  Samples next to the edge of a DEM's data (a river, the sea, the
end of a tile) keep their terrain covariates, and a block processed with enough
overlap gives the same values as the whole array.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def slope_degrees(dem: np.ndarray, resolution: float) -> np.ndarray:
    """Slope (degrees) by central differences, one-sided where a neighbour is missing or beyond the array.

    NaN where the cell is missing, or has no finite neighbour along a row or along a column.
    """
    dem = np.asarray(dem, np.float64)
    dz_dy = _derivative(dem, 0, resolution)
    dz_dx = _derivative(dem, 1, resolution)
    return np.degrees(np.arctan(np.hypot(dz_dx, dz_dy))).astype(np.float32)


def _derivative(dem: np.ndarray, axis: int, step: float) -> np.ndarray:
    """d(dem)/d(axis): central where both neighbours are finite, else one-sided, else NaN."""
    padded = np.moveaxis(np.pad(dem, [(1, 1) if a == axis else (0, 0) for a in range(2)],
                                constant_values=np.nan), axis, 0)  # fmt: skip
    before, here, after = padded[:-2], padded[1:-1], padded[2:]
    central = (after - before) / (2 * step)
    forward = (after - here) / step
    backward = (here - before) / step
    out = np.where(np.isfinite(central), central, np.where(np.isfinite(forward), forward, backward))
    return np.moveaxis(np.where(np.isfinite(here), out, np.nan), 0, axis)


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
