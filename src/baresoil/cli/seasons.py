"""``baresoil seasons``: cropping patterns and bare-soil periods of a year (the HRL VLCC croplands layers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ..pipeline.cluster import scheduler as dask_scheduler
from . import options as opt


def seasons_command(
    stac: opt.Stac,
    year: Annotated[
        int, typer.Option("--year", help="Reference year (observations from July before to June after).")
    ],
    out: opt.Out,
    collection: opt.Collection = None,
    bbox: opt.Bbox = None,
    tile: opt.Tile = None,
    aoi: opt.Aoi = None,
    parcels: Annotated[
        Path | None, typer.Option("--parcels", help="Field polygons: results per field, as the HRL does.")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="Field id column of --parcels.")
    ] = None,
    crop_column: Annotated[
        str | None,
        typer.Option(
            "--crop-column",
            help="Declared crop of the reference year in --parcels (any label): tells a spring crop's "
            "rise (maize, beet, potatoes, 'spring …') from a winter crop's green-up ('winter …').",
        ),
    ] = None,
    s1: Annotated[
        str | None,
        typer.Option("--s1", help="Sentinel-1 STAC source (VV, VH): fills cloudy gaps of the NDVI band."),
    ] = None,
    s1_collection: Annotated[
        str | None, typer.Option("--s1-collection", help="Collection id of --s1 (for a STAC API).")
    ] = None,
    zone: Annotated[
        int | None,
        typer.Option(
            "--zone",
            help=f"HRL climate zone of the season windows: 1 or 2 (default: {opt.default('seasons.zone')}).",
        ),
    ] = None,
    landcover: Annotated[
        str | None, typer.Option("--landcover", help="WorldCover-class raster; cropland (40) only.")
    ] = None,
    resolution: opt.Resolution10 = None,
    cloud_buffer: opt.CloudBuffer = None,
    max_cloud_cover: opt.MaxCloudCoverAll = None,
    min_sun_elevation: opt.MinSunElevation = None,
    config: opt.ConfigFile = None,
    scheduler: opt.Scheduler = None,
    resume: opt.Resume = False,
    overwrite: opt.Overwrite = False,
    strict: opt.Strict = False,
) -> None:
    """CPMCE, CPMCH, CPMCD, CPBSB, CPBSA (each with its confidence layer), CPSCE, CPSCD and CPCSY."""
    from ..catalog.source import StacSource  # here, not above: `baresoil --help` imports every command
    from ..inputs.parcels import default_buffer_m, read_parcels
    from ..pipeline.run import run_product
    from ..products.seasons import FAMILY, analysis_window, file_name, seasons_product

    if (parcels is None) != (id_column is None):
        raise ConfigError("--parcels and --id-column go together")
    if crop_column is not None and parcels is None:
        raise ConfigError("--crop-column needs --parcels")
    window = analysis_window(year)
    overrides = {
        **opt.cube_overrides(resolution, cloud_buffer, max_cloud_cover, min_sun_elevation),
        "seasons.year": year,
        "seasons.zone": zone,
        "seasons.landcover": landcover,
    }
    job = opt.make_job(
        stac,
        collection,
        (bbox, tile, aoi),
        str(window.start),
        str(window.end),
        out,
        config,
        overrides,
        resume,
        product=FAMILY,
        run=opt.RunOptions(
            overwrite=overwrite,
            strict=strict,
            inputs=_inputs(parcels, id_column, crop_column, s1, s1_collection),
        ),
    )
    fields = None
    if parcels is not None and id_column is not None:
        fields = read_parcels(
            parcels, id_column, crop_column=crop_column, buffer_m=default_buffer_m(job.config.cube.resolution)
        )
    radar = StacSource(s1, s1_collection) if s1 is not None else None
    product = seasons_product(fields, radar)
    with dask_scheduler(scheduler):
        items = run_product(job, FAMILY, product, file_name)
    opt.report_run(job, FAMILY, items)


def _inputs(
    parcels: Path | None,
    id_column: str | None,
    crop_column: str | None,
    s1: str | None,
    s1_collection: str | None,
) -> dict[str, str]:
    """The inputs beside the config that decide the layers (the run's request records them)."""
    given = {"parcels": parcels, "id_column": id_column, "crop_column": crop_column, "s1": s1,
             "s1_collection": s1_collection}  # fmt: skip
    return {key: str(value) for key, value in given.items() if value is not None}
