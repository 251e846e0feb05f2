"""Quality report of the soil maps (``bench_soil``): against the true soil, cross-validation."""

from __future__ import annotations

from collections.abc import Mapping

from ..tables import markdown_table
from .results import Run, fmt, missing, target, targets_table


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
        rows.append(
            target(
                f"{prop}: MEC against the true map",
                "≥ 0.6",
                truth.get("mec"),
                lambda v: v >= 0.6,
            )
        )
        rows.append(
            target(
                f"{prop}: 90 % interval coverage (stated 0.90)",
                "0.85 – 0.95",
                truth.get("picp90"),
                lambda v: 0.85 <= v <= 0.95,
            )
        )
    parts.append("## Acceptance (issue 6)\n\n" + targets_table(rows))
    header = (
        "property",
        "unit",
        "pixels",
        "RMSE",
        "MEC",
        "bias",
        "stated 0.90: observed coverage",
        "mean 90 % width",
        "mapped share of soil pixels",
    )
    table: list[tuple[object, ...]] = []
    for r in accuracy:
        t = r.get("truth") or {}
        table.append(
            (
                r.get("property"),
                r.get("unit"),
                fmt(t.get("n")),
                fmt(t.get("rmse")),
                fmt(t.get("mec")),
                fmt(t.get("bias")),
                fmt(t.get("picp90")),
                fmt(t.get("pi90_width")),
                fmt(t.get("mapped_share_of_soil_pixels")),
            )
        )
    parts.append(
        "## The maps against the true soil\n\nEvery mapped pixel against the simulator's true "
        "soil map averaged onto the 20 m grid. The calibration of the uncertainty: Q05–Q95 states "
        "a 90 % interval; the observed coverage is the share of true values inside it.\n\n"
        + markdown_table(header, table)
    )
    cv: list[tuple[object, ...]] = []
    for r in accuracy:
        s, q = r.get("spatial_cv") or {}, r.get("random_cv") or {}
        cv.append(
            (
                r.get("property"),
                fmt(s.get("n")),
                fmt(s.get("rmse")),
                fmt(s.get("mec")),
                fmt(s.get("bias")),
                fmt(s.get("picp90")),
                fmt(q.get("mec")),
                fmt(q.get("picp90")),
            )
        )
    cv_header = (
        "property",
        "samples",
        "RMSE",
        "MEC",
        "bias",
        "PICP90",
        "MEC, random folds",
        "PICP90, random folds",
    )
    parts.append(
        "## Cross-validation (as written to cv_report.json)\n\nSpatial block cross-validation (no "
        "neighbours across folds) and, for contrast, random folds.\n\n" + markdown_table(cv_header, cv)
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
