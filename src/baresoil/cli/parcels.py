"""``baresoil parcels``: per-parcel markers database (and the parcel table products) as Sen4CAP."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import load_config
from ..pipeline.cluster import scheduler as dask_scheduler
from . import options as opt

FAMILY = "parcels"
"""``pipeline.parcels.FAMILY``, whose defaults the help texts show (that module is imported by the run)."""


def parcels_command(
    stac: opt.Stac,
    parcels: Annotated[
        Path, typer.Option("--parcels", help="Parcel file: GeoPackage, GeoParquet or Shapefile, any CRS.")
    ],
    id_column: Annotated[str, typer.Option("--id-column", help="Column holding the parcel id (unique).")],
    start: opt.Start,
    end: opt.End,
    out: opt.TableOut,
    collection: opt.Collection = None,
    category_column: Annotated[
        str | None,
        typer.Option("--category-column", help="Column of the declared crop or agricultural category."),
    ] = None,
    s1: Annotated[
        str | None,
        typer.Option("--s1", help="Sentinel-1 STAC source (API root or catalog.json) for VV/VH markers."),
    ] = None,
    s1_collection: Annotated[
        str | None, typer.Option("--s1-collection", help="Sentinel-1 collection id (for a STAC API).")
    ] = None,
    resolution: opt.Resolution10 = None,
    buffer: Annotated[
        float | None,
        typer.Option("--buffer", help="Inward parcel buffer, metres (default: half a pixel, as Sen4CAP)."),
    ] = None,
    min_pixels: Annotated[
        int | None,
        typer.Option(
            "--min-pixels",
            help=f"Report parcels with fewer pixels (default: {opt.default('parcels.min_pixels', FAMILY)}).",
        ),
    ] = None,
    cloud_buffer: opt.CloudBuffer = None,
    max_cloud_cover: opt.MaxCloudCover = None,
    min_sun_elevation: opt.MinSunElevation = None,
    config: opt.ConfigFile = None,
    scheduler: opt.Scheduler = None,
) -> None:
    """Markers database per parcel and date (mean, std, min, max, median, p25, p75, count of bands,
    NDVI, NDTI, NDMI, BSI, FCOVER and S1 VV/VH), long and in Sen4CAP's wide layout, plus the parcel
    products; GeoParquet and CSV, described in OUT/catalog.json."""
    from ..catalog.source import StacSource, TimeRange  # here, not above: `baresoil --help` imports all
    from ..pipeline.parcels import ParcelJob, run_parcels

    overrides = {
        **opt.cube_overrides(resolution, cloud_buffer, max_cloud_cover, min_sun_elevation),
        "parcels.buffer_m": buffer,
        "parcels.min_pixels": min_pixels,
    }
    job = ParcelJob(
        source=StacSource(stac, collection),
        parcels=parcels,
        id_column=id_column,
        period=TimeRange.parse(start, end),
        out_dir=Path(out),
        category_column=category_column,
        s1_source=StacSource(s1, s1_collection) if s1 else None,
        config=load_config(config, FAMILY).override(**overrides),
    )
    with dask_scheduler(scheduler):
        run = run_parcels(job)
    kept = len(run.parcels)
    reported = run.parcels.report["parcel_id"].nunique()
    typer.echo(f"{kept} parcel(s), {len(run.markers)} marker rows; {reported} parcel(s) in the report")
    typer.echo(f"item: {run.item}; catalog: {job.out_dir / 'catalog.json'}")
