"""Neighbourhood operations on dask arrays that work on any area, down to one pixel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dask.array as da
import numpy as np


def map_neighbourhood(
    func: Callable[..., np.ndarray],
    array: da.Array,
    depth: int | Mapping[int, int],
    boundary: str,
    dtype: Any,
    **kwargs: Any,
) -> da.Array:
    """``da.map_overlap`` of ``func`` with each axis' ``depth`` clipped to the array's size there.

    dask refuses a depth larger than the array, and one field is smaller than a 100 m
    cloud buffer.  Along an axis that short the blocks hold the whole axis, so every
    neighbour that exists is still within reach and the result equals the whole-array
    computation, as it does with the full depth.
    """
    per_axis = {axis: depth for axis in range(array.ndim)} if isinstance(depth, int) else depth
    clipped = {axis: min(d, array.shape[axis]) for axis, d in per_axis.items()}
    return da.map_overlap(func, array, depth=clipped, boundary=boundary, dtype=dtype, **kwargs)
