"""Quality report of SoilSuite (``bench_soilsuite``): acceptance, accuracy, confusion matrices, speed."""

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

SPEED_COLUMNS: tuple[Column, ...] = (
    ("area (share of side)", "area_fraction"),
    ("resolution (m)", "resolution_m"),
    ("chunk (px)", "chunk_px"),
    ("chunks", "chunks"),
    ("pixels", "pixels"),
    ("dates", "dates"),
    ("runs", "repeats"),
    ("seconds", "seconds"),
    ("pixel-observations/s", "pixel_observations_per_second"),
    ("COG files", "cog_files"),
    ("COG MB", "cog_megabytes"),
    ("reading onto the grid (s)", "read_seconds"),
    ("time / reading", "ratio_to_reading"),
    ("time / decoding", "ratio_to_decoding"),
    ("time / reading bytes", "ratio_to_reading_bytes"),
    ("peak memory (MB)", "peak_rss_mb"),
)
MASK_NAMES = {"1": "bare surface", "2": "permanent vegetation", "3": "other surfaces", "nodata": "nodata"}


def soilsuite_page(runs: Mapping[str, Run]) -> list[str]:
    run = runs.get("bench_soilsuite")
    if run is None:
        return [missing("bench_soilsuite"), *against_floor_and_notebook(runs, "soilsuite")]
    accuracy = run.named("soilsuite-accuracy")
    speed = run.named("soilsuite-speed")
    default = next((r for r in accuracy if r.get("threshold") == "auto" and r.get("landcover")
                    and r.get("cover_screen", True)), None)  # fmt: skip
    parts = [f"Measured by {run.provenance()}"]
    ratio = max((r["ratio_to_reading"] for r in speed if "ratio_to_reading" in r), default=None)
    parts.append(
        "## Acceptance (issue 3)\n\nDefault settings (threshold `auto`, WorldCover-class input); "
        "MASK and BSF on pure pixels (wholly inside one parcel), SRC_MEAN on interior pixels (pure, "
        "and so are their eight neighbours), since a pixel's reflectance carries some of its "
        "neighbours' (below):\n\n"
        + targets_table(
            [
                target("MASK overall accuracy", get(default, "mask_oa_pure"), at_least(0.95)),
                target(
                    "BSF mean absolute error (percentage points)", get(default, "bsf_mae_pp_pure"), at_most(3)
                ),
                target(
                    "SRC_MEAN RMSE, worst band (reflectance)",
                    get(default, "src_rmse_max_interior"),
                    at_most(0.01),
                ),
                target(
                    "end-to-end time / reading the same COGs onto the grid (worst run)", ratio, at_most(1.5)
                ),
            ]
        )
    )
    rows: list[tuple[object, ...]] = [
        (
            f"`{r.get('threshold')}`",
            r.get("rule", "pvir2"),
            fmt(r.get("landcover")),
            fmt(r.get("cover_screen", True)),
            fmt(r.get("mask_oa_pure")),
            fmt(r.get("mask_oa_all")),
            fmt(r.get("bsf_mae_pp_pure")),
            fmt(r.get("bsf_mae_pp_all")),
            fmt(r.get("bsf_mae_pp_cropland")),
            fmt(r.get("bsf_mae_same_obs_pp_pure")),
            fmt(r.get("src_rmse_max_interior")),
            fmt(r.get("src_rmse_max_pure")),
            fmt(r.get("src_rmse_max_all")),
        )
        for r in accuracy
    ]
    header = (
        "threshold",
        "rule",
        "land cover",
        "cover screen",
        "MASK OA, pure",
        "MASK OA, all",
        "BSF MAE pp, pure",
        "BSF MAE pp, all",
        "BSF MAE pp, cropland",
        "BSF MAE pp, same observations",
        "SRC RMSE max, interior",
        "SRC RMSE max, pure",
        "SRC RMSE max, all",
    )
    parts.append(
        "## Accuracy against the simulator's truth\n\n" + markdown_table(header, rows) + "\n\n"
        "*Pure* pixels lie wholly inside one parcel; *all* includes mixed parcel edges; "
        "*interior* pixels are pure and so are their eight neighbours, of the same parcel. A pure "
        "pixel next to another surface is not pure in the image: the 20 m bands and the warp from "
        "the scenes' UTM grid onto the EEA grid mix some of the neighbouring pixels into it, which "
        "no compositing can undo (a rock-outcrop pixel next to cropland has its B11 off by up to "
        "0.13), so the reflectance composite is judged on interior pixels. BSF "
        "against *the same observations* counts only the observations the product itself took as "
        "valid, so it measures the detection alone (not the cloud mask)."
    )
    if default is not None:
        parts.append(_soilsuite_confusion(default))
        if any(default.get(f"src_rmse_{t}") for t in ("interior", "pure", "all")):
            parts.append(_rmse_per_band(default))
    if speed:
        parts.append(
            "## Speed and memory\n\nEnd-to-end runs (search, cube, every layer and period, COGs, "
            "STAC), each in its own process. *Reading* is the cube's own reader (odc-stac) bringing "
            "the same COGs onto the same grid and chunks, with nothing computed: the time the product "
            "cannot avoid. Where a row shows several runs, the run and the reading alternated that "
            "many times and the fastest of each is shown: on these shared machines one timing "
            "differs from the next by up to a fifth. *Decoding* reads each COG whole with rasterio, "
            "one after another, without warping to the EEA grid; *reading bytes* copies the files "
            "from the page cache. On this small world each COG is a few hundred pixels a side, so "
            "the reader's cost per file (open, warp set-up) dominates decoding.\n\n"
            + records_table(speed, SPEED_COLUMNS)
        )
    return [*parts, *against_floor_and_notebook(runs, "soilsuite")]


