"""Scene-classification masks: class membership and buffering by a distance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage


def scl_in(scl: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Boolean mask of the pixels whose SCL code is one of ``classes``."""
    return np.isin(scl, np.asarray(classes, dtype=scl.dtype))


def dilate(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """Grow a boolean mask by ``radius_px`` pixels (a disk), over its last two axes.

    Uses the Euclidean distance transform, whose cost does not grow with the
    radius (a 100 m buffer is 10 px at 10 m and the structuring element would
    have 300+ cells).
    """
    if radius_px <= 0:
        return mask.copy()
    out = np.zeros(mask.shape, dtype=bool)
    flat_in = mask.reshape(-1, *mask.shape[-2:])
    flat_out = out.reshape(-1, *mask.shape[-2:])
    for i, plane in enumerate(flat_in):
        if plane.any():
            flat_out[i] = ndimage.distance_transform_edt(~plane) <= radius_px
    return out


def clear_sky(
    scl: np.ndarray,
    clear_classes: Sequence[int],
    cloud_classes: Sequence[int],
    radius_px: float,
) -> np.ndarray:
    """Pixels of a clear class that lie farther than ``radius_px`` from any cloud class."""
    return scl_in(scl, clear_classes) & ~dilate(scl_in(scl, cloud_classes), radius_px)
