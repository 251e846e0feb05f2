"""``baresoil composite``: clear-sky surface-reflectance composites per calendar period."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from ..errors import ConfigError
from ..pipeline.cluster import scheduler as dask_scheduler
from . import options as opt


def composite_command(
    stac: opt.Stac,
    start: opt.Start,
    end: opt.End,
    out: opt.Out,
    collection: opt.Collection = None,
    bbox: opt.Bbox = None,
    tile: opt.Tile = None,
    aoi: opt.Aoi = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            help=f"Period: {opt.choices('composite.every')}; 10d is dekads "
            f"(default: {opt.default('composite.every')}).",
        ),
    ] = None,
    stat: Annotated[
        str | None,
        typer.Option(
            "--stat",
            help=f"Per-pixel statistic: {opt.choices('composite.stat')} "
            f"(default: {opt.default('composite.stat')}).",
        ),
    ] = None,
    bands: Annotated[
        str | None,
        typer.Option("--bands", help="Bands, comma-separated, e.g. B02,B03,B04 (default: all ten)."),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option("--crs", help="Output CRS, e.g. EPSG:32632 (default: the EEA grid, EPSG:3035)."),
    ] = None,
    resolution: Annotated[
        float | None,
        typer.Option(
            "--resolution",
            help=f"Pixel size in CRS units (default: {opt.default('cube.resolution')} m; "
            "degrees if geographic).",
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="cog (a COG per band and period), netcdf or zarr (a cube per tile)."),
    ] = None,
    min_valid_obs: Annotated[
        int | None,
        typer.Option(
            "--min-valid-obs",
            help=f"Valid observations a composite needs (default: {opt.default('composite.min_valid_obs')}).",
        ),
    ] = None,
    cloud_buffer: opt.CloudBuffer = None,
    max_cloud_cover: opt.MaxCloudCover = None,
    min_sun_elevation: opt.MinSunElevation = None,
    config: opt.ConfigFile = None,
    scheduler: opt.Scheduler = None,
    resume: opt.Resume = False,
) -> None:
    """Surface-reflectance composites (median, mean or geometric median) and valid observations per period."""
    from ..grid import is_eea_crs  # here, not above: `baresoil --help` imports every command
    from ..pipeline.composite import run_composite

    overrides = {
        **opt.cube_overrides(None, cloud_buffer, max_cloud_cover, min_sun_elevation),
        "composite.every": every,
        "composite.stat": stat,
        "composite.bands": _band_list(bands),
        "composite.crs": crs,
        "composite.format": output_format,
        "composite.min_valid_obs": min_valid_obs,
    }
    job = opt.make_job(stac, collection, (bbox, tile, aoi), start, end, out, config, overrides, resume)
    # the pixel size is the EEA grid's (metres, dividing its tiles) or one in the units of the CRS asked for
    key = "cube.resolution" if is_eea_crs(job.config.composite.crs) else "composite.resolution"
    job = dataclasses.replace(job, config=job.config.override(**{key: resolution}))
    with dask_scheduler(scheduler):
        items = run_composite(job)
    typer.echo(f"wrote {len(items)} item(s); catalog: {job.out_dir / 'catalog.json'}")


def _band_list(bands: str | None) -> tuple[str, ...] | None:
    if bands is None:
        return None
    names = tuple(b.strip().upper() for b in bands.split(",") if b.strip())
    if not names:
        raise ConfigError("--bands: give at least one band, e.g. B02,B03,B04")
    return names
