"""``baresoil cube``: build the observation cube and write its observation statistics."""

from __future__ import annotations

from ..pipeline.cluster import scheduler as dask_scheduler
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
    cloud_buffer: opt.CloudBuffer = None,
    max_cloud_cover: opt.MaxCloudCover = None,
    min_sun_elevation: opt.MinSunElevation = None,
    config: opt.ConfigFile = None,
    scheduler: opt.Scheduler = None,
    resume: opt.Resume = False,
    overwrite: opt.Overwrite = False,
    strict: opt.Strict = False,
) -> None:
    """Count observations, clear-sky observations and snow per pixel (NOBS, NCLEAR, NSNOW)."""
    from ..pipeline.run import run_product  # here, not above: `baresoil --help` imports every command
    from ..products.observations import FAMILY, observation_counts

    overrides = opt.cube_overrides(resolution, cloud_buffer, max_cloud_cover, min_sun_elevation)
    run = opt.RunOptions(overwrite=overwrite, strict=strict)
    job = opt.make_job(
        stac, collection, (bbox, tile, aoi), start, end, out, config, overrides, resume, run=run
    )
    with dask_scheduler(scheduler):
        items = run_product(job, FAMILY, observation_counts)
    opt.report_run(job, FAMILY, items)
