"""Run the temporal composites: plan the grids, build each grid's cube, write COGs or a data cube, and STAC.

On the EEA grid (the default) every 100 km tile the area touches is one grid, as
for the other products; in any other CRS the whole area is one grid, its pixel
edges on multiples of the resolution.  Only the bands asked for (and SCL) are
read.  Each grid is one dask computation that writes every period:

* ``cog``: a COG per band and ``NVALID`` per period, one STAC item per grid and period
  (``composite_<tile>_<period>_R20m``), as every other family;
* ``netcdf``, ``zarr``: one file (folder) per grid holding every period along ``time``,
  one STAC item per grid (``composite_<tile>_<span>_<every>_R20m``) with the datacube extension.

Grids whose items already exist are skipped on resume.  ``catalog.json`` is updated last.

A composite run holds its output folder as the tile runs do (:mod:`.lock`), and its reads are retried
within ``read.*``; an asset that cannot be read ends the run, naming it (the composites keep no run
manifest to record what they would leave out).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
import xarray as xr
from odc.geo.geobox import GeoBox
from shapely.geometry import shape

from ..catalog.layouts import SCL
from ..catalog.scenes import Scene, select_scenes
from ..catalog.source import find_items
from ..config import CompositeConfig
from ..cube.load import data_footprint, explain_read_errors, load_cube
from ..errors import AreaError, ConfigError
from ..grid import Area, is_eea_crs, parse_crs, pixel_size_m
from ..grid import geobox_in_crs as crs_geobox
from ..io.atomic import remove_partials
from ..io.cog import LayerOutput, write_layers
from ..io.datacube import MEDIA_TYPES, SUFFIXES, CubePeriod, cube_dataset, write_cube
from ..io.stac import CubeAsset, OutputItem, item_path, update_catalog, write_cube_item, write_item
from ..products.base import ProductPeriod, period_label
from ..products.composite import FAMILY, STAT_TITLES, check_settings, composite, composite_bands
from .lock import OutputLock, new_run_id
from .progress import block_progress
from .run import Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GridPlan:
    """One output grid: an EEA tile, or the whole area in the CRS asked for."""

    name: str
    """Item-id part: the tile code (``E44N27``) or the CRS (``EPSG32632``)."""
    tile: str
    """EEA tile code; empty on a grid of another CRS."""
    geobox: GeoBox
    scenes: tuple[Scene, ...]
    resolution: str
    """Item-id part: ``R20m``, ``R0.0002deg``."""


def run_composite(job: Job) -> list[Path]:
    """Write the composites of the job (settings in ``job.config.composite``); returns the item paths."""
    params = job.config.composite
    check_settings(params)
    written: list[Path] = []
    with OutputLock(job.out_dir, new_run_id()):
        for stale in remove_partials(job.out_dir):
            log.debug("removed %s, left by a run that was killed", stale)
        for grid in plan_grids(job):
            if params.format == "cog":
                written += _run_cogs(job, grid)
            else:
                written.append(_run_cube(job, grid))
        update_catalog(job.out_dir, [p.stem for p in written])
    return written


def plan_grids(job: Job) -> list[GridPlan]:
    """The grids of the job's area that hold data, each with its scenes (searched once)."""
    params = job.config.composite
    bands = (*composite_bands(params), SCL)
    items = find_items(job.source, job.area, job.period, job.config.read)
    scenes = select_scenes(items, job.config.scenes, bands)
    area = job.area.intersection(data_footprint(items), "the footprint of the scenes")
    if is_eea_crs(params.crs):
        resolution = job.config.cube.resolution
        plans = []
        for tile, part in area.split_by_tile():
            touching = tuple(s for s in scenes if _touches(s, part))
            if touching:
                geobox = part.geobox(resolution)
                plans.append(GridPlan(tile.code, tile.code, geobox, touching, f"R{resolution:g}m"))
        if not plans:
            raise AreaError(f"{job.area.label}: the scenes found do not overlap the area")
        return plans
    geobox = crs_geobox(area, params.crs, _resolution(params, job.config.cube.resolution))
    return [GridPlan(_crs_name(params.crs), "", geobox, tuple(scenes), _resolution_label(geobox))]


def _resolution(params: CompositeConfig, cube_resolution: float) -> float:
    if params.resolution > 0:
        return params.resolution
    crs = parse_crs(params.crs)
    if not crs.is_projected:
        raise ConfigError(f"{params.crs} is not a projected CRS: give the resolution in its units (degrees)")
    return cube_resolution