def against_floor_and_notebook(runs: Mapping[str, Run], family: str) -> list[str]:
    """The section of ``bench_speed``'s runs of ``family``: targets of issue 28, times and profile."""
    every = runs.get("bench_speed")
    records = [r for r in every.named("speed") if r.get("family") == family] if every is not None else []
    if every is None or not records:
        return []
    run = Run(every.bench, records)  # the family's own runs, for the provenance
    worst = max(records, key=lambda r: float(r["product_vs_floor"]))
    product, peer = worst["product"], worst["notebook_peer"]
    targets = targets_table(
        [
            target("end to end / decode floor (worst run)", worst["product_vs_floor"], at_most(1.5)),
            target("speed-up over the notebook peer", worst["speedup_over_notebook"], at_least(3)),
            target("CPU use, % (200 % = both cores)", product["cpu_percent"], at_least(180)),
            target("peak memory, MB", product["peak_rss_mb"], at_most(min(1024, peer["peak_rss_mb"]))),
        ]
    )
    rows = [
        (fmt(r["resolution_m"]), fmt(r["area_fraction"]), fmt(r["cog_files"]), name,
         fmt(r[key]["seconds"]), fmt(r[key]["seconds"] / r["decode_floor"]["seconds"]),
         fmt(r[key]["cpu_percent"]), fmt(r[key]["peak_rss_mb"]),
         " / ".join(fmt(v) for v in (r.get("load_average") or {}).get("before", [])))
        for r in records
        for name, key in (("decode floor", "decode_floor"), ("notebook peer", "notebook_peer"),
                          ("`baresoil " + family + "`", "product"))
    ]  # fmt: skip
    times = markdown_table(
        ("resolution (m)", "area (share of side)", "COG files", "run", "seconds", "× decode floor", "CPU %",
         "peak memory (MB)", "load average before (1 / 5 / 15 min)"),
        rows,
    )  # fmt: skip
    parts = [
        f"## Against the decode floor and the notebook (issue 28)\n\nMeasured by {run.provenance()} The "
        "three runs, one after the other on the same catalog and area, each in its own process: the "
        "*decode floor* decodes every COG the product's scenes need whole with rasterio on two threads, "
        "without warping (what no reader can beat); the *notebook peer* is the odc-stac + xarray code a "
        "user would write (`benchmarks/peers.py`); the product is the `baresoil` command, end to end "
        "(search to the outputs and their STAC). The machine is shared: the load average says how busy it "
        "was, and only the ratios of one run compare.\n\n" + targets + "\n\n" + times
    ]
    profile = worst.get("profile") or {}
    if profile:
        total = float(product["seconds"])
        steps = [(name, fmt(float(seconds)), fmt(100 * float(seconds) / total))
                 for name, seconds in sorted(profile.items(), key=lambda kv: -float(kv[1]))]  # fmt: skip
        parts.append(
            "### Where the product's seconds go\n\nThe product's own spans (`baresoil.spans`, written "
            "where `BARESOIL_PROFILE` says), in the run above at "
            f"{fmt(worst['resolution_m'])} m: thread-seconds, summed over the threads that compute (on "
            "two busy cores they add up to about twice the wall time), except the spans marked wall; "
            "*startup* is the wall time outside the run itself (the interpreter, the imports, the "
            "command).\n\n" + markdown_table(("phase", "seconds", "% of the product's wall time"), steps)
        )
    return parts


def _rmse_per_band(record: Record) -> str:
    tags = [t for t in ("interior", "pure", "all") if record.get(f"src_rmse_{t}")]
    bands = tuple(record.get(f"src_rmse_{tags[0]}") or {})
    rows = [(t, *(fmt((record.get(f"src_rmse_{t}") or {}).get(b)) for b in bands)) for t in tags]
    return "### SRC_MEAN RMSE per band (default settings)\n\n" + markdown_table(("pixels", *bands), rows)


def _soilsuite_confusion(record: Record) -> str:
    out = []
    for tag, title in (("pure", "pure pixels"), ("all", "all pixels")):
        confusion = record.get(f"confusion_{tag}") or {}
        if not confusion:
            continue
        predicted = ("1", "2", "3", "nodata")
        rows = []
        for truth in ("1", "2", "3"):
            counts = [int(confusion.get(f"{truth}->{p}", 0)) for p in predicted]
            total = sum(counts)
            right = counts[int(truth) - 1]
            rows.append((f"{truth} {MASK_NAMES[truth]}", *counts, fmt(right / total if total else None)))
        header = (
            "truth \\ MASK",
            *(p if p == "nodata" else f"{p} {MASK_NAMES[p]}" for p in predicted),
            "recall",
        )
        out.append(
            f"### MASK confusion matrix, {title} (threshold `{record.get('threshold')}`)\n\n"
            + markdown_table(header, rows)
        )
    return "\n\n".join(out)
