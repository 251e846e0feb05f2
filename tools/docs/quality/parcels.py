"""Quality report of the parcel products (``bench_parcels``, ``bench_parcel_analytics``)."""

from __future__ import annotations

from collections.abc import Mapping

from ..tables import markdown_table
from .results import (
    Column,
    Record,
    Run,
    at_least,
    at_most,
    fmt,
    get,
    missing,
    records_table,
    target,
    targets_table,
)
from .soilsuite import against_floor_and_notebook


def parcels_page(runs: Mapping[str, Run]) -> list[str]:
    return [*_accuracy_parts(runs), *against_floor_and_notebook(runs, "parcels")]


def _accuracy_parts(runs: Mapping[str, Run]) -> list[str]:
    parts = []
    markers = runs.get("bench_parcels")
    analytics = runs.get("bench_parcel_analytics")
    bare = analytics.named("parcel-bare-periods") if analytics else []
    hete = analytics.named("parcel-heterogeneity") if analytics else []
    change = analytics.named("parcel-category-change") if analytics else []
    b, h = _default_variant(bare), _default_variant(hete)
    c = change[0] if change else None
    classes_ordered = _classes_ordered(b)
    parts.append(
        "## Acceptance (issue 5)\n\n"
        + targets_table(
            [
                target(
                    "bare-period detection precision (per parcel)", get(b, "parcel_precision"), at_least(0.95)
                ),
                target("bare-period detection recall (per parcel)", get(b, "parcel_recall"), at_least(0.95)),
                target(
                    "bare-period detection precision (per period)", get(b, "period_precision"), at_least(0.95)
                ),
                target("bare-period detection recall (per period)", get(b, "period_recall"), at_least(0.95)),
                target(
                    "START date mean absolute error (days): START_EST",
                    get(b, "start_est_mae_days"),
                    at_most(5),
                ),
                target(
                    "START date mean absolute error (days): START, the first bare view (Sen4CAP)",
                    get(b, "start_mae_days"),
                    at_most(5),
                ),
                (
                    "confidence classes ordered by accuracy",
                    "Strong more often right than Doubtful",
                    classes_ordered,
                    classes_ordered,
                ),
                target("heterogeneity F1 (mean of the years)", get(h, "f1_mean"), at_least(0.9)),
                target("change of category F1", get(c, "f1"), at_least(0.9)),
            ]
        )
    )
    if markers is not None:
        parts.append(_markers_section(markers))
    else:
        parts.append(missing("bench_parcels"))
    if analytics is None:
        parts.append(missing("bench_parcel_analytics"))
        return parts
    parts.append(
        f"## Bare-soil periods, heterogeneity, change of category\n\nMeasured by {analytics.provenance()} "
        "Bare-soil periods on the default world, per calendar year, against the true bare periods of the "
        "declared parcels; heterogeneity and change of category on a second world simulated with farming "
        "practices (parcels sown in two strips of different crops, grassland ploughed up for an arable "
        "crop in the second year)."
    )
    if b is not None:
        parts.append(_bare_section(b, bare))
    if h is not None:
        parts.append(_hete_section(h, hete))
    if c is not None:
        parts.append(_change_section(c))
    return parts


def _variant_name(record: Record) -> str:
    name = str(record.get("variant", "default"))
    return "Sen4CAP's processing" if name == "sen4cap" else name


