"""Run the soil maps: samples and covariates in, COGs, a STAC item per grid and cv_report.json out.

The covariates are any rasters and SoilSuite output folders; the maps are made on
the grid of ``--grid``, else of the first covariate source (one item per EEA tile
of SoilSuite outputs, or the first raster's grid in its own CRS).  Samples from
every grid train one forest per property (validated by spatial block
cross-validation, its intervals calibrated on the validation's residuals); the
forests then map every grid in one dask computation per grid, written as COGs
with a STAC item, and the validation goes to ``OUT/cv_report.json`` with its
figures.  ``OUT/catalog.json`` is updated last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..io.cog import LayerOutput, write_layers
from ..io.soil_report import CV_REPORT, comparison_png, observed_predicted_png, write_json
from ..io.stac import OutputItem, update_catalog, write_item
from ..products.soil import (
    FAMILY,
    CovariateStack,
    PropertyColumn,
    PropertyResult,
    SampleColumns,
    SampleError,
    Samples,
    covariate_stack,
    find_covariate_sources,
    map_grids,
    map_property,
    predict_layers,
    read_samples,
)
from .progress import ProgressReport, block_progress

log = logging.getLogger(__name__)

OUTSIDE = "outside the covariates' area"
NO_COVARIATES = "missing covariate values"
MAP_POINTS = 10_000
"""Pixels (a regular subsample) whose distances to the samples the calibration folds are matched to."""


@dataclass(frozen=True)
class SoilMapJob:
    """Everything one soil-mapping run needs to know."""

    samples: Path
    properties: tuple[PropertyColumn, ...]
    covariates: tuple[Path, ...]
    """Covariate rasters, folders of rasters and output folders (STAC catalogs) of SoilSuite runs."""
    out_dir: Path
    dem: Path | None = None
    extras: tuple[Path, ...] = ()
    grid: Path | None = None
    """Raster whose grid the maps are made on (default: the first covariate source's)."""
    covariate_crs: str | None = None
    """CRS of covariate rasters that have none (without it they are refused)."""
    columns: SampleColumns = field(default_factory=SampleColumns)
    config: Config = field(default_factory=Config)
    progress: bool = True
    report: ProgressReport | None = None
    """Told the blocks of maps written after each batch (the API's job progress); may raise to stop the
    run."""


@dataclass(frozen=True)
class SoilMapOutput:
    items: list[Path]
    report: Path
    results: Mapping[str, PropertyResult]
    samples: Samples
    """The samples with covariates (what was left out is in ``samples.excluded``)."""
    missing_covariates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Sample id -> the covariates it lacked, for the samples left out for that."""


def run_soil_maps(job: SoilMapJob, echo: Callable[[str], None] | None = None) -> SoilMapOutput:
    """Fit, validate and map every property of the job; returns the items and the report written."""
    say = echo or log.info
    if not job.properties:
        raise ValueError("no soil property to map")
    _check_unique(job.properties)
    sources = find_covariate_sources(job.covariates)
    grids = map_grids(sources, job.grid, job.covariate_crs)
    samples = read_samples(job.samples, job.properties, job.columns)
    n_read = len(samples) + sum(len(ids) for ids in samples.excluded.values())
    stacks = [covariate_stack(grid, sources, job.config.soil, job.dem, job.extras, job.covariate_crs)
              for grid in grids]  # fmt: skip
    say(f"{n_read} samples read; {len(stacks[0].names)} covariates on {len(grids)} grid(s); sampling ...")
    X, samples, lacking = sample_covariates(stacks, samples)
    pixels = map_points(stacks)
    results = {}
    for pc in job.properties:
        name = pc.prop.name
        have = np.isfinite(samples.values[name])
        _check_enough(job, name, int(have.sum()), n_read, samples)
        say(f"{name}: {int(have.sum())} samples, spatial cross-validation ...")
        results[name] = map_property(
            pc.prop, samples.ids[have], samples.x[have], samples.y[have], X[have], samples.values[name][have],
            stacks[0].covariates, job.config.soil, pixels,
        )  # fmt: skip
    items = [_write_grid(job, stack, results) for stack in stacks]
    report = write_cv_report(job, results, samples, stacks, n_read, lacking)
    update_catalog(job.out_dir, [p.stem for p in items])
    return SoilMapOutput(items, report, results, samples, lacking)


def _check_unique(properties: Sequence[PropertyColumn]) -> None:
    names = [pc.prop.name for pc in properties]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SampleError(f"soil property given more than once: {', '.join(twice)}")


def _check_enough(job: SoilMapJob, name: str, n: int, n_read: int, samples: Samples) -> None:
    """Too few usable samples is an error that says where the others went."""
    least = job.config.soil.min_samples
    if n >= least:
        return
    gone = [f"{reason} {len(ids)}" for reason, ids in samples.excluded.items()]
    if samples.missing.get(name):
        gone.append(f"no value of {name} {len(samples.missing[name])}")
    raise SampleError(
        f"{job.samples}: {name}: only {n} usable sample(s) of {n_read}, at least {least} needed "
        f"(soil.min_samples); left out: {', '.join(gone) or 'none'}"
    )


def sample_covariates(
    stacks: Sequence[CovariateStack], samples: Samples
) -> tuple[np.ndarray, Samples, dict[str, tuple[str, ...]]]:
    """Covariates at the samples (each on the first grid that holds it); others left out by id, and for
    those without every covariate, which they lacked."""
    X = np.full((len(samples), len(stacks[0].names)), np.nan, np.float32)
    placed = np.zeros(len(samples), bool)
    for stack in stacks:
        todo = ~placed
        values, inside = stack.sample(samples.x[todo], samples.y[todo])
        rows = np.flatnonzero(todo)[inside]
        X[rows] = values[inside]
        placed[rows] = True
    samples = samples.subset(placed, OUTSIDE, samples.ids[~placed])
    X = X[placed]
    complete = np.asarray(np.isfinite(X).all(axis=1))
    names = np.array(stacks[0].names)
    lacking = {str(i): tuple(names[~np.isfinite(row)]) for i, row in zip(samples.ids[~complete], X[~complete],
                                                                          strict=True)}  # fmt: skip
    return X[complete], samples.subset(complete, NO_COVARIATES, samples.ids[~complete]), lacking


def map_points(stacks: Sequence[CovariateStack], most: int = MAP_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres standing for the maps (a regular subsample of every grid, ``most`` in all, kept
    where every covariate is present: the pixels that get a value), in the samples' CRS: where the
    calibration looks at distances to the nearest sample."""
    per_grid = max(most // len(stacks), 1)
    centres = [stack.pixel_centres(per_grid) for stack in stacks]
    mapped = [
        np.isfinite(stack.sample(x, y)[0]).all(axis=1) for stack, (x, y) in zip(stacks, centres, strict=True)
    ]
    if not any(m.any() for m in mapped):  # no pixel with every covariate: the grids stand for the maps
        mapped = [np.ones_like(m) for m in mapped]
    pairs = list(zip(centres, mapped, strict=True))
    return np.concatenate([x[m] for (x, _), m in pairs]), np.concatenate([y[m] for (_, y), m in pairs])


def _write_grid(job: SoilMapJob, stack: CovariateStack, results: Mapping[str, PropertyResult]) -> Path:
    grid = stack.grid
    label = f"_{grid.label}" if grid.label else ""
    item_id = f"{FAMILY}_{grid.name}{label}_R{grid.resolution:g}m"
    layers = predict_layers(stack, [r.model for r in results.values()])
    assets = {str(code): job.out_dir / item_id / f"{item_id}_{code}.tif" for code in layers.data_vars}
    outputs = [LayerOutput(code, layers[code], path) for code, path in assets.items()]
    with block_progress(f"soil maps {grid.name}", job.progress, job.report) as on_progress:
        write_layers(outputs, grid.geobox, on_progress)
    properties = {
        "baresoil:family": FAMILY,
        "baresoil:samples": str(job.samples),
        "baresoil:properties": list(results),
        "baresoil:covariate_item": grid.item_id,
        "baresoil:covariates": list(stack.names),
        "baresoil:config": {"soil": job.config.to_dict()["soil"]},
        "gsd": grid.resolution,
    }
    # a grid of the user's own rasters has no period: the item is dated by the day the maps were made
    start, end = (grid.period.start, grid.period.end) if grid.period else (date.today(), date.today())
    tile = grid.name if grid.item_id else ""
    return write_item(job.out_dir, OutputItem(item_id, tile, start, end, grid.geobox, assets,
                                              properties))  # fmt: skip


def write_cv_report(
    job: SoilMapJob,
    results: Mapping[str, PropertyResult],
    samples: Samples,
    stacks: Sequence[CovariateStack],
    n_read: int,
    lacking: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """``cv_report.json`` and its figures (observed vs predicted per property, covariate comparison)."""
    groups = {c.name: c.group for c in stacks[0].covariates}
    props: dict[str, Any] = {}
    for name, result in results.items():
        prop = result.model.prop
        plot = f"cv_{name}.png"
        observed_predicted_png(job.out_dir / plot, f"{prop.title} (spatial CV)", prop.unit, result.observed,
                               result.spatial.quantiles, result.spatial.metrics)  # fmt: skip
        props[name] = _property_entry(result, groups, plot, job)
    comparison = {name: r.comparison for name, r in results.items() if r.comparison}
    report: dict[str, Any] = {
        "properties": props,
        "samples": {
            "file": str(job.samples),
            "read": n_read,
            "used": len(samples),
            "excluded": {reason: list(ids) for reason, ids in samples.excluded.items()},
            "missing_values": {name: list(ids) for name, ids in samples.missing.items()},
            "missing_covariates": {sample: list(names) for sample, names in (lacking or {}).items()},
        },
        "covariates": {
            "sources": [str(path) for path in job.covariates],
            "grids": [_grid_entry(s) for s in stacks],
            "items": [s.grid.item_id for s in stacks if s.grid.item_id],
            "names": list(stacks[0].names),
            "groups": groups,
        },
        "config": job.config.to_dict()["soil"],
    }
    if comparison:
        report["comparison_plot"] = comparison_png(job.out_dir / "cv_comparison.png", comparison).name
    return write_json(job.out_dir / CV_REPORT, report)


def _grid_entry(stack: CovariateStack) -> dict[str, Any]:
    geobox = stack.grid.geobox
    crs = f"EPSG:{geobox.crs.epsg}" if geobox.crs is not None and geobox.crs.epsg else str(geobox.crs)
    return {"name": stack.grid.name, "crs": crs, "shape": list(geobox.shape),
            "transform": list(geobox.transform)[:6], "soilsuite_item": stack.grid.item_id}  # fmt: skip


def _property_entry(
    result: PropertyResult, groups: Mapping[str, str], plot: str, job: SoilMapJob
) -> dict[str, Any]:
    prop, config = result.model.prop, job.config.soil
    ranked = sorted(result.importance.items(), key=lambda kv: -kv[1])
    by_group: dict[str, float] = {}
    for cov, value in ranked:
        by_group[groups[cov]] = by_group.get(groups[cov], 0.0) + value
    cal = result.calibration
    return {
        "unit": prop.unit,
        "title": prop.title,
        "layers": list(prop.layer_codes),
        "storage": {"dtype": prop.dtype, "scale": prop.scale, "nodata": prop.nodata},
        "transform": "log1p" if result.model.log else "none",
        "spatial_cv": dict(result.spatial.metrics),
        "spatial_cv_uncalibrated": dict(result.spatial_uncalibrated.metrics),
        "random_cv": dict(result.random.metrics),
        "interval": {
            "stated_coverage": cal.stated,
            "observed_coverage": cal.observed,
            "observed_coverage_uncalibrated": cal.observed_uncalibrated,
            "calibration": "conformal (CQR) on the residuals of folds whose held-out distances resemble "
            "the map's, lab error taken out of the width"
            if config.calibrate
            else "none",
            "checked": "each calibration fold with the margin of the other folds' residuals (cross-fitted), "
            "against the lab values before the lab error is taken out",
            "margin": cal.margin,
            "margin_space": cal.space,
            "fold_margins": {str(k): v for k, v in cal.fold_margins.items()},
            "lab_error": cal.lab_error,
            "width_factor": cal.width_factor,
            "calibration_folds": dict(cal.folds),
            "calibration_cv": dict(result.calibration_cv.metrics) if result.calibration_cv else None,
            "spatial_cv_note": "spatial_cv shows the map's intervals on the block folds (extrapolation)",
        },
        "folds": {
            "method": "spatial blocks",
            "n_folds": config.cv_folds,
            "block_m": config.cv_block_m,
            "neighbour_m": config.cv_neighbour_m,
            "sizes": np.bincount(result.spatial.folds).tolist(),
        },
        "comparison": list(result.comparison),
        "importance": [{"covariate": c, "group": groups[c], "importance": v} for c, v in ranked],
        "importance_by_group": by_group,
        "plot": plot,
        "predictions": _predictions(result),
    }


def _predictions(result: PropertyResult) -> list[dict[str, Any]]:
    """Every sample's out-of-fold prediction (what the observed-vs-predicted plot shows)."""
    q05, q50, q95 = result.spatial.quantiles
    raw05, _, raw95 = result.spatial_uncalibrated.quantiles
    rows = zip(result.ids, result.spatial.folds, result.observed, q05, q50, q95, raw05, raw95, strict=True)
    return [{"sample_id": str(i), "fold": int(f), "observed": float(o), "q05": float(a), "q50": float(b),
             "q95": float(c), "q05_uncalibrated": float(d), "q95_uncalibrated": float(e)}
            for i, f, o, a, b, c, d, e in rows]  # fmt: skip
