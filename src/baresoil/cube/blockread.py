"""One block of one band of the cube, every file under it read once and warped with the files of its grid.

odc-loader reads a chunk source by source: it opens the file, works out where it falls on the chunk,
and has GDAL warp it, one call per file, each setting up its own coordinate transformation.  On
small files (or small chunks) that set-up, not decoding, is the cost.  :func:`read_block` does the
same work in another order, with the same result (the same pixels read, the same GDAL warp of each,
the sources fused in the same order):

* each file is opened once and the part the block needs is decoded (from the overview odc-loader would
  pick), through the reader's guards (:func:`.reader.guarded`: retries, an asset left out or the run
  ended);
* where each grid falls on the block is worked out once per grid, not per file;
* the files of one grid are warped together, one GDAL call for a stack of them, where GDAL warps each
  band of a stack as it would warp that band alone (``UNIFIED_SRC_NODATA=NO``, nearest and average
  resampling, see ``STACKED``);
* the warped pieces are fused date by date in the order of the items (the first valid pixel wins), as
  odc-loader's nodata fuser does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import rasterio
import rasterio.warp
import rasterio.windows
from odc.geo.converters import rio_geobox
from odc.geo.geobox import GeoBox
from odc.geo.overlap import ReprojectInfo, compute_reproject_roi
from odc.geo.roi import roi_is_empty, roi_shape, w_
from odc.geo.warp import resampling_s2rio
from odc.loader._reader import (
    nodata_mask,
    pick_overview,
    resolve_dst_fill_value,
    resolve_dst_nodata,
    resolve_src_nodata,
    same_nodata,
)
from odc.loader.types import RasterLoadParams

from ..spans import span
from .handles import FILES
from .reader import GuardedDriver, guarded

STACK = 64
"""Files warped in one GDAL call at most (bounds the memory of a stack)."""
STACKED = frozenset({"nearest", "average"})
"""Resamplings GDAL applies to each band of a stack as to that band alone: those that weigh each source
pixel by its own band's validity.  Bilinear and the other kernels skip a destination pixel whose central
source pixel is nodata in a lone band, but not in a stack of bands with nodata of their own: they are
warped one file per call."""
PAD = 8
"""Source pixels read around the part a block needs, beyond the resampling kernels' reach (``_reach``)."""


@dataclass(frozen=True)
class _Piece:
    """What one file gives a block: pixels ready to fuse (``pixels``), or pixels to warp (``grid``)."""

    time: int
    order: int
    roi: tuple[Any, Any]
    """Where on the block (two slices)."""
    pixels: np.ndarray
    grid: tuple[Any, ...] | None = None
    """(crs, transform of ``pixels``, shape, dtype, nodata, where on the block) when the pixels are still
    to be warped."""


def read_block(
    files: Sequence[Sequence[str]],
    geobox: GeoBox,
    cfg: RasterLoadParams,
    driver: GuardedDriver,
    band: str,
) -> np.ndarray:
    """(time, y, x) of ``cfg.dtype`` on ``geobox``: per date, its ``files`` fused in order."""
    dtype = np.dtype(cfg.dtype)
    fill = resolve_dst_fill_value(dtype, cfg, resolve_src_nodata(cfg.fill_value, cfg))
    out = np.full((len(files), *geobox.shape.yx), fill, dtype=dtype)
    rois: dict[tuple[Any, ...], ReprojectInfo] = {}
    pieces: list[_Piece] = []
    budget = int(driver.config.open_files_mb * 1e6)
    for t, hrefs in enumerate(files):
        for k, href in enumerate(hrefs):
            piece = guarded(driver, href, band, partial(_read, href, t, k, geobox, cfg, rois, budget))
            if piece is not None:
                pieces.append(piece)
    _warp(pieces, geobox, cfg)
    with span("fuse"):
        for piece in sorted(pieces, key=lambda p: (p.time, p.order)):
            target = out[piece.time][piece.roi]
            np.copyto(target, piece.pixels, where=nodata_mask(target, fill))
    return out


def _read(
    href: str,
    t: int,
    k: int,
    geobox: GeoBox,
    cfg: RasterLoadParams,
    rois: dict[tuple[Any, ...], ReprojectInfo],
    budget: int,
) -> _Piece | None:
    """The part of ``href`` that ``geobox`` needs, as odc-loader's ``rio_read`` would pick it; the file kept
    open for the next block within ``budget`` bytes (:mod:`.handles`)."""
    ttol = 0.9 if cfg.nearest else 0.05
    with FILES.opened(href, budget) as rdr:
        key = (rdr.crs.to_wkt() if rdr.crs else None, rdr.transform, rdr.shape, ttol)
        rr = rois.get(key)
        if rr is None:
            rr = rois[key] = compute_reproject_roi(rio_geobox(rdr), geobox, ttol=ttol)
        dtype = np.dtype(cfg.dtype)
        src_nodata = resolve_src_nodata(rdr.nodatavals[0], cfg)
        dst_nodata = resolve_dst_nodata(dtype, cfg, src_nodata)
        if roi_is_empty(rr.roi_dst) or roi_is_empty(rr.roi_src):
            return None  # nothing of it on the block (or only its nodata)
        if rr.paste_ok and rr.read_shrink == 1:
            pixels = np.empty(roi_shape(rr.roi_dst), dtype=dtype)
            with span("decode"):
                rdr.read(1, out=pixels, window=w_[rr.roi_src])
            if dst_nodata is not None and not same_nodata(src_nodata, dst_nodata):
                np.copyto(pixels, dst_nodata, where=nodata_mask(pixels, src_nodata))
            return _Piece(t, k, rr.roi_dst, pixels)
        level = None
        if cfg.use_overviews and rr.read_shrink > 1:
            level = pick_overview(rr.read_shrink, rdr.overviews(1))
        if level is None:
            pixels, transform = _window(rdr, rr.roi_src, 1, _reach(rr, 1))
        elif rdr.width % (shrink := rdr.overviews(1)[level]) == 0 and rdr.height % shrink == 0:
            pixels, transform = _overview_window(rdr, rr.roi_src, shrink, _reach(rr, shrink))
        else:
            with FILES.opened(href, budget, overview_level=level) as ovr:
                pixels, transform = _window(ovr, rr.roi_src, shrink, _reach(rr, shrink))
        where = tuple((part.start, part.stop) for part in rr.roi_dst)  # slices are no dict keys
        grid = (rdr.crs.to_wkt(), transform, pixels.shape, pixels.dtype.str, src_nodata, where)
        return _Piece(t, k, rr.roi_dst, pixels, grid)