MARKERS_SPEED_COLUMNS: tuple[Column, ...] = (
    ("resolution (m)", "resolution_m"),
    ("parcels", "parcels"),
    ("reported", "parcels_reported"),
    ("marker rows", "marker_rows"),
    ("parcel-dates S2", "parcel_dates_s2"),
    ("parcel-dates S1", "parcel_dates_s1"),
    ("seconds", "seconds"),
    ("parcel-dates/s", "parcel_dates_per_second"),
    ("peak memory (MB)", "peak_rss_mb"),
)
MARKERS_TRUTH_COLUMNS: tuple[Column, ...] = (
    ("resolution (m)", "resolution_m"),
    ("FCOVER MAE", "fcover_vs_true_green_mae"),
    ("FCOVER bias", "fcover_vs_true_green_bias"),
    ("FCOVER r", "fcover_vs_true_green_r"),
    ("NDVI r", "ndvi_vs_true_green_r"),
    ("VV MAE (dB)", "vv_db_mae"),
    ("VV bias (dB)", "vv_db_bias"),
    ("VH MAE (dB)", "vh_db_mae"),
    ("VH bias (dB)", "vh_db_bias"),
    ("largest difference to brute force (NDVI)", "exactness_max_abs_diff_ndvi"),
)
BARE_COLUMNS: tuple[Column, ...] = (
    ("variant", _variant_name),
    ("parcel-years", "parcel_years"),
    ("periods detected", "detected_periods"),
    ("observable true periods", "observable_true_periods"),
    ("period precision", "period_precision"),
    ("period recall", "period_recall"),
    ("parcel precision", "parcel_precision"),
    ("parcel recall", "parcel_recall"),
)
START_COLUMNS: tuple[Column, ...] = (
    ("variant", _variant_name),
    ("START MAE", "start_mae_days"),
    ("START median error", "start_median_error_days"),
    ("START MAE vs the first view of the true period", "start_mae_vs_first_observed_bare_days"),
    ("first view after the true start (mean)", "observation_lag_mae_days"),
    ("START_EST MAE", "start_est_mae_days"),
    ("START_EST bias", "start_est_bias_days"),
    ("START_UNC median (±)", "start_unc_median_days"),
    ("truth within ± START_UNC", "start_unc_coverage"),
)


def _default_variant(records: list[Record]) -> Record | None:
    """The run with the default configuration (``variant`` ``default``), else the first."""
    default = [r for r in records if r.get("variant", "default") == "default"]
    return (default or records)[0] if records else None


def _source_table(record: Record) -> str:
    rows = record.get("start_est_by_source") or {}
    lines = ["| dated by | periods | START_EST MAE | truth within ± START_UNC |", "|---|---|---|---|"]
    for source, v in rows.items():
        coverage = "—" if v["coverage"] is None else v["coverage"]  # START alone: no window to cover
        lines.append(f"| {source} | {v['periods']} | {v['mae_days']} | {coverage} |")
    return "\n".join(lines) if rows else "(not measured)"


def _classes_ordered(record: Record | None) -> bool | None:
    classes = (record or {}).get("accuracy_by_s2_class") or {}
    strong = [v["right"] for k, v in classes.items() if k.startswith("Strong")]
    doubtful = [v["right"] for k, v in classes.items() if k.startswith("Doubtful")]
    if not strong or not doubtful:
        return None
    return min(strong) > max(doubtful)


def _markers_section(run: Run) -> str:
    records = run.named("parcel-markers")
    return (
        f"## Markers database\n\nMeasured by {run.provenance()}\n\nSpeed and memory of the whole "
        "`baresoil parcels` run (Sentinel-2 and Sentinel-1):\n\n"
        f"{records_table(records, MARKERS_SPEED_COLUMNS)}\n\n"
        "Against the truth, on parcel-dates with at least 80 % of the parcel's pixels valid: parcel mean "
        "FCOVER against the true green cover, mean backscatter against the noise-free parcel backscatter; "
        "and every statistic of 40 parcel-dates recomputed by brute force from the cube:\n\n"
        + records_table(records, MARKERS_TRUTH_COLUMNS)
    )


