"""Quality report of the soil maps (``bench_soil``): against the true soil, cross-validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..tables import markdown_table
from .results import (
    Column,
    Record,
    Run,
    at_least,
    between,
    fmt,
    missing,
    records_table,
    target,
    targets_table,
)


def _in(section: str, key: str) -> Callable[[Record], object]:
    """A column reading ``key`` of a record's ``section`` (e.g. its figures against the truth)."""
    return lambda r: (r.get(section) or {}).get(key)


TRUTH_COLUMNS: tuple[Column, ...] = (
    ("property", "property"),
    ("unit", "unit"),
    ("pixels", _in("truth", "n")),
    ("RMSE", _in("truth", "rmse")),
    ("MEC", _in("truth", "mec")),
    ("bias", _in("truth", "bias")),
    ("stated 0.90: observed coverage", _in("truth", "picp90")),
    ("mean 90 % width", _in("truth", "pi90_width")),
    ("mapped share of soil pixels", _in("truth", "mapped_share_of_soil_pixels")),
)
CV_COLUMNS: tuple[Column, ...] = (
    ("property", "property"),
    ("samples", _in("spatial_cv", "n")),
    ("RMSE", _in("spatial_cv", "rmse")),
    ("MEC", _in("spatial_cv", "mec")),
    ("bias", _in("spatial_cv", "bias")),
    ("90 % PI: stated", _in("interval", "stated_coverage")),
    ("observed", _in("spatial_cv", "picp90")),
    ("observed, uncalibrated forest", _in("spatial_cv_uncalibrated", "picp90")),
    ("MEC, random folds", _in("random_cv", "mec")),
    ("PICP90, random folds", _in("random_cv", "picp90")),
)


def soil_page(runs: Mapping[str, Run]) -> list[str]:
    run = runs.get("bench_soil")
    if run is None:
        return [missing("bench_soil")]
    accuracy = run.named("soil-accuracy")
    acceptance = next(iter(run.named("soil-acceptance")), None)
    parts = [f"Measured by {run.provenance()}"]
    rows: list[tuple[str, str, object, bool | None]] = []
    by_prop = {r.get("property"): r for r in accuracy}
    for prop in ("soc", "clay"):
        truth = (by_prop.get(prop) or {}).get("truth") or {}
        rows.append(target(f"{prop}: MEC against the true map", truth.get("mec"), at_least(0.6)))
        rows.append(
            target(f"{prop}: 90 % interval coverage (stated 0.90)", truth.get("picp90"), between(0.85, 0.95))
        )
    parts.append("## Acceptance (issue 6)\n\n" + targets_table(rows))
    parts.append(
        "## The maps against the true soil\n\nEvery mapped pixel against the simulator's true "
        "soil map averaged onto the 20 m grid. The calibration of the uncertainty: Q05–Q95 states "
        "a 90 % interval; the observed coverage is the share of true values inside it. The interval is "
        "calibrated to hold 90 % of measured samples, whose values carry the lab's error and the "
        "variation within a pixel; the true map averaged onto the grid carries neither, so more of it "
        "falls inside.\n\n" + records_table(accuracy, TRUTH_COLUMNS)
    )
    parts.append(
        "## Cross-validation (as written to cv_report.json)\n\nSpatial block cross-validation (no "
        "neighbours across folds) and, for contrast, random folds. The 90 % interval is calibrated on the "
        "spatial folds' residuals; its observed coverage is that of each fold calibrated on the other "
        "folds only, beside the forest's own (runs before the calibration show only the latter, as "
        "observed).\n\n" + records_table(accuracy, CV_COLUMNS)
    )
    comparison: list[tuple[object, ...]] = []
    labels: list[str] = []
    for r in accuracy:
        for row in r.get("comparison") or []:
            if row.get("covariates") not in labels:
                labels.append(row.get("covariates"))
    for r in accuracy:
        found = {row.get("covariates"): row for row in r.get("comparison") or []}
        comparison.append((r.get("property"), *(fmt((found.get(lab) or {}).get("mec")) for lab in labels)))
    if labels:
        parts.append(
            "## Covariate comparison (MEC, spatial CV)\n\n"
            + markdown_table(("property", *labels), comparison)
        )
    if acceptance is not None:
        parts.append(
            f"Samples used: {acceptance.get('samples_used')} of {acceptance.get('samples_read')}; "
            f"SoilSuite covariates {fmt(acceptance.get('soilsuite_seconds'))} s (0 when reused from the "
            "cache), soil maps "
            f"{fmt(acceptance.get('soil_maps_seconds'))} s, peak memory "
            f"{fmt(acceptance.get('peak_rss_mb'))} MB."
        )
    return parts
