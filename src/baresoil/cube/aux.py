"""Auxiliary rasters (threshold maps, land cover) brought onto the cube's grid, lazily.

Each dask chunk reprojects only its own window from the source raster, so a
European threshold image or a land-cover mosaic costs memory per chunk only.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox
from rasterio.enums import Resampling
from rasterio.warp import reproject

from ..errors import AssetError


def aux_raster(path: str | Path, like: xr.DataArray, resampling: str = "bilinear") -> xr.DataArray:
    """Band 1 of ``path`` on the grid and chunks of ``like`` (a (…, y, x) cube variable), float32.

    Source nodata becomes NaN.  ``resampling``: ``bilinear`` for continuous
    values (thresholds), ``nearest`` for classes (land cover).
    """
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            src.crs  # noqa: B018 - opening and reading the CRS validates the file
    except rasterio.errors.RasterioIOError as exc:
        raise AssetError(f"cannot read raster {path}: {exc}") from exc
    geobox: GeoBox = like.odc.geobox
    chunks = like.chunks[-2:] if like.chunks else ((geobox.height,), (geobox.width,))
    kernel = partial(_reproject_block, path=str(path), geobox=geobox, resampling=Resampling[resampling])
    data = da.map_blocks(kernel, chunks=chunks, dtype=np.float32, meta=np.array((), dtype=np.float32))
    return xr.DataArray(data, coords={"y": like.y, "x": like.x}, dims=("y", "x"), name=path.stem)


def _reproject_block(
    path: str, geobox: GeoBox, resampling: Resampling, block_info: dict[Any, Any] | None = None
) -> np.ndarray:
    (rows, cols) = block_info[None]["array-location"]  # type: ignore[index]
    window = geobox[slice(*rows), slice(*cols)]
    out = np.full(window.shape, np.nan, dtype=np.float32)
    with rasterio.open(path) as src:
        reproject(
            source=rasterio.band(src, 1),
            destination=out,
            dst_transform=window.transform,
            dst_crs=str(window.crs),
            dst_nodata=np.nan,
            resampling=resampling,
        )
    return out
