"""``baresoil soil``: soil property maps with uncertainty from soil samples and covariate rasters."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from ..pipeline.cluster import scheduler as dask_scheduler
from ..products.soil.properties import PROPERTIES
from ..products.soil.samples import SampleColumns
from . import options as opt

_COLUMNS = SampleColumns()


def soil_command(
    samples: Annotated[
        Path,
        typer.Option(
            "--samples",
            help="Soil samples: CSV (lon/lat in WGS84 unless --x-column/--y-column/--crs) or GeoPackage.",
        ),
    ],
    prop: Annotated[
        list[str],
        typer.Option(
            "--property",
            help=f"Property to map: any numeric column of the samples, in its own unit (e.g. om); "
            f"{', '.join(PROPERTIES)} with SoilGrids' units and scaling; NAME=COLUMN when the column "
            "is named otherwise. Repeatable.",
        ),
    ],
    covariates: Annotated[
        list[Path],
        typer.Option(
            "--covariates",
            help="Covariates: a raster, a folder of rasters, or an output folder (STAC catalog) of "
            "`baresoil soilsuite`. Repeatable; the maps are made on the grid of the first (per EEA tile "
            "for SoilSuite outputs) unless --grid.",
        ),
    ],
    out: opt.Out,
    grid: Annotated[
        Path | None,
        typer.Option("--grid", help="Raster whose grid (CRS, extent, resolution) the maps are made on."),
    ] = None,
    covariate_crs: Annotated[
        str | None,
        typer.Option(
            "--covariate-crs", help="CRS of covariate rasters that have none, e.g. EPSG:28992 (else refused)."
        ),
    ] = None,
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra", help="Extra covariate raster (any CRS; land cover, S1 statistics …). Repeatable."
        ),
    ] = None,
    dem: Annotated[
        Path | None,
        typer.Option(
            "--dem", help="Elevation raster: elevation, slope and topographic position as covariates."
        ),
    ] = None,
    id_column: Annotated[str, typer.Option("--id-column", help="Column of the sample ids.")] = _COLUMNS.id,
    x_column: Annotated[str, typer.Option("--x-column", help="CSV column of x or longitude.")] = _COLUMNS.x,
    y_column: Annotated[str, typer.Option("--y-column", help="CSV column of y or latitude.")] = _COLUMNS.y,
    crs: Annotated[
        str, typer.Option("--crs", help="CRS of the CSV coordinates, e.g. EPSG:25832 (default WGS84).")
    ] = _COLUMNS.crs,
    trees: Annotated[
        int | None, typer.Option("--trees", help=f"Trees per forest (default: {opt.default('soil.trees')}).")
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option("--folds", help=f"Cross-validation folds (default: {opt.default('soil.cv_folds')})."),
    ] = None,
    block_size: Annotated[
        float | None,
        typer.Option(
            "--block-size",
            help=f"Cross-validation block side, metres (default: {opt.default('soil.cv_block_m')}).",
        ),
    ] = None,
    config: opt.ConfigFile = None,
    scheduler: opt.Scheduler = None,
) -> None:
    """Q05, Q50, Q95 and uncertainty maps per property (quantile regression forest, calibrated 90 %
    interval), and cv_report.json."""
    from ..config import load_config
    from ..pipeline.soilmap import SoilMapJob, run_soil_maps
    from ..products.soil import parse_property

    overrides = {"soil.trees": trees, "soil.cv_folds": folds, "soil.cv_block_m": block_size}
    job = SoilMapJob(
        samples=samples,
        properties=tuple(parse_property(p) for p in prop),
        covariates=tuple(covariates),
        out_dir=out,
        dem=dem,
        extras=tuple(extra or ()),
        grid=grid,
        covariate_crs=covariate_crs,
        columns=SampleColumns(id_column, x_column, y_column, crs),
        config=load_config(config).override(**overrides),
    )
    with dask_scheduler(scheduler):
        result = run_soil_maps(job, echo=typer.echo)
    for reason, ids in result.samples.excluded.items():
        typer.echo(f"left out, {reason} ({len(ids)}): {_ids(ids)}{_lacking(ids, result.missing_covariates)}")
    for name, ids in result.samples.missing.items():
        if ids:
            typer.echo(f"no value of {name} ({len(ids)}): {_ids(ids)}")
    for name, res in result.results.items():
        m, cal = res.spatial.metrics, res.calibration
        typer.echo(f"{name}: n {m['n']}, RMSE {m['rmse']:.3g}, MEC {m['mec']:.2f}, bias {m['bias']:.3g}, "
                   f"90 % PI: stated {cal.stated:.2f}, observed {cal.observed:.2f} "
                   f"(uncalibrated forest {cal.observed_uncalibrated:.2f}) (spatial CV)")  # fmt: skip
    typer.echo(f"wrote {len(result.items)} item(s); report: {result.report}; catalog: {out / 'catalog.json'}")


def _ids(ids: tuple[str, ...], shown: int = 12) -> str:
    return ", ".join(ids[:shown]) + (f" … (+{len(ids) - shown})" if len(ids) > shown else "")


def _lacking(ids: tuple[str, ...], lacking: Mapping[str, tuple[str, ...]]) -> str:
    """`` (lacking DEM_SLOPE 6, …)``: how many of these samples lacked each covariate."""
    counts: dict[str, int] = {}
    for sample in ids:
        for name in lacking.get(sample, ()):
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return ""
    shown = sorted(counts.items(), key=lambda kv: -kv[1])
    text = ", ".join(f"{name} {n}" for name, n in shown[:6]) + (" …" if len(shown) > 6 else "")
    return f" (lacking {text})"
