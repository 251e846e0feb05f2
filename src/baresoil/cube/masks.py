"""Clear-sky and snow masks of the cube, from SCL (labelled, dask-aware wrappers)."""

from __future__ import annotations

import math
from functools import partial

import dask.array as da
import numpy as np
import xarray as xr

from ..config import CubeConfig
from ..kernels.masks import clear_sky, scl_in
from .blocks import map_neighbourhood


def clear_sky_mask(scl: xr.DataArray, config: CubeConfig) -> xr.DataArray:
    """True where SCL is a clear class and no cloud, shadow or cirrus lies within the buffer.

    The buffer crosses chunk edges, so blocks are computed with an overlap of the
    buffer radius (:func:`map_neighbourhood`, no more than the array holds) and match a
    whole-array computation exactly.  Clouds outside the array are not seen: near the
    edge of the area a pixel may be clear that a larger area's buffer would mask.
    """
    radius_px = config.cloud_buffer_m / config.resolution
    depth = math.ceil(radius_px)
    kernel = partial(
        clear_sky,
        clear_classes=config.clear_classes,
        cloud_classes=config.cloud_classes,
        radius_px=radius_px,
    )
    data = scl.data
    out: da.Array | np.ndarray
    if isinstance(data, da.Array):
        out = map_neighbourhood(kernel, data, {0: 0, 1: depth, 2: depth}, boundary="none", dtype=bool)
    else:
        out = kernel(np.asarray(data))
    return xr.DataArray(
        out,
        coords=scl.coords,
        dims=scl.dims,
        name="clear",
        attrs={"long_name": "clear-sky observation", "cloud_buffer_m": config.cloud_buffer_m},
    )


def snow_mask(scl: xr.DataArray, config: CubeConfig) -> xr.DataArray:
    """True where SCL says snow or ice."""
    kernel = partial(scl_in, classes=config.snow_classes)
    data = scl.data
    out = data.map_blocks(kernel, dtype=bool) if hasattr(data, "map_blocks") else kernel(np.asarray(data))
    return xr.DataArray(
        out, coords=scl.coords, dims=scl.dims, name="snow", attrs={"long_name": "snow or ice (SCL 11)"}
    )
