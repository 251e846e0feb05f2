"""Writing files so that a half-finished simulation never looks complete.

Every file is written under a temporary name (``X.tmp``) and renamed into
place only when complete; :mod:`.stac` writes the catalogs last of all.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

COG_BLOCKSIZE = 256


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; rename it to ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_raster(
    path: Path,
    data: np.ndarray,
    transform: Affine,
    epsg: int,
    nodata: float | None,
    *,
    cog: bool = False,
    descriptions: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    resampling: str = "average",
) -> Path:
    """Write a (y, x) or (band, y, x) array as a deflated GeoTIFF, or a COG with overviews."""
    bands = data if data.ndim == 3 else data[None]
    profile: dict = dict(
        dtype=bands.dtype.name,
        count=bands.shape[0],
        height=bands.shape[1],
        width=bands.shape[2],
        crs=f"EPSG:{epsg}",
        transform=transform,
        nodata=nodata,
        compress="DEFLATE",
        predictor=3 if bands.dtype.kind == "f" else 2,
    )
    if cog:
        profile.update(
            driver="COG",
            blocksize=COG_BLOCKSIZE,
            overview_resampling=resampling,
            overview_count=_overview_levels(bands.shape[1:]),
        )
    else:
        profile.update(driver="GTiff", tiled=True, blockxsize=COG_BLOCKSIZE, blockysize=COG_BLOCKSIZE)
    with atomic(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(bands)
        for i, text in enumerate(descriptions or (), start=1):
            dst.set_band_description(i, text)
        if tags:
            dst.update_tags(**tags)
    return path


def _overview_levels(shape: tuple[int, ...]) -> int:
    """Halvings until the image is under about 100 pixels across (at least one, as providers ship them)."""
    return max(1, math.floor(math.log2(max(min(shape), 2) / 48)))
