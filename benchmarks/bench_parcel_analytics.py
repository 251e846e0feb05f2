"""Parcel analytics benchmark: bare-soil periods, heterogeneity and change of category against truth.

    python benchmarks/bench_parcel_analytics.py [--world DIR] [--practices-world DIR]
                                                [--only bare|heterogeneity|change] [--resolution M]

Bare-soil periods run on the default world (per calendar year, as Sen4CAP runs per
season) and are scored against ``truth/bare_periods.csv`` on the declared parcels:

* period detection: a detected period (START … END, or the last observation when it
  continues) is right when it overlaps a true bare period; a true period counts
  when it holds at least one of the parcel's clear S2 observations (a bare spell
  between two cloudy acquisitions cannot be seen) — precision and recall;
* per parcel-year: the parcel has a detected period vs it has an observable true one;
* START error in days against the matched true period's first bare day (MAE), and
  against its first observed bare day; the same for START_EST (dated by an S1 backscatter step
  inside the S2 window, else the window's middle) and how often the truth lies within
  ± START_UNC, overall and by START_SRC;
* the share of right periods per confidence class (Strong … Doubtful).

Heterogeneity and change of category run on a second world simulated with
``WorldSpec(practices=True)`` (parcels sown in two strips of different crops,
grassland ploughed up for an arable crop in the second year; truth in
``truth/practices.csv``): F1 of C_INDEX in STRONG/MODERATE/WEAK against the
split parcels, F1 of ``pred_changeP2`` against the converted grassland.
One JSON line per part.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from baresoil.catalog.scenes import select_scenes
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import Config, load_config
from baresoil.cube import data_footprint, load_cube
from baresoil.cube.s1 import load_s1
from baresoil.grid import Area, area_from_bbox
from baresoil.inputs.parcels import default_buffer_m, rasterise_parcels, read_parcels
from baresoil.products.parcels.bare_periods import bare_soil_periods
from baresoil.products.parcels.category import category_change, declarations_from_columns
from baresoil.products.parcels.heterogeneity import heterogeneity
from baresoil.products.parcels.markers import code_blocks, parcel_markers
from baresoil.simulate import WorldSpec, load_truth
from baresoil.simulate.practices import load_practices
from baresoil.simulate.truth import heterogeneous_parcels

sys.path.insert(0, str(Path(__file__).parent))
from memory import peak_rss_mb
from truth import DEFAULT_WORLD, world

HERE = Path(__file__).parent
PRACTICES_WORLD = HERE / ".cache" / "world-42-practices"
PERIOD = TimeRange.parse("2021-01-01", "2022-12-31")
YEARS = (2021, 2022)
CLASS_ORDER = ("Strong+", "Strong", "Good", "Medium", "Poor", "Doubtful")


# --- inputs: cube, parcels, markers -----------------------------------------------------------


def world_area(folder: Path) -> Area:
    from pyproj import Transformer

    spec = load_truth(folder).spec
    x0, y0 = spec.origin
    side = spec.size_m
    to_ll = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    lons, lats = to_ll.transform([x0, x0 + side, x0, x0 + side], [y0, y0, y0 + side, y0 + side])
    return area_from_bbox(min(lons), min(lats), max(lons), max(lats))


@dataclasses.dataclass(frozen=True)
class Inputs:
    cube: xr.Dataset
    """The S2 bands the heterogeneity needs, in memory."""
    codes: np.ndarray
    """Parcel code per cube pixel (0 outside)."""
    parcels: gpd.GeoDataFrame
    """The ParcelSet frame: parcel_id, code, area_m2, n_pixels, geometry."""
    markers: pd.DataFrame
    """The markers database (S2, and S1 when the world has it)."""
    seconds_markers: float
    parcel_dates: int
    """Parcel-dates of the markers table (S2 and S1)."""


def prepare(folder: Path, resolution: float, with_s1: bool = True) -> Inputs:
    """What ``baresoil parcels`` computes first: parcels, cube, codes and the markers database
    (with the Sentinel-1 markers when ``with_s1`` and the world has them)."""
    config = load_config(product="parcels").override(**{"cube.resolution": resolution})  # the product's cube
    area = world_area(folder)
    items = find_items(StacSource(str(folder / "stac" / "earth-search" / "catalog.json")), area, PERIOD)
    scenes = select_scenes(items, config.scenes)
    geobox = area.intersection(data_footprint(items)).geobox(resolution)
    cube = load_cube(scenes, geobox, config.cube)
    parcel_set = read_parcels(
        folder / "inputs" / "parcels.gpkg", "parcel_id", buffer_m=default_buffer_m(resolution)
    )
    codes = rasterise_parcels(parcel_set, geobox, cube.B02.chunks[-2:])
    layout = code_blocks(codes)
    parcel_set = parcel_set.with_pixel_counts(layout.totals, 3)
    s1_catalog = folder / "stac" / "sentinel-1-rtc" / "catalog.json"
    s1 = (
        load_s1(str(s1_catalog), geobox, PERIOD, chunk=int(cube.B02.chunks[-1][0]))
        if with_s1 and s1_catalog.exists()
        else None
    )
    began = time.perf_counter()
    markers = parcel_markers(cube, codes, parcel_set, s1=s1, layout=layout)
    seconds = time.perf_counter() - began
    bands = cube[["B02", "B03", "B04", "B08", "clear"]].compute()
    dates = markers[["parcel_id", "date", "source"]].drop_duplicates()
    return Inputs(bands, codes.values, parcel_set.frame, markers, seconds, len(dates))


# --- bare-soil periods ------------------------------------------------------------------------


SEN4CAP_BARE = {
    name: float("inf") for name in ("bs_max_ndti", "bs_max_ndvi_rise", "bs_max_ndti_rise", "bs_max_fcover")
}
"""Sen4CAP's bare-soil processing: no bare envelope."""
SEN4CAP_HETEROGENEITY = {"hete_s2_clusters": 4}
"""Sen4CAP's number of S2 clusters."""
CONFIRMED = ("Strong", "Good", "Medium")


