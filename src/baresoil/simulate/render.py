"""Scenes as providers publish them: one COG per band per tile, at the band's native resolution.

Reflectance bands are uint16 DN, SCL uint8 (as in the real products); nodata is 0.
Each tile's COGs cover only that tile's part of the world, so a reader
must mosaic same-day items; in the overlap both tiles hold identical values,
because both are cut from the same observation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from affine import Affine

from ..catalog.layouts import ALL_BANDS, NATIVE_RESOLUTION, SCL
from .files import write_raster
from .observe import SWATH_EDGE_SLOPE, Observation, tile_cloud_cover
from .schedule import Acquisition, ProductIds, Tile
from .spec import PIXEL_M, WorldSpec


@dataclass(frozen=True)
class BandFile:
    path: Path
    shape: tuple[int, int]
    transform: Affine
    resolution: int
    dtype: str


@dataclass(frozen=True)
class SceneRecord:
    """What the catalogs need to know about one written tile of one acquisition."""

    acquisition: Acquisition
    tile: Tile
    tile_index: int
    ids: ProductIds
    bands: Mapping[str, BandFile]
    cloud_cover: float
    bounds: tuple[float, float, float, float]
    """Bounds of the tile part in the world CRS (x0, y0, x1, y1)."""
    footprint: tuple[tuple[float, float], ...] | None = None
    """Outline (a closed ring, world CRS) of the part with data when a swath edge cuts the tile part;
    None when it is the whole of ``bounds``."""


def write_scene(
    root: Path, spec: WorldSpec, obs: Observation, tile: Tile, tile_index: int, ids: ProductIds
) -> SceneRecord:
    """Write the COGs of one tile of ``obs`` under ``root/scenes/<scene id>/``."""
    folder = root / "scenes" / ids.scene
    files = {}
    for band in ALL_BANDS:
        res = NATIVE_RESOLUTION[band]
        factor = res // PIXEL_M
        data = obs.scl if band == SCL else obs.dn[band]
        part = data[:, tile.col_start // factor : tile.col_stop // factor]
        transform = tile_transform(spec, tile, res)
        path = folder / f"{band}.tif"
        write_raster(
            path,
            np.ascontiguousarray(part),
            transform,
            spec.epsg,
            0,
            cog=True,
            resampling="nearest" if band == SCL else "average",
        )
        files[band] = BandFile(
            path, (int(part.shape[0]), int(part.shape[1])), transform, res, part.dtype.name
        )
    x0, y0, _, y1 = spec.bounds
    bounds = (x0 + tile.col_start * PIXEL_M, y0, x0 + tile.col_stop * PIXEL_M, y1)
    footprint = _swath_footprint(spec, obs.acquisition.swath_cover, bounds)
    return SceneRecord(
        obs.acquisition, tile, tile_index, ids, files, tile_cloud_cover(spec, obs, tile), bounds, footprint
    )


def has_data(obs: Observation, tile: Tile) -> bool:
    """Whether any pixel of ``tile``'s part of the world has data (else the provider has no item)."""
    return obs.covered is None or bool(obs.covered[:, tile.col_start : tile.col_stop].any())


def _swath_footprint(
    spec: WorldSpec, cover: float, bounds: tuple[float, float, float, float]
) -> tuple[tuple[float, float], ...] | None:
    """The tile part inside the swath (see :func:`.observe.data_mask`), or None when all of it is."""
    if cover >= 1.0:
        return None
    x0, _, _, y1 = spec.bounds
    n, step = spec.n_pixels // 2, 2 * PIXEL_M

    def edge(row: float) -> tuple[float, float]:
        return (x0 + (cover * n + SWATH_EDGE_SLOPE * (row - n / 2)) * step, y1 - row * step)

    far = 10.0 * spec.size_m
    (xa, ya), (xb, yb) = edge(-n), edge(2 * n)
    swath = shapely.Polygon([(x0 - far, ya), (xa, ya), (xb, yb), (x0 - far, yb)])
    part = shapely.box(*bounds).intersection(swath)
    if not isinstance(part, shapely.Polygon) or part.is_empty or part.equals(shapely.box(*bounds)):
        return None
    return tuple((float(x), float(y)) for x, y in part.exterior.coords)


def tile_transform(spec: WorldSpec, tile: Tile, resolution: int) -> Affine:
    x0, _, _, y1 = spec.bounds
    return Affine(resolution, 0.0, x0 + tile.col_start * PIXEL_M, 0.0, -resolution, y1)