def _reach(rr: ReprojectInfo, shrink: int) -> int:
    """Pixels to read around the part a block needs, in pixels ``shrink`` times coarser than the file's:
    GDAL's kernels reach up to three destination pixels (Lanczos), each ``read_shrink / shrink`` of them."""
    return PAD + 3 * -(-max(int(rr.read_shrink), 1) // shrink)


def _window(rdr: Any, roi_src: tuple[Any, Any], shrink: int, pad: int) -> tuple[np.ndarray, Any]:
    """The pixels of ``rdr`` under ``roi_src`` (full-resolution pixels; ``rdr`` may be an overview
    ``shrink`` times coarser), padded by ``pad`` and clipped to the file, and their transform."""
    rows, cols = roi_src
    top = max(0, (rows.start or 0) // shrink - pad)
    left = max(0, (cols.start or 0) // shrink - pad)
    bottom = min(rdr.height, -(-(rows.stop or rdr.height * shrink) // shrink) + pad)
    right = min(rdr.width, -(-(cols.stop or rdr.width * shrink) // shrink) + pad)
    with span("decode"):
        if (top, left, bottom, right) == (0, 0, rdr.height, rdr.width):
            return rdr.read(1), rdr.transform  # the whole file, as GDAL would see it
        window = rasterio.windows.Window(left, top, right - left, bottom - top)
        return rdr.read(1, window=window), rdr.window_transform(window)


def _overview_window(rdr: Any, roi_src: tuple[Any, Any], shrink: int, pad: int) -> tuple[np.ndarray, Any]:
    """As :func:`_window` on the overview ``shrink`` times coarser, read through ``rdr`` itself: a file whose
    sides are multiples of ``shrink`` has an overview of exactly ``1/shrink`` its sides, whose pixels GDAL
    hands over as they are for a window of whole overview pixels (no second open of the file)."""
    rows, cols = roi_src
    height, width = rdr.height // shrink, rdr.width // shrink
    top = max(0, (rows.start or 0) // shrink - pad)
    left = max(0, (cols.start or 0) // shrink - pad)
    bottom = min(height, -(-(rows.stop or rdr.height) // shrink) + pad)
    right = min(width, -(-(cols.stop or rdr.width) // shrink) + pad)
    full = rasterio.windows.Window(
        left * shrink, top * shrink, (right - left) * shrink, (bottom - top) * shrink
    )
    with span("decode"):
        pixels = rdr.read(1, window=full, out_shape=(bottom - top, right - left))
    transform = rdr.window_transform(full) * rasterio.Affine.scale(shrink)
    return pixels, transform


def _warp(pieces: list[_Piece], geobox: GeoBox, cfg: RasterLoadParams) -> None:
    """Warp the pieces still on their own grid onto ``geobox``, a stack of one grid per GDAL call."""
    dtype = np.dtype(cfg.dtype)
    stacks: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, piece in enumerate(pieces):
        if piece.grid is not None:
            stacks[piece.grid].append(i)
    resampling = resampling_s2rio(cfg.resampling)
    size = STACK if cfg.resampling in STACKED else 1
    for grid, members in stacks.items():
        crs, transform, _, _, src_nodata, where = grid
        roi = (slice(*where[0]), slice(*where[1]))
        dst_nodata = resolve_dst_nodata(dtype, cfg, src_nodata)
        target = geobox[roi]
        for start in range(0, len(members), size):
            part = members[start : start + size]
            source = np.stack([pieces[i].pixels for i in part])
            warped = np.empty((len(part), *target.shape.yx), dtype=dtype)
            with span("warp"):
                rasterio.warp.reproject(
                    source,
                    warped,
                    src_transform=transform,
                    src_crs=crs,
                    src_nodata=src_nodata,
                    dst_crs=str(geobox.crs),
                    dst_transform=target.transform,
                    dst_nodata=dst_nodata,
                    resampling=resampling,
                    warp_mem_limit=1024,
                    UNIFIED_SRC_NODATA="NO",
                )
            for j, i in enumerate(part):
                pieces[i] = _Piece(pieces[i].time, pieces[i].order, roi, warped[j])


__all__ = ["read_block"]