def _bare_section(r: Record, variants: list[Record]) -> str:
    classes = r.get("accuracy_by_s2_class") or {}
    fused = r.get("accuracy_by_class_with_s1") or {}
    text = (
        f"### Bare-soil periods\n\n{records_table(variants, BARE_COLUMNS)}\n\n"
        "START dates against the first day of the matched true period (days). START is Sen4CAP's, the "
        "first observation classified bare; START_EST is dated by a Sentinel-1 backscatter step between "
        "the last observation not classified bare and START, else the middle of those days, START_UNC "
        "the half span of the interval used:\n\n"
        f"{records_table(variants, START_COLUMNS)}\n\n"
        f"START_EST by what dated it ({_variant_name(r)}):\n\n{_source_table(r)}\n\n"
        f"Confidence classes against accuracy ({_variant_name(r)}; the share of detected periods that "
        "overlap a true bare period), from Sentinel-2 alone and after the Sentinel-1 confirmation:\n\n"
        + _class_table("class (S2)", classes)
    )
    if fused:
        text += "\n\n" + _class_table("class (with S1)", fused)
    false = r.get("false_periods_by_landcover") or {}
    if false:
        text += (
            "\n\nFalse periods by true land cover: " + ", ".join(f"{k} {v}" for k, v in false.items()) + "."
        )
    return text


CLASS_ORDER = ("Strong+", "Strong", "Good", "Medium", "Poor", "Doubtful")
C_INDEX_ORDER = ("STRONG", "MODERATE", "WEAK", "POOR", "NO")


def _class_rank(name: str) -> tuple[int, bool]:
    """Best class first, each before its Sentinel-1-confirmed variant."""
    base = name.removesuffix("_S1")
    return (CLASS_ORDER.index(base) if base in CLASS_ORDER else len(CLASS_ORDER), name.endswith("_S1"))


def _class_table(title: str, classes: Mapping[str, Record]) -> str:
    rows = [
        (k, classes[k].get("periods"), fmt(classes[k].get("right"))) for k in sorted(classes, key=_class_rank)
    ]
    return markdown_table((title, "periods", "right"), rows)


def _hete_section(r: Record, variants: list[Record]) -> str:
    years = r.get("years") or {}
    rows = [
        (
            year,
            f.get("tp"),
            f.get("fp"),
            f.get("fn"),
            fmt(f.get("precision")),
            fmt(f.get("recall")),
            fmt(f.get("f1")),
        )
        for year, f in years.items()
    ]
    others = ", ".join(f"{_variant_name(v)} {fmt(v.get('f1_mean'))}" for v in variants if v is not r)
    parts = [
        "### Heterogeneity\n\nC_INDEX STRONG, MODERATE or WEAK against the parcels sown in two strips of "
        f"different crops; F1 averaged over the years: {fmt(r.get('f1_mean'))} ({_variant_name(r)}"
        + (f"; {others}" if others else "")
        + f"). Per year, {_variant_name(r)}:",
        markdown_table(("year", "TP", "FP", "FN", "precision", "recall", "F1"), rows),
    ]
    for year, figures in years.items():
        by_truth = figures.get("c_index_by_truth") or {}
        classes = [c for c in C_INDEX_ORDER if any(c in counts for counts in by_truth.values())]
        matrix = [
            (f"truly {'split' if truth == 'True' else 'homogeneous'}", *(counts.get(c, 0) for c in classes))
            for truth, counts in sorted(by_truth.items())
        ]
        if matrix:
            parts.append(
                f"C_INDEX by truth, {year}:\n\n" + markdown_table(("truth \\ C_INDEX", *classes), matrix)
            )
    return "\n\n".join(parts)


def _change_section(r: Record) -> str:
    tp, fp, fn = r.get("tp"), r.get("fp"), r.get("fn")
    parcels = r.get("parcels")
    tn = parcels - tp - fp - fn if all(isinstance(v, int) for v in (parcels, tp, fp, fn)) else None  # type: ignore[operator]
    matrix = markdown_table(
        ("truth \\ predicted (pred_changeP2)", "change", "no change"),
        [("converted grassland", tp, fn), ("kept", fp, tn)],
    )
    return (
        f"### Change of agricultural category\n\n{r.get('parcels')} parcels matched by id, "
        f"{r.get('converted')} converted from grassland to arable. Precision {fmt(r.get('precision'))}, "
        f"recall {fmt(r.get('recall'))}, F1 {fmt(r.get('f1'))}; reference-year false alarms "
        f"(`pred_changeP1`): {r.get('false_alarms_p1')}.\n\n{matrix}"
    )