@dataclasses.dataclass(frozen=True)
class _TruePeriods:
    start: np.ndarray
    end: np.ndarray
    first_seen: np.ndarray
    """First clear S2 observation of the parcel inside each period (-1: none, the period is unobservable)."""


def bare_accuracy(folder: Path, inputs: Inputs, config: Config, min_days: int = 1) -> dict[str, object]:
    """Detected S2 periods of each declared parcel and year against the true bare periods; recall over
    the true periods of at least ``min_days`` days, precision against every true period."""
    truth = load_truth(folder)
    kinds = truth.parcels.set_index("parcel_id")["landcover"]
    periods = truth.bare_periods[truth.bare_periods["parcel_id"].isin(set(inputs.parcels["parcel_id"]))]
    by_parcel = dict(tuple(periods.groupby("parcel_id")))
    obs = inputs.markers[inputs.markers["feature"] == "NDVI"]
    seen = {pid: np.sort(_days(g["date"])) for pid, g in obs.groupby("parcel_id")}
    rows, parcel_rows = [], []
    began = time.perf_counter()
    for year in YEARS:
        result = bare_soil_periods(inputs.markers, date(year, 1, 1), date(year, 12, 31), config)
        own = result.markers_s2.set_index("parcel_id")
        for _, row in result.markers_all.iterrows():
            pid = row["parcel_id"]
            true = _true_periods(by_parcel.get(pid), seen.get(pid, np.zeros(0, np.int64)), year)
            found = np.zeros(len(true.start), bool)
            last = _day_or_nan(row["LastObsS2"])
            detected = 0
            for p in range(1, config.parcels.bs_s2_periods + 1):
                start = _day_or_nan(row[f"START_S2_{p}"])
                if np.isnan(start):
                    continue
                detected += 1
                end = row[f"END_S2_{p}"]
                end = last if end is None or end == "Continue" or pd.isna(end) else _day(end)
                overlap = (true.start <= end) & (true.end >= start)
                k = int(np.flatnonzero(overlap)[0]) if overlap.any() else -1
                found |= overlap
                seen_k = float(true.first_seen[k]) if k >= 0 and true.first_seen[k] >= 0 else np.nan
                estimate = _day_or_nan(row[f"START_EST_S2_{p}"])
                rows.append({
                    "fused": row[f"Conf_S2_{p}"], "s2_class": own.loc[pid, f"Conf_S2_{p}"], "right": k >= 0,
                    "error": start - true.start[k] if k >= 0 else np.nan, "seen_error": start - seen_k,
                    "est_error": estimate - true.start[k] if k >= 0 else np.nan,
                    "uncertainty": float(row[f"START_UNC_S2_{p}"]), "source": row[f"START_SRC_S2_{p}"],
                    "lag": seen_k - true.start[k] if k >= 0 else np.nan, "kind": kinds.get(pid, ""),
                })  # fmt: skip
            scored = (true.first_seen >= 0) & (true.end - true.start + 1 >= min_days)
            long = true.end - true.start + 1 >= min_days
            parcel_rows.append({"true": int(scored.sum()), "found": int((found & scored).sum()),
                                "true_long": int(long.sum()), "found_long": int((found & long).sum()),
                                "detected": detected})  # fmt: skip
    return _bare_figures(pd.DataFrame(rows), pd.DataFrame(parcel_rows), time.perf_counter() - began)


