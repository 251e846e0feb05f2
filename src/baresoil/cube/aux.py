"""Auxiliary rasters (threshold maps, land cover, covariates) brought onto a grid, lazily.

Each dask chunk reprojects only its own window from the source raster, so a
European threshold image or a land-cover mosaic costs memory per chunk only.
:func:`aux_raster` puts band 1 on a cube's grid; :func:`raster_blocks` puts every
band of one raster (or the mosaic of several) on any grid, physical values with
NaN for nodata, reading by window where the raster is already on the grid.
A raster without a CRS cannot be placed: :func:`raster_info` says so, and the
readers take the CRS the caller assumes for it (``crs``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window

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


@dataclass(frozen=True)
class RasterInfo:
    """What a raster file declares about itself."""

    path: Path
    count: int
    crs: CRS | None
    """None when the file has no CRS."""
    shape: tuple[int, int]
    transform: Any
    """The affine transform (pixel to CRS coordinates)."""
    descriptions: tuple[str | None, ...]
    """Band descriptions (None where a band has none)."""
    categorical: bool
    """Integer values without a scale: classes, resampled by nearest neighbour."""

    def geobox(self, crs: Any = None) -> GeoBox:
        """The raster's grid; ``crs`` stands in for a CRS the file lacks."""
        chosen = self.crs or (CRS.from_user_input(crs) if crs is not None else None)
        if chosen is None:
            raise AssetError(f"raster {self.path} has no CRS")
        return GeoBox(self.shape, self.transform, chosen)


def raster_info(path: str | Path) -> RasterInfo:
    """Bands, CRS, grid and kind of ``path``; an unreadable file is an :class:`AssetError` naming it."""
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            crs = CRS.from_user_input(src.crs.to_wkt()) if src.crs else None
            categorical = np.dtype(src.dtypes[0]).kind in "iu" and all(s == 1 for s in src.scales)
            return RasterInfo(path, src.count, crs, (src.height, src.width), src.transform,
                              tuple(src.descriptions), categorical)  # fmt: skip
    except rasterio.errors.RasterioIOError as exc:
        raise AssetError(f"cannot read raster {path}: {exc}") from exc


def raster_blocks(
    paths: str | Path | Sequence[str | Path],
    geobox: GeoBox,
    chunks: tuple[tuple[int, ...], ...],
    crs: Any = None,
) -> da.Array:
    """All bands of a raster on ``geobox`` as a lazy (band, y, x) float32 array of physical values.

    Nodata becomes NaN and GDAL scales/offsets are applied.  Rasters on the grid
    are read by window; others are reprojected (bilinear, or nearest for class
    rasters: integers without a scale).  Several paths (tiles of one layer, with
    the same bands) make a mosaic: each pixel from the first that has a value.
    ``crs`` is taken as the CRS of files that have none (they are an
    :class:`AssetError` without it).
    """
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    infos = [raster_info(p) for p in files]
    assumed = CRS.from_user_input(crs) if crs is not None else None
    for info in infos:
        if info.crs is None and assumed is None:
            raise AssetError(f"raster {info.path} has no CRS")
    resampling = Resampling.nearest if infos[0].categorical else Resampling.bilinear
    reader = partial(_read_mosaic, paths=tuple(str(p) for p in files), geobox=geobox, resampling=resampling,
                     assumed=assumed)  # fmt: skip
    return da.map_blocks(reader, chunks=((infos[0].count,), *chunks), dtype=np.float32,
                         meta=np.array((), dtype=np.float32))  # fmt: skip


def _read_mosaic(
    paths: tuple[str, ...],
    geobox: GeoBox,
    resampling: Resampling,
    assumed: CRS | None,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray:
    _, rows, cols = block_info[None]["array-location"]  # type: ignore[index]
    window_box = geobox[slice(*rows), slice(*cols)]
    out = _read_window(paths[0], window_box, resampling, assumed)
    for path in paths[1:]:
        missing = np.isnan(out)
        if not missing.any():
            break
        out[missing] = _read_window(path, window_box, resampling, assumed)[missing]
    return out


def _read_window(path: str, window_box: GeoBox, resampling: Resampling, assumed: CRS | None) -> np.ndarray:
    """(band, y, x) float32 physical values of ``path`` on ``window_box``, NaN for nodata."""
    with rasterio.open(path) as src:
        src_crs = CRS.from_user_input(src.crs.to_wkt()) if src.crs else assumed
        window = _aligned_window(src, src_crs, window_box)
        if window is not None:
            stored = src.read(window=window, boundless=True, masked=True).astype(np.float64)
            values = stored.filled(np.nan)
        else:
            values = np.full((src.count, *window_box.shape), np.nan, dtype=np.float64)
            for band in range(src.count):
                reproject(source=rasterio.band(src, band + 1), destination=values[band], src_crs=src_crs,
                          src_nodata=src.nodata, dst_transform=window_box.transform,
                          dst_crs=str(window_box.crs), dst_nodata=np.nan, resampling=resampling)  # fmt: skip
        scales = np.asarray(src.scales, np.float64)[:, None, None]
        offsets = np.asarray(src.offsets, np.float64)[:, None, None]
    return (values * scales + offsets).astype(np.float32)


def _aligned_window(src: Any, src_crs: CRS | None, window_box: GeoBox) -> Window | None:
    """The source window that matches ``window_box`` pixel for pixel, or None if the grids differ."""
    if src_crs is None or not src_crs.equals(str(window_box.crs)):
        return None
    src_t, dst_t = src.transform, window_box.transform
    if not (math.isclose(src_t.a, dst_t.a) and math.isclose(src_t.e, dst_t.e)) or src_t.b or src_t.d:
        return None
    col = (dst_t.c - src_t.c) / src_t.a
    row = (dst_t.f - src_t.f) / src_t.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    height, width = window_box.shape
    return Window(round(col), round(row), width, height)
