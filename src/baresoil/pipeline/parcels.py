"""Run the parcel products: parcels in, markers database and per-parcel tables out, with a STAC item.

One run reads the parcel file, finds the Sentinel-2 scenes over the parcels'
extent, clips the parcels to the scenes' footprint (reporting those cut or left
out), builds one cube over the whole extent (parcels are never split by EEA
tiles: a parcel's statistics need all its pixels), rasterises the parcel codes
on it, and computes the markers database block by block, with Sentinel-1 when
a second source is given.  The registered table products then run on the
markers.  Files are written under temporary names; the item and the catalog
come last, so an interrupted run is never listed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from ..catalog.scenes import select_scenes
from ..catalog.source import StacSource, TimeRange, find_items
from ..config import Config
from ..cube.load import data_footprint, explain_read_errors, load_cube
from ..cube.s1 import load_s1
from ..grid import Area
from ..inputs.parcels import ParcelError, ParcelSet, default_buffer_m, rasterise_parcels, read_parcels
from ..io.stac import TableAsset, update_catalog, write_table_item
from ..io.tables import CSV_MEDIA_TYPE, PARQUET_MEDIA_TYPE, table_columns, write_csv, write_parquet
from ..products.base import period_label
from ..products.parcels.markers import FEATURE_UNITS, code_blocks, markers_pass, wide_markers
from ..products.parcels.tables import ParcelContext, table_products
from ..spans import span
from .progress import ProgressReport, block_progress

FAMILY = "parcels"
MARKER_DESCRIPTIONS = {
    "parcel_id": "parcel id as in the parcel file",
    "date": "observation day (UTC)",
    "source": "S2 (Sentinel-2 L2A, clear-sky pixels) or S1 (Sentinel-1 backscatter)",
    "feature": "band (B02 … B12, reflectance), index (NDVI, NDTI, NDMI, BSI), FCOVER, SNOW (pixels under "
    "snow), or VV / VH (dB)",
    "mean": "mean of the valid pixels",
    "std": "population standard deviation of the valid pixels",
    "min": "minimum",
    "max": "maximum",
    "median": "median (linear interpolation between order statistics)",
    "p25": "first quartile",
    "p75": "third quartile",
    "count": "valid pixels",
}


@dataclass(frozen=True)
class ParcelJob:
    """Everything one parcel run needs to know."""

    source: StacSource
    parcels: Path
    id_column: str
    period: TimeRange
    out_dir: Path
    category_column: str | None = None
    s1_source: StacSource | None = None
    config: Config = field(default_factory=Config)
    progress: bool = True
    report: ProgressReport | None = None
    """Told the blocks of markers done after each batch (the API's job progress); may raise to stop the
    run."""


@dataclass(frozen=True)
class ParcelRun:
    """What a run wrote, and the tables in memory."""

    item: Path
    files: Mapping[str, Path]
    """Asset key -> file."""
    parcels: ParcelSet
    markers: pd.DataFrame


def run_parcels(job: ParcelJob) -> ParcelRun:
    """Markers database and table products of ``job``; returns the STAC item written."""
    with span("run (wall)"):
        return _run_parcels(job)


def _run_parcels(job: ParcelJob) -> ParcelRun:
    config = job.config
    resolution = config.cube.resolution
    buffer_m = config.parcels.buffer_m if config.parcels.buffer_m >= 0 else default_buffer_m(resolution)
    with span("read parcels"):
        parcels = read_parcels(
            job.parcels, job.id_column, category_column=job.category_column, buffer_m=buffer_m
        )
    if len(parcels) == 0:
        raise ParcelError(f"{job.parcels}: no usable parcel ({len(parcels.report)} reported problems)")
    area = Area(box(*parcels.bounds).buffer(resolution, join_style="mitre"), f"parcels of {job.parcels}")
    with span("search"):
        items = find_items(job.source, area, job.period)
    scenes = select_scenes(items, config.scenes)
    footprint = data_footprint(items)
    parcels = parcels.clip(footprint, "the Sentinel-2 scenes")
    if len(parcels) == 0:
        raise ParcelError(f"{job.parcels}: no parcel lies inside the Sentinel-2 scenes of {job.source}")
    area = area.intersection(footprint, "the Sentinel-2 scenes")
    geobox = area.geobox(resolution)
    with span("plan"):  # the cube's graph and the parcel grid
        cube = load_cube(scenes, geobox, config.cube, reads=config.read)
        codes = rasterise_parcels(parcels, geobox, cube.B02.chunks[-2:])
        layout = code_blocks(codes)
    parcels = parcels.with_pixel_counts(layout.totals, config.parcels.min_pixels)
    s1 = None
    if job.s1_source is not None:
        s1 = load_s1(job.s1_source, geobox, job.period, chunk=int(cube.B02.chunks[-1][0]))
    with (
        explain_read_errors(scenes),
        block_progress("parcel markers", job.progress, job.report) as on_progress,
        span("markers: read and compute (wall)"),
    ):
        # heterogeneity's zones read every parcel pixel's NDVI: kept from this pass, the scenes are read once
        keep_ndvi = config.parcels.hete_method == "zones"
        passed = markers_pass(cube, codes, parcels, s1, layout, on_progress, keep_ndvi=keep_ndvi)
    markers = passed.table
    item_id = f"{FAMILY}_{_slug(job.parcels.stem)}_{period_label(job.period)}_R{resolution:g}m"
    folder = job.out_dir / item_id
    with span("write markers"):
        assets = _write_markers(folder, parcels, markers)
    context = ParcelContext(parcels, markers, job.period, config, has_s1=s1 is not None, cube=cube,
                            codes=codes, s1=s1, pixel_ndvi=passed.pixel_ndvi)  # fmt: skip
    for product in table_products():
        with span(f"{product.name} (wall)"):  # reads, computes and writes its tables
            for name, table in product.run(context).items():
                assets.update(_write_table(folder, name, table, product.title, product.description))
    properties = {
        "baresoil:family": FAMILY,
        "baresoil:source": str(job.source),
        "baresoil:s1_source": str(job.s1_source) if job.s1_source else None,
        "baresoil:parcel_file": str(job.parcels),
        "baresoil:id_column": job.id_column,
        "baresoil:buffer_m": buffer_m,
        "baresoil:parcels": len(parcels),
        "baresoil:parcels_reported": int(parcels.report["parcel_id"].nunique()),
        "baresoil:s2_dates": int(cube.sizes["time"]),
        "baresoil:s1_dates": int(s1.sizes["time"]) if s1 is not None else 0,
        "baresoil:config": config.recorded(),
        "gsd": resolution,
    }
    item = write_table_item(job.out_dir, item_id, area.lonlat_geometry, job.period.start, job.period.end,
                            assets, properties)  # fmt: skip
    update_catalog(job.out_dir, [item_id])
    return ParcelRun(item, {key: asset.path for key, asset in assets.items()}, parcels, markers)


def _write_markers(folder: Path, parcels: ParcelSet, markers: pd.DataFrame) -> dict[str, TableAsset]:
    assets: dict[str, TableAsset] = {}
    path = write_parquet(markers, folder / "markers.parquet")
    assets["markers"] = TableAsset(
        path, "Markers database (long)",
        "Per parcel, observation and feature: mean, std, min, max, median, p25, p75 and count of the valid "
        f"pixels. Feature units: {', '.join(f'{k} {v}' for k, v in FEATURE_UNITS.items())}.",
        PARQUET_MEDIA_TYPE, table_columns(markers, MARKER_DESCRIPTIONS), len(markers),
    )  # fmt: skip
    wide = wide_markers(markers, parcels)
    description = ("One row per parcel (NewID) with its geometry; columns <YYYYMMDD>_<stat>_<type>[_<band>] "
                   "as Sen4CAP's markers database (stat: mean, stdev, min, max, median, p25, p75, "
                   "valid_pixels_cnt; type: L2A band, index name, or AMP_VV / AMP_VH in dB).")  # fmt: skip
    assets["markers_wide"] = TableAsset(
        write_parquet(wide, folder / "markers_wide.parquet"), "Markers database (wide, Sen4CAP names)",
        description, PARQUET_MEDIA_TYPE, row_count=len(wide), primary_geometry="geometry",
    )  # fmt: skip
    assets["markers_wide_csv"] = TableAsset(
        write_csv(wide, folder / "markers_wide.csv"), "Markers database (wide, Sen4CAP names, CSV)",
        description + " Without geometry.", CSV_MEDIA_TYPE, row_count=len(wide),
    )  # fmt: skip
    table = parcel_table(parcels)
    assets["parcels"] = TableAsset(
        write_parquet(table, folder / "parcels.parquet"), "Parcels",
        "The parcels the markers describe: id, category, declared area, pixels inside, the issues reported "
        "for it, and the buffered (and clipped) geometry in EPSG:3035.",
        PARQUET_MEDIA_TYPE, table_columns(table), len(table), primary_geometry="geometry",
    )  # fmt: skip
    report = parcels.report.astype({"parcel_id": str})
    for key, writer, media, suffix in (("parcel_report", write_parquet, PARQUET_MEDIA_TYPE, "parquet"),
                                       ("parcel_report_csv", write_csv, CSV_MEDIA_TYPE, "csv")):  # fmt: skip
        assets[key] = TableAsset(
            writer(report, folder / f"parcel_report.{suffix}"), "Parcel report",
            "Parcels repaired, clipped at the edge of the data, dropped (kept = false), overlapping or with "
            "too few pixels, with the reason.", media, table_columns(report), len(report),
        )  # fmt: skip
    return assets


def parcel_table(parcels: ParcelSet) -> gpd.GeoDataFrame:
    """The parcels as written: id, category, area, pixels, issues and geometry."""
    frame = parcels.frame.drop(columns=["code"])
    issues = parcels.report.groupby("parcel_id")["issue"].agg(lambda s: ";".join(sorted(set(s))))
    frame["issues"] = frame["parcel_id"].map(issues).fillna("")
    return frame


def _write_table(
    folder: Path, name: str, table: pd.DataFrame, title: str, description: str
) -> dict[str, TableAsset]:
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"table name {name!r}: use letters, digits and '_'")
    geometry = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    columns = table_columns(table)
    return {
        name: TableAsset(write_parquet(table, folder / f"{name}.parquet"), f"{title}: {name}", description,
                         PARQUET_MEDIA_TYPE, columns, len(table), geometry),
        f"{name}_csv": TableAsset(write_csv(table, folder / f"{name}.csv"), f"{title}: {name} (CSV)",
                                  description, CSV_MEDIA_TYPE, row_count=len(table)),
    }  # fmt: skip


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "parcels"