def _true_periods(table: pd.DataFrame | None, seen: np.ndarray, year: int) -> _TruePeriods:
    if table is None or table.empty:
        empty = np.zeros(0, np.int64)
        return _TruePeriods(empty, empty, empty)
    start = np.maximum(_days(table["start"]), _day(date(year, 1, 1)))
    end = np.minimum(_days(table["end"]), _day(date(year, 12, 31)))
    keep = end >= start
    start, end = start[keep], end[keep]
    first = np.array([_first_in(seen, a, b) for a, b in zip(start, end, strict=True)], np.int64)
    return _TruePeriods(start, end, first)


def _bare_figures(det: pd.DataFrame, par: pd.DataFrame, seconds: float) -> dict[str, object]:
    has_true, has_det = par["true"] > 0, par["detected"] > 0
    confirmed = det[det["s2_class"].isin(CONFIRMED)]
    errors = det["error"].dropna()
    return {
        "parcel_years": len(par),
        "detected_periods": len(det),
        "observable_true_periods": int(par["true"].sum()),
        "period_precision": round(float(det["right"].mean()), 4),
        "period_recall": round(float(par["found"].sum() / max(par["true"].sum(), 1)), 4),
        "period_recall_observable_or_not": round(
            float(par["found_long"].sum() / max(par["true_long"].sum(), 1)), 4
        ),
        "period_precision_medium_or_better": round(float(confirmed["right"].mean()), 4),
        "parcel_precision": round(float((has_true & has_det).sum() / max(has_det.sum(), 1)), 4),
        "parcel_recall": round(float((has_true & has_det).sum() / max(has_true.sum(), 1)), 4),
        "start_mae_days": round(float(errors.abs().mean()), 2),
        "start_median_error_days": round(float(errors.median()), 1),
        "start_mae_vs_first_observed_bare_days": round(float(det["seen_error"].dropna().abs().mean()), 2),
        **_estimate_figures(det),
        "observation_lag_mae_days": round(float(det["lag"].dropna().mean()), 2),
        "accuracy_by_s2_class": _class_table(det, "s2_class"),
        "accuracy_by_class_with_s1": _class_table(det, "fused"),
        "false_periods_by_landcover": det.loc[~det["right"], "kind"].value_counts().to_dict(),
        "seconds": round(seconds, 2),
    }


