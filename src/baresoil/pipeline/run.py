"""Run a product over an area: plan EEA tiles, build each tile's cube, write COGs and STAC.

The area is searched once; each EEA tile it touches becomes one cube (clipped to
the scenes' footprint) and one dask computation that writes every layer of every
period of that tile.  Tiles whose outputs are complete are skipped on resume.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import shapely
import xarray as xr
from shapely.geometry import shape

from ..catalog.scenes import Scene, select_scenes
from ..catalog.source import StacSource, TimeRange, find_items
from ..config import Config
from ..cube.load import data_footprint, explain_read_errors, load_cube
from ..errors import AreaError
from ..grid import Area, TileId
from ..io.cog import LayerOutput, write_layers
from ..io.stac import OutputItem, item_path, update_catalog, write_item
from ..products.base import ProductPeriod
from .progress import block_progress

log = logging.getLogger(__name__)

ProductFunction = Callable[[xr.Dataset, TimeRange, Config], Sequence[ProductPeriod]]
FileNamer = Callable[[str, str, str, float], str]
"""(layer code, tile code, period label, resolution) -> file name of the layer's COG."""


@dataclass(frozen=True)
class Job:
    """Everything one product run needs to know."""

    source: StacSource
    area: Area
    period: TimeRange
    out_dir: Path
    config: Config = field(default_factory=Config)
    resume: bool = False
    """Skip tiles whose items and files already exist."""
    progress: bool = True


@dataclass(frozen=True)
class TilePlan:
    tile: TileId
    area: Area
    scenes: tuple[Scene, ...]


def plan(job: Job) -> list[TilePlan]:
    """The EEA tiles of the job's area that hold data, each with its scenes (searched once)."""
    items = find_items(job.source, job.area, job.period)
    scenes = select_scenes(items, job.config.scenes)
    footprint = data_footprint(items)
    plans = []
    for tile, part in job.area.split_by_tile():
        try:
            clipped = part.intersection(footprint)
        except AreaError:
            continue
        tile_scenes = tuple(s for s in scenes if _scene_touches(s, clipped))
        if tile_scenes:
            plans.append(TilePlan(tile, clipped, tile_scenes))
    if not plans:
        raise AreaError(f"{job.area.label}: the scenes found do not overlap the area")
    return plans


def run_product(
    job: Job, family: str, product: ProductFunction, file_name: FileNamer | None = None
) -> list[Path]:
    """Run ``product`` on every tile of the job; returns the STAC item paths written.

    Files are named ``<item id>_<CODE>.tif`` unless ``file_name`` says otherwise.
    """
    written: list[Path] = []
    for tile_plan in plan(job):
        written += _run_tile(job, family, product, tile_plan, file_name)
    update_catalog(job.out_dir, [p.stem for p in written])
    return written


def _run_tile(
    job: Job, family: str, product: ProductFunction, tile_plan: TilePlan, file_name: FileNamer | None
) -> list[Path]:
    resolution = job.config.cube.resolution
    geobox = tile_plan.area.geobox(resolution)
    cube = load_cube(tile_plan.scenes, geobox, job.config.cube)
    periods = product(cube, job.period, job.config)
    items, outputs = [], []
    for result in periods:
        item_id = f"{family}_{tile_plan.tile.code}_{result.label}_R{resolution:g}m"
        assets = {
            str(code): job.out_dir
            / item_id
            / (
                file_name(str(code), tile_plan.tile.code, result.label, resolution)
                if file_name
                else f"{item_id}_{code}.tif"
            )
            for code in result.layers.data_vars
        }
        items.append(
            OutputItem(
                item_id,
                tile_plan.tile.code,
                result.period.start,
                result.period.end,
                geobox,
                assets,
                _provenance(job, family, cube),
            )
        )
        outputs += [LayerOutput(str(code), result.layers[code], path) for code, path in assets.items()]
    if job.resume and all(item_path(job.out_dir, it.id).exists() for it in items):
        log.info("tile %s: outputs complete, skipped", tile_plan.tile.code)
        return [item_path(job.out_dir, it.id) for it in items]
    description = f"{family} {tile_plan.tile.code}"
    with explain_read_errors(tile_plan.scenes), block_progress(description, job.progress) as on_progress:
        write_layers(outputs, geobox, on_progress)
    return [write_item(job.out_dir, it) for it in items]


def _scene_touches(scene: Scene, area: Area) -> bool:
    footprints = [shape(it.item.geometry) for it in scene.items if it.item.geometry]
    return not footprints or shapely.union_all(footprints).intersects(area.lonlat_geometry)


def _provenance(job: Job, family: str, cube: xr.Dataset) -> dict[str, object]:
    return {
        "baresoil:family": family,
        "baresoil:source": str(job.source),
        "baresoil:area": job.area.label,
        "baresoil:scenes": int(cube.sizes["time"]),
        "baresoil:config": job.config.to_dict(),
        "gsd": job.config.cube.resolution,
    }
