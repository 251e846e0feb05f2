"""``baresoil soilsuite``: SoilSuite bare-surface mask, frequency and reflectance composites."""

from __future__ import annotations

from typing import Annotated

import typer

from ..pipeline.cluster import scheduler as dask_scheduler
from . import options as opt


def soilsuite_command(
    stac: opt.Stac,
    start: opt.Start,
    end: opt.End,
    out: opt.Out,
    collection: opt.Collection = None,
    bbox: opt.Bbox = None,
    tile: opt.Tile = None,
    aoi: opt.Aoi = None,
    resolution: opt.Resolution = None,
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule",
            help=f"Bare-surface rule: {opt.choices('soilsuite.rule')} "
            f"(default: {opt.default('soilsuite.rule')}).",
        ),
    ] = None,
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold",
            help="PVIR2 threshold: VALUE, a raster FILE, or auto "
            f"(default: {opt.default('soilsuite.threshold')}).",
        ),
    ] = None,
    landcover: Annotated[
        str | None,
        typer.Option("--landcover", help="ESA WorldCover-class raster excluding built-up and water."),
    ] = None,
    min_bare_obs: Annotated[
        int | None,
        typer.Option(
            "--min-bare-obs",
            help=f"Bare observations for the bare class (default: {opt.default('soilsuite.min_bare_obs')}).",
        ),
    ] = None,
    cloud_buffer: opt.CloudBuffer = None,
    max_cloud_cover: opt.MaxCloudCover = None,
    min_sun_elevation: opt.MinSunElevation = None,
    config: opt.ConfigFile = None,
    scheduler: opt.Scheduler = None,
    resume: opt.Resume = False,
    overwrite: opt.Overwrite = False,
    strict: opt.Strict = False,
) -> None:
    """MASK, BSF, VOBS, BOBS, SRC_MEAN/STD/CI95 and MREF for the period and each year (as SCMaP)."""
    from ..pipeline.run import run_product  # here, not above: `baresoil --help` imports every command
    from ..products.soilsuite import FAMILY, soilsuite

    overrides = {
        **opt.cube_overrides(resolution, cloud_buffer, max_cloud_cover, min_sun_elevation),
        "soilsuite.rule": rule,
        "soilsuite.threshold": threshold,
        "soilsuite.landcover": landcover,
        "soilsuite.min_bare_obs": min_bare_obs,
    }
    run = opt.RunOptions(overwrite=overwrite, strict=strict)
    job = opt.make_job(
        stac, collection, (bbox, tile, aoi), start, end, out, config, overrides, resume, run=run
    )
    with dask_scheduler(scheduler):
        items = run_product(job, FAMILY, soilsuite)
    opt.report_run(job, FAMILY, items)
