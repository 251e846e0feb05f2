"""Accuracy that travels: every product family's headline figures on many worlds, per world and worst.

    python benchmarks/generalisation.py [--set heldout|tuning|all|WORLD] [--family soilsuite seasons …]

Runs the default commands (optical data only unless a figure says ``s1``) on each world of the
set (``benchmarks/worlds.py``), scores them against the world's truth as the scoring contract
defines it (``baresoil.simulate.truth``; docs/worlds.md), and prints one JSON line per
world and family, then one summary line per family: each figure's median, its worst world
and whether every world meets the target (the acceptance asks for the worst, not the median).

Families and figures:

* ``soilsuite`` (20 m, 2021–2022, no land-cover input): MASK overall accuracy on pure pixels,
  BSF MAE (pp) on pure pixels, SRC_MEAN RMSE of the worst band on interior pixels, MASK class 3
  (built-up, roads, water) F1 on all pixels;
* ``seasons`` (10 m, 2022, per pixel): share of arable pure pixels with a main season, MAE of
  emergence, harvest, CPBSA, CPBSB (days), CPMCHCL coverage and median width; and the share of pure
  pixels of every other land cover (forest, grassland, built-up, water) given a main season, which
  the issue sets no target for: a cropland layer that gives a forest a crop season misleads its
  user, so 0.05 is ours;
* ``parcels`` (10 m, 2021–2022): bare periods of 13 days or more found (recall), precision,
  START MAE (START_S2 and START_EST, optical only and with Sentinel-1), heterogeneity F1;
* ``soil``: SOC and clay MEC and 90 % interval coverage.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from worlds import HELD_OUT, World, ensure, worlds

TARGETS: dict[str, dict[str, tuple[str, float]]] = {
    "soilsuite": {
        "mask_oa_pure": (">=", 0.95),
        "bsf_mae_pp_pure": ("<=", 3.0),
        "src_rmse_max_interior": ("<=", 0.01),
        "class3_f1": (">=", 0.0),
    },
    "seasons": {
        "main_season_found": (">=", 0.95),
        "emergence_mae_days": ("<=", 8.0),
        "harvest_mae_days": ("<=", 6.0),
        "CPBSA_mae_days": ("<=", 10.0),
        "CPBSB_mae_days": ("<=", 10.0),
        "harvest_coverage": (">=", 0.85),
        "harvest_width_days": ("<=", 15.0),
        "non_cropland_with_season": ("<=", 0.05),
    },
    "parcels": {
        "period_recall": (">=", 0.95),
        "period_precision": (">=", 0.95),
        "start_mae_days": ("<=", 5.0),
        "start_est_mae_days": ("<=", 5.0),
        "start_est_mae_days_s1": ("<=", 4.0),
        "heterogeneity_f1": (">=", 0.9),
    },
    "soil": {
        "soc_mec": (">=", 0.6),
        "clay_mec": (">=", 0.6),
        "soc_picp90": ("in", 0.9),
        "clay_picp90": ("in", 0.9),
    },
}
"""Per family: figure -> (direction, target) of the acceptance ('in': within 0.85 … 0.95)."""

YEAR = 2022
MIN_SCORED_PERIOD = 13
"""Bare periods of at least this many days are scored (the contract)."""


# --- families ------------------------------------------------------------------------------------


def soilsuite_figures(folder: Path) -> dict[str, Any]:
    from bench_soilsuite import accuracy

    figures = accuracy(folder, "auto", landcover=False)
    confusion = figures["confusion_all"]
    tp = confusion["3->3"]
    fp = sum(confusion[f"{t}->3"] for t in (1, 2))
    fn = sum(confusion[f"3->{p}"] for p in ("1", "2", "nodata"))
    return {
        "mask_oa_pure": figures["mask_oa_pure"],
        "bsf_mae_pp_pure": figures["bsf_mae_pp_pure"],
        "src_rmse_max_interior": figures["src_rmse_max_interior"],
        "class3_f1": round(2 * tp / max(2 * tp + fp + fn, 1), 3),
        "detail": {
            k: figures[k] for k in ("src_rmse_interior", "confusion_pure", "bsf_mae_same_obs_pp_pure")
        },
    }


def seasons_figures(folder: Path) -> dict[str, Any]:
    import dask

    from baresoil.config import load_config
    from baresoil.products.seasons import FAMILY, analysis_window, seasons
    from baresoil.simulate import load_truth
    from bench_seasons import (
        _pure_cropland_parcels,
        build,
        non_cropland_with_season,
        score,
        true_events,
        world_area,
    )

    truth = load_truth(folder)
    config = load_config(product=FAMILY).override(**{"cube.resolution": 10.0, "seasons.year": YEAR})
    _, cube = build(folder, world_area(folder), config, analysis_window(YEAR))
    result = seasons(cube, analysis_window(YEAR), config)[0].layers
    computed = dask.compute(result)[0]
    layers = {code: computed[code].values for code in computed.data_vars}
    figures = score(layers, _pure_cropland_parcels(truth, cube), true_events(truth, YEAR))
    harvest = figures["harvest_confidence"]
    return {
        "main_season_found": figures["main_season_found"],
        "emergence_mae_days": figures["emergence_mae_days"],
        "harvest_mae_days": figures["harvest_mae_days"],
        "CPBSA_mae_days": figures["CPBSA_mae_days"],
        "CPBSB_mae_days": figures["CPBSB_mae_days"],
        "harvest_coverage": harvest["coverage_half_width"],
        "harvest_width_days": harvest["median_width_days"],
        "non_cropland_with_season": non_cropland_with_season(layers["CPMCE"], truth, cube),
        "detail": {k: figures[k] for k in ("flags_instead", "emergence_bias_days", "harvest_bias_days",
                                             "CPBSA_bias_days", "CPBSB_bias_days", "mae_by_crop")},
    }  # fmt: skip


def parcels_figures(folder: Path) -> dict[str, Any]:
    from baresoil.config import Config
    from bench_parcel_analytics import bare_accuracy, heterogeneity_accuracy, prepare

    config = Config()
    both = prepare(folder, 10.0, with_s1=True)
    # the S2 markers do not depend on S1 (each source is reduced on its own): one cube, two runs
    optical = dataclasses.replace(both, markers=both.markers[both.markers["source"] == "S2"])
    bare = bare_accuracy(folder, optical, config, min_days=MIN_SCORED_PERIOD)
    with_s1 = bare_accuracy(folder, both, config, min_days=MIN_SCORED_PERIOD)
    # a world drawn without management zones (the demo's) has no heterogeneity truth to score against
    has_zones = (folder / "truth" / "practices.csv").exists()
    no_zones: dict[str, Any] = {"f1_mean": None, "years": None}
    hetero = heterogeneity_accuracy(folder, optical, config) if has_zones else no_zones
    return {
        "period_recall": bare["period_recall"],
        "period_precision": bare["period_precision"],
        "start_mae_days": bare["start_mae_days"],
        "start_est_mae_days": bare["start_est_mae_days"],
        "start_est_mae_days_s1": with_s1["start_est_mae_days"],
        "heterogeneity_f1": hetero["f1_mean"],
        "detail": {"observable_true_periods": bare["observable_true_periods"],
                   "start_median_error_days": bare["start_median_error_days"],
                   "heterogeneity": hetero["years"]},
    }  # fmt: skip


def soil_figures(folder: Path) -> dict[str, Any]:
    from baresoil.pipeline.soilmap import SoilMapJob, run_soil_maps
    from baresoil.products.soil import parse_property
    from bench_soil import against_truth, soilsuite_outputs

    covariates = soilsuite_outputs(folder)
    properties = ("soc", "clay")
    with tempfile.TemporaryDirectory() as tmp:
        job = SoilMapJob(
            samples=folder / "inputs" / "soil_samples.csv",
            properties=tuple(parse_property(p) for p in properties),
            covariates=(covariates,),
            out_dir=Path(tmp),
            dem=folder / "inputs" / "dem.tif",
            progress=False,
        )
        output = run_soil_maps(job)
        truth = {p: against_truth(folder, output.items[0], p) for p in properties}
    return {
        **{f"{p}_mec": truth[p]["mec"] for p in properties},
        **{f"{p}_picp90": truth[p]["picp90"] for p in properties},
    }


FAMILIES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "soilsuite": soilsuite_figures,
    "seasons": seasons_figures,
    "parcels": parcels_figures,
    "soil": soil_figures,
}


# --- summary -------------------------------------------------------------------------------------


def meets(value: float, rule: tuple[str, float]) -> bool:
    direction, target = rule
    if direction == ">=":
        return value >= target
    if direction == "<=":
        return value <= target
    return 0.85 <= value <= 0.95


def worst(values: list[float], rule: tuple[str, float]) -> float:
    direction, target = rule
    if direction == ">=":
        return min(values)
    if direction == "<=":
        return max(values)
    return max(values, key=lambda v: abs(v - target))


def summary(family: str, rows: list[tuple[World, dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for figure, rule in TARGETS[family].items():
        values = [(w, r[figure]) for w, r in rows if r.get(figure) is not None and np.isfinite(r[figure])]
        if not values:
            continue
        numbers = [v for _, v in values]
        bad = worst(numbers, rule)
        out[figure] = {
            "median": round(statistics.median(numbers), 4),
            "worst": bad,
            "worst_world": next(w.name for w, v in values if v == bad),
            "target": f"{rule[0]} {rule[1]}" if rule[0] != "in" else "0.85-0.95",
            "met_on_every_world": all(meets(v, rule) for v in numbers),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", default="heldout", help="tuning, heldout, all or one world (south-203)")
    parser.add_argument("--family", nargs="+", choices=sorted(FAMILIES), default=sorted(FAMILIES))
    args = parser.parse_args(argv)
    chosen = worlds(args.set)
    results: dict[str, list[tuple[World, dict[str, Any]]]] = {f: [] for f in args.family}
    for world in chosen:
        folder = ensure(world)
        for family in args.family:
            began = time.perf_counter()
            figures = FAMILIES[family](folder)
            results[family].append((world, figures))
            print(json.dumps({"benchmark": "generalisation", "family": family, "world": world.name,
                              "held_out": world in HELD_OUT, "seconds": round(time.perf_counter() - began),
                              **figures}, default=str), flush=True)  # fmt: skip
    for family, rows in results.items():
        print(json.dumps({"benchmark": "generalisation-summary", "family": family, "set": args.set,
                          "worlds": [w.name for w, _ in rows], "date": date.today().isoformat(),
                          **summary(family, rows)}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
