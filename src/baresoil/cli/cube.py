"""``baresoil cube``: build the observation cube and write its observation statistics."""

from __future__ import annotations

from pathlib import Path

import typer

from ..catalog.source import StacSource, TimeRange
from ..config import load_config
from ..pipeline.cluster import scheduler as dask_scheduler
from ..pipeline.run import Job, run_product
from ..products.observations import FAMILY, observation_counts
from . import options as opt


def cube_command(
    stac: opt.Stac,
    start: opt.Start,
    end: opt.End,
    out: opt.Out,
    collection: opt.Collection = None,
    bbox: opt.Bbox = None,
    tile: opt.Tile = None,
    aoi: opt.Aoi = None,
    resolution: opt.Resolution = None,
    cloud_buffer: float | None = typer.Option(
        None, "--cloud-buffer", help="Cloud buffer, metres [default: 100]."
    ),
    max_cloud_cover: float | None = typer.Option(
        None, "--max-cloud-cover", help="Scene filter, % [default: 80]."
    ),
    min_sun_elevation: float | None = typer.Option(
        None, "--min-sun-elevation", help="Scene filter, deg [default: 20]."
    ),
    config: opt.ConfigFile = None,
    scheduler: opt.Scheduler = None,
    resume: opt.Resume = False,
) -> None:
    """Count observations, clear-sky observations and snow per pixel (NOBS, NCLEAR, NSNOW)."""
    job = Job(
        source=StacSource(stac, collection),
        area=opt.area_from_options(bbox, tile, aoi),
        period=TimeRange.parse(start, end),
        out_dir=Path(out),
        config=load_config(config).override(
            **{
                "cube.resolution": resolution,
                "cube.cloud_buffer_m": cloud_buffer,
                "scenes.max_cloud_cover": max_cloud_cover,
                "scenes.min_sun_elevation": min_sun_elevation,
            }
        ),
        resume=resume,
    )
    with dask_scheduler(scheduler):
        items = run_product(job, FAMILY, observation_counts)
    typer.echo(f"wrote {len(items)} item(s); catalog: {job.out_dir / 'catalog.json'}")
