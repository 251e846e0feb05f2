"""Quality report of the crop seasons (``bench_seasons``): accuracy, calibration of the confidence layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

SEASON_EVENTS = (
    ("emergence", "CPMCE", 8.0),
    ("harvest", "CPMCH", 6.0),
    ("CPBSA", "CPBSA", 10.0),
    ("CPBSB", "CPBSB", 10.0),
)

SPEED_COLUMNS: tuple[Column, ...] = (
    ("resolution (m)", "resolution_m"),
    ("chunk (px)", "chunk_px"),
    ("pixels", "pixels"),
    ("scenes", "scenes"),
    ("seconds", "seconds"),
    ("cores", "cores"),
    ("pixel-years/s/core (with reading)", "pixel_years_per_s_per_core"),
    ("pixel-years/s (kernel alone, one thread)", "kernel_pixel_years_per_s_per_core"),
    ("peak memory (MB)", "peak_rss_mb"),
)


def seasons_page(runs: Mapping[str, Run]) -> list[str]:
    run = runs.get("bench_seasons")
    if run is None:
        return [missing("bench_seasons")]
    accuracy = run.named("seasons_accuracy")
    speed = run.named("seasons_speed")
    default = next((r for r in accuracy if _rules(r) == ("pixel", "sum", "views")), None) or next(
        (r for r in accuracy if _rules(r)[:2] == ("pixel", "sum")), None
    )
    declared = next((r for r in accuracy if _rules(r) == ("field+crops", "sum", "views")), None)
    parts = [f"Measured by {run.provenance()}"]
    acceptance = (
        "## Acceptance (issue 4)\n\nPer pixel, with the default confidence rules (`sum`, `views`), "
        "reference year " + fmt(get(default, "year")) + ":\n\n" + targets_table(_acceptance_rows(default))
    )
    if declared is not None:
        acceptance += (
            "\n\nPer field, with the crops declared for the year (`--crop-column`), the same rules:\n\n"
            + targets_table(_acceptance_rows(declared))
        )
    parts.append(acceptance)
    rows2 = []
    for r in accuracy:
        rows2.append(
            (
                *_rules(r),
                fmt(r.get("pixels")),
                fmt(r.get("main_season_found")),
                *(
                    f"{fmt(r.get(f'{n}_mae_days'))} ({fmt(r.get(f'{n}_bias_days'))})"
                    for n, _, _ in SEASON_EVENTS
                ),
            )
        )
    header = (
        *RULES,
        "pixels scored",
        "main season found",
        *(f"{code} MAE (bias), days" for _, code, _ in SEASON_EVENTS),
    )
    parts.append(
        "## Accuracy against the simulator's truth\n\nCropland pixels wholly inside one parcel, "
        "against the parcel's true events (HRL definitions). *field*: parcels given, results per "
        "field; *+s1*: with the Sentinel-1 cross ratio.\n\n" + markdown_table(header, rows2)
    )
    parts.append(_seasons_calibration(accuracy))
    holdout = run.named("seasons_band_holdout")
    if holdout:
        parts.append(_band_holdout(holdout[-1]))
    if default is not None:
        parts.append(_seasons_flags(default))
        by_end = default.get("CPBSA_mae_by_end") or {}
        if by_end:
            rows4 = [(case, fmt(v.get("pixels")), fmt(v.get("mae_days"))) for case, v in by_end.items()]
            parts.append(
                "### CPBSA error by how the bare period ends (per pixel)\n\n"
                "A next emergence is shown by a later view when a clear view of the pixel comes "
                f"{fmt(default.get('seen_days'))} days or more after it (the crop has had time to grow). "
                "A crop that emerged after the last clear views has not shown yet: the period then runs "
                "on to 31 December.\n\n"
                + markdown_table(("true end of the period", "pixels", "CPBSA MAE, days"), rows4)
            )
        by_crop = default.get("mae_by_crop") or {}
        if by_crop:
            rows3 = [
                (crop, *(fmt(v.get(k)) if k in v else "–" for k in ("e", "h", "bsa", "bsb")))
                for crop, v in by_crop.items()
            ]
            parts.append(
                "### Mean absolute error by crop (per pixel, days)\n\nThe bare period before the main crop "
                "is scored within the year only: a winter crop's starts the year before (flag 65529).\n\n"
                + markdown_table(("crop", "emergence", "harvest", "CPBSA", "CPBSB"), rows3)
            )
    if speed:
        parts.append("## Speed and memory\n\n" + records_table(speed, SPEED_COLUMNS))
    return [*parts, *against_floor_and_notebook(runs, "seasons")]


def _acceptance_rows(record: Record | None) -> list[tuple[str, str, object, bool | None]]:
    rows = []
    for name, code, limit in SEASON_EVENTS:
        value = get(record, f"{name}_mae_days")
        rows.append(target(f"{code} mean absolute error (days)", value, at_most(limit)))
    for name, code, _ in SEASON_EVENTS[:2]:
        conf = get(record, f"{name}_confidence") or {}
        cover, width = conf.get("coverage_half_width"), conf.get("median_width_days")
        rows.append(
            target(f"{code}CL: true dates inside the stated confidence (± width / 2)", cover, at_least(0.85))
        )
        rows.append(target(f"{code}CL: median stated confidence (days)", width, at_most(15)))
    return rows


RULES = ("mode", "combine", "harvest confidence")


def _rules(record: Record) -> tuple[object, object, object]:
    """How a run was made: its mode and confidence rules (runs from before the harvest rule
    ``seasons.harvest_confidence`` read harvests on the band alone)."""
    return record.get("mode"), record.get("combine"), record.get("harvest_rule", "band")


def _seasons_calibration(accuracy: Sequence[Record]) -> str:
    rows = []
    for r in accuracy:
        for name, code, _ in SEASON_EVENTS:
            conf = r.get(f"{name}_confidence") or {}
            if not conf:
                continue
            rows.append(
                (
                    f"{code}CL",
                    *_rules(r),
                    fmt(conf.get("median_width_days")),
                    fmt(conf.get("coverage_half_width")),
                    fmt(conf.get("coverage_width")),
                    fmt(conf.get("not_computable")),
                )
            )
    header = (
        "layer",
        *RULES,
        "median stated width W (days)",
        "observed: true date within ± W/2",
        "observed: within ± W",
        "share without a confidence (flag 65534)",
    )
    return (
        "## Calibration of the confidence layers\n\nA confidence of W days states that the event lies "
        "within about ± W/2 days: W is the width of the q10–q90 band at the event, an 80 % interval if "
        "the band were exact, and at least `seasons.min_event_confidence` days (the error of reading a "
        "date off the curve); with the harvest confidence `views`, a harvest's W is at least the days "
        "between the last view of the crop standing and the first of it gone. The table sets that "
        "statement against how often the true date falls inside it (and inside the wider ± W); coverage "
        "and width go together, since a wide band that covers everything is not the goal.\n\n"
        + markdown_table(header, rows)
    )


def _band_holdout(record: Record) -> str:
    rows = [
        (days, fmt(v.get("views")), fmt(v.get("in_band")), fmt(v.get("in_band_with_noise")))
        for days, v in (record.get("by_days_to_nearest_view") or {}).items()
    ]
    rows.append(("all", fmt(record.get("views_held_out")), fmt(record.get("in_band")),
                 fmt(record.get("in_band_with_noise"))))  # fmt: skip
    return (
        "## The daily band on views left out of its fit\n\n"
        f"On {fmt(record.get('pixels'))} cropland pixels, a fifth of the clear views is left out of the "
        f"fit (`seasons.band_scale` {fmt(record.get('band_scale'))}): the share of them inside the "
        "q10–q90 band, and inside the band widened by the views' own noise, by the days from the view "
        "left out to the nearest view kept. For an exact band 80 % of the views, noise and all, fall "
        "inside the widened band.\n\n" + markdown_table(HOLDOUT_HEADER, rows)
    )


HOLDOUT_HEADER = (
    "days to the nearest view",
    "views left out",
    "inside the band",
    "inside the band with noise",
)


def _seasons_flags(record: Record) -> str:
    flags = record.get("flags_instead") or {}
    if not flags:
        return ""
    from baresoil.registry import layer

    meanings = layer("CPMCE").flags
    total = sum(int(v) for v in flags.values())
    rows: list[tuple[object, ...]] = [
        (
            value,
            meanings.get(int(value), "nodata" if value == "65535" else ""),
            count,
            fmt(count / max(int(record.get("pixels") or total), 1)),
        )
        for value, count in sorted(flags.items(), key=lambda kv: -int(kv[1]))
    ]
    return (
        "### Where no main season was found (per pixel)\n\nThe CPMCE value of the scored pixels without a "
        "main season:\n\n" + markdown_table(("value", "meaning", "pixels", "share of scored"), rows)
    )