def _estimate_figures(det: pd.DataFrame) -> dict[str, object]:
    """START_EST against the truth and how often the truth lies within its stated ± START_UNC days,
    overall and by what dated it (START_SRC)."""
    scored = det.dropna(subset=["est_error"])
    bounded = scored.dropna(subset=["uncertainty"])
    return {
        "start_est_mae_days": round(float(scored["est_error"].abs().mean()), 2),
        "start_est_bias_days": round(float(scored["est_error"].mean()), 2),
        "start_unc_median_days": float(bounded["uncertainty"].median()),
        "start_unc_coverage": _coverage(bounded),
        "start_unc_missing": round(float(1 - len(bounded) / max(len(scored), 1)), 3),
        "start_est_by_source": {
            str(source): {
                "periods": len(rows),
                "mae_days": round(float(rows["est_error"].abs().mean()), 2),
                "coverage": _coverage(rows.dropna(subset=["uncertainty"])),
            }
            for source, rows in scored.groupby("source")
        },
    }


def _coverage(rows: pd.DataFrame) -> float | None:
    """Share of rows whose truth lies within ± their uncertainty (None without a bounded row)."""
    if rows.empty:
        return None
    return round(float((rows["est_error"].abs() <= rows["uncertainty"]).mean()), 3)


def _class_table(det: pd.DataFrame, column: str) -> dict[str, dict[str, float]]:
    out = {}
    for klass in [*CLASS_ORDER, *(f"{c}_S1" for c in CLASS_ORDER)]:
        mine = det[det[column] == klass]
        if len(mine):
            out[klass] = {"periods": len(mine), "right": round(float(mine["right"].mean()), 4)}
    return out


def _day(value: object) -> int:
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(np.int64)


def _day_or_nan(value: object) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "Continue":
        return float("nan")
    return float(_day(value))


def _first_in(days: np.ndarray, a: int, b: int) -> int:
    i = int(np.searchsorted(days, a))
    return int(days[i]) if i < days.size and days[i] <= b else -1


# --- heterogeneity and change of category (practices world) ----------------------------------

HETEROGENEOUS = ("STRONG", "MODERATE", "WEAK")
"""C_INDEX values counted as a heterogeneity detection (POOR is M1 + M2 only: two clusters, no
NDVI contrast — what a homogeneous parcel on a cluster boundary also gives)."""


def practices_world(path: Path) -> Path:
    """The benchmark's world with practices (split parcels, grassland conversions), generated once."""
    return world(path, WorldSpec(practices=True, grassland_share=0.25))


def heterogeneity_accuracy(folder: Path, inputs: Inputs, config: Config) -> dict[str, object]:
    """F1 of the heterogeneity decision against the contract's truth: a declared parcel holding a strip
    farmed apart whose crop or any event date of the year differs."""
    practices = load_practices(folder)
    truth = load_truth(folder)
    declared = inputs.parcels["parcel_id"].to_numpy()
    out: dict[str, object] = {}
    began = time.perf_counter()
    for year in YEARS:
        result = heterogeneity(inputs.cube, inputs.codes, date(year, 1, 1), date(year, 12, 31), config,
                               parcels=inputs.parcels)  # fmt: skip
        decision = result.decision.set_index("parcel_id")
        differ = heterogeneous_parcels(truth.events, truth.crops, practices, year)
        truth_flag = pd.Series(np.isin(declared, sorted(differ)), index=declared)
        predicted = decision["C_INDEX"].reindex(declared).isin(HETEROGENEOUS)
        by_class = pd.crosstab(decision["C_INDEX"].reindex(declared), truth_flag).to_dict()
        out[str(year)] = {**_f1(truth_flag.to_numpy(), predicted.to_numpy()),
                          "c_index_by_truth": {str(k): v for k, v in by_class.items()}}  # fmt: skip
    f1s = [v["f1"] for v in out.values() if isinstance(v, dict)]
    return {"f1_mean": round(float(np.mean(f1s)), 4), "years": out,
            "seconds": round(time.perf_counter() - began, 1)}  # fmt: skip