def _crs_name(crs: str) -> str:
    parsed = parse_crs(crs)
    epsg = parsed.to_epsg()
    return f"EPSG{epsg}" if epsg else re.sub(r"[^A-Za-z0-9]+", "", parsed.name)[:24] or "CRS"


def _resolution_label(geobox: GeoBox) -> str:
    size = abs(geobox.resolution.x)
    crs = geobox.crs
    metres = crs is not None and crs.units[0] in ("metre", "meter", "m")
    return f"R{size:g}m" if metres else f"R{size:g}deg"


def _touches(scene: Scene, area: Area) -> bool:
    footprints = [shape(it.item.geometry) for it in scene.items if it.item.geometry]
    return not footprints or shapely.union_all(footprints).intersects(area.lonlat_geometry)


def _grid_cube(job: Job, grid: GridPlan) -> xr.Dataset:
    bands = (*composite_bands(job.config.composite), SCL)
    reads = dataclasses.replace(job.config.read, strict=True)
    return load_cube(grid.scenes, grid.geobox, job.config.cube, bands, reads)


def _run_cogs(job: Job, grid: GridPlan) -> list[Path]:
    cube = _grid_cube(job, grid)
    periods = composite(cube, job.period, job.config)
    items, outputs = [], []
    for result in periods:
        item_id = f"{FAMILY}_{grid.name}_{result.label}_{grid.resolution}"
        codes = [str(code) for code in result.layers.data_vars]
        assets = {code: job.out_dir / item_id / f"{item_id}_{code}.tif" for code in codes}
        props = {**_provenance(job, grid, cube), "baresoil:period": result.label}
        span = result.period
        items.append(OutputItem(item_id, grid.tile, span.start, span.end, grid.geobox, assets, props))
        outputs += [LayerOutput(code, result.layers[code], path) for code, path in assets.items()]
    if job.resume and all(item_path(job.out_dir, it.id).exists() for it in items):
        log.info("grid %s: outputs complete, skipped", grid.name)
        return [item_path(job.out_dir, it.id) for it in items]
    bar = block_progress(f"{FAMILY} {grid.name}", job.progress, job.report)
    with explain_read_errors(grid.scenes), bar as progress:
        write_layers(outputs, grid.geobox, progress)
    return [write_item(job.out_dir, it) for it in items]


def _run_cube(job: Job, grid: GridPlan) -> Path:
    params = job.config.composite
    item_id = f"{FAMILY}_{grid.name}_{period_label(job.period)}_{params.every}_{grid.resolution}"
    path = job.out_dir / item_id / f"{item_id}{SUFFIXES[params.format]}"
    if job.resume and item_path(job.out_dir, item_id).exists() and path.exists():
        log.info("grid %s: outputs complete, skipped", grid.name)
        return item_path(job.out_dir, item_id)
    cube = _grid_cube(job, grid)
    periods = composite(cube, job.period, job.config)
    dataset = cube_dataset([_cube_period(p) for p in periods], grid.geobox, _cube_attrs(job, params))
    with explain_read_errors(grid.scenes):
        write_cube(dataset, path, params.format)
    variables = list(periods[0].layers.data_vars)
    title = f"{STAT_TITLES[params.stat].capitalize()} composites every {params.every} ({params.format})"
    asset = CubeAsset(path, MEDIA_TYPES[params.format], title, [str(v) for v in variables],
                      [(p.period.start, p.period.end) for p in periods])  # fmt: skip
    return write_cube_item(job.out_dir, item_id, grid.tile, grid.geobox, asset, _provenance(job, grid, cube))


def _cube_period(result: ProductPeriod) -> CubePeriod:
    layers = {str(code): result.layers[code] for code in result.layers.data_vars}
    return CubePeriod(result.period.start, result.period.end, result.label, layers)


def _cube_attrs(job: Job, params: CompositeConfig) -> dict[str, str]:
    return {
        "title": f"baresoil {STAT_TITLES[params.stat]} surface-reflectance composites every {params.every}",
        "source": str(job.source),
        "area": job.area.label,
        "statistic": params.stat,
        "period": params.every,
        "history": "baresoil composite",
    }


def _provenance(job: Job, grid: GridPlan, cube: xr.Dataset) -> dict[str, Any]:
    params = job.config.composite
    return {
        "baresoil:family": FAMILY,
        "baresoil:source": str(job.source),
        "baresoil:area": job.area.label,
        "baresoil:scenes": int(cube.sizes["time"]),
        "baresoil:stat": params.stat,
        "baresoil:every": params.every,
        "baresoil:bands": list(composite_bands(params)),
        "baresoil:config": job.config.recorded(),
        "gsd": round(pixel_size_m(grid.geobox), 3),
    }