def change_accuracy(folder: Path, inputs: Inputs) -> dict[str, object]:
    """F1 of ``change`` (evidence or declarations) against the converted grassland, and of the evidence
    alone (``pred_changeP2``) where the declarations show no change (the undeclared conversions)."""
    truth = load_practices(folder)
    conversions = truth[truth["practice"] == "grassland_conversion"]
    declared_file = gpd.read_file(folder / "inputs" / "parcels.gpkg")
    declarations = declarations_from_columns(declared_file, {y: f"crop_{y}" for y in YEARS})
    began = time.perf_counter()
    table = category_change(inputs.markers, declarations, YEARS)
    seconds = time.perf_counter() - began
    truth_flag = table["parcel_id"].isin(conversions["parcel_id"]).to_numpy()
    hidden = ~table["declared_change"].to_numpy()
    evidence = table["pred_changeP2"].to_numpy() == 1
    grass = table["LC_P1"].to_numpy() == 3
    return {
        "parcels": len(table),
        "converted": int(truth_flag.sum()),
        "converted_undeclared": int((truth_flag & hidden).sum()),
        **_f1(truth_flag, table["change"].to_numpy()),
        "evidence_only_undeclared": _f1(truth_flag[hidden], evidence[hidden]),
        "evidence_only_all": _f1(truth_flag, evidence),
        "false_alarms_p1": int((table["pred_changeP1"] == 1).sum()),
        "score_p2_converted_undeclared": sorted(table.loc[truth_flag & hidden, "ChangeP2"].round(2).tolist()),
        "score_p2_kept_grassland": sorted(table.loc[grass & ~truth_flag, "ChangeP2"].round(2).tolist()),
        "seconds": round(seconds, 2),
    }


def _f1(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    tp = int((truth & predicted).sum())
    fp = int((~truth & predicted).sum())
    fn = int((truth & ~predicted).sum())
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(f1, 4)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--practices-world", type=Path, default=PRACTICES_WORLD)
    parser.add_argument("--only", choices=("bare", "heterogeneity", "change"))
    parser.add_argument("--resolution", type=float, default=10.0)
    args = parser.parse_args(argv)
    res = {"resolution_m": args.resolution}
    if args.only in (None, "bare"):
        folder = world(args.world)
        inputs = prepare(folder, args.resolution)
        print(json.dumps({"benchmark": "parcel-markers-speed", **res, **_speed(inputs)}))
        for name, overrides in (("sen4cap", SEN4CAP_BARE), ("default", {})):
            figures = bare_accuracy(folder, inputs, _config(overrides))
            print(json.dumps({"benchmark": "parcel-bare-periods", "variant": name, **res, **figures}))
    if args.only in (None, "heterogeneity", "change"):
        folder = practices_world(args.practices_world)
        inputs = prepare(folder, args.resolution)
        if args.only in (None, "heterogeneity"):
            for name, overrides in (("sen4cap", SEN4CAP_HETEROGENEITY), ("default", {})):
                figures = heterogeneity_accuracy(folder, inputs, _config(overrides))
                print(json.dumps({"benchmark": "parcel-heterogeneity", "variant": name, **res, **figures}))
        if args.only in (None, "change"):
            figures = change_accuracy(folder, inputs)
            print(json.dumps({"benchmark": "parcel-category-change", **res, **figures}))


def _config(overrides: dict[str, object]) -> Config:
    return Config().override(**{f"parcels.{k}": v for k, v in overrides.items()})


def _speed(inputs: Inputs) -> dict[str, object]:
    return {
        "parcels": len(inputs.parcels),
        "parcel_dates": inputs.parcel_dates,
        "markers_seconds": round(inputs.seconds_markers, 2),
        "parcel_dates_per_second": round(inputs.parcel_dates / max(inputs.seconds_markers, 1e-9), 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


if __name__ == "__main__":
    main(sys.argv[1:])
