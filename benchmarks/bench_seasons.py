"""Seasons benchmark: HRL cropping-pattern layers against the simulator's truth, speed and memory.

    python benchmarks/bench_seasons.py [--world DIR] [--year 2022] [--only accuracy|speed]

Accuracy (default world, reference year 2022, 10 m): on cropland pixels that lie
wholly inside one parcel, the share with a main season, the mean absolute error
of emergence, harvest, CPBSA and CPBSB against the parcel's true events (HRL
definitions: bare soil after runs from the main harvest to the next emergence of
anything or to 31 December, bare soil before from the last harvest or cover-crop
termination, or from 1 January), and the calibration of the confidence layers:
the share of true dates within the stated confidence (read as the event's
q10-q90 band, i.e. +/- half the width, and as +/- the width) with the median
width; the emergence error is also split by whether a clear view followed the
true emergence within 20 days.  Per pixel and per field (parcels given), for
both rules of combining two event confidences (sum, average) and both of reading a harvest's
(band, views).  Speed: pixel-years per second per core of
the season analysis (cube read included, and the kernel alone), and peak memory
for two chunk sizes.  The daily band itself is checked on clear views held out of
its fit: the share inside the q10-q90 band (80 % is nominal for the signal, more
for the noisy views) and inside the band widened by the views' noise, by the
distance to the nearest view kept.  One JSON line per figure set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from datetime import date
from pathlib import Path

import dask
import numpy as np
import pandas as pd
from rasterio.enums import Resampling

from baresoil.config import Config, load_config
from baresoil.cube.s1 import load_s1
from baresoil.inputs.parcels import default_buffer_m, rasterise_parcels, read_parcels
from baresoil.kernels import seasons as kernel
from baresoil.kernels.indices import ndvi
from baresoil.kernels.smooth import Z90, fit_band, used_weights
from baresoil.products.seasons import (
    FAMILY,
    analysis_window,
    cross_ratio,
    seasons,
    sowing_of_crops,
)
from baresoil.registry import decode_yydoy
from baresoil.simulate import Truth, add_sentinel1, load_truth
from baresoil.simulate.truth import OUTSIDE_YEAR, season_truth

sys.path.insert(0, str(Path(__file__).parent))
from bench_soilsuite import CROPLAND, build, world_area
from memory import peak_rss_mb
from truth import DEFAULT_WORLD, parcel_on_grid, regrid, world

FLAG_FLOOR = 65000
"""Stored values at or above this are HRL flags."""


def true_events(truth: Truth, year: int) -> pd.DataFrame:
    """Per parcel: the contract's main-crop emergence and harvest of ``year`` and bare-soil days
    before/after (``baresoil.simulate.truth.season_truth``); a CPBSB whose emergence lies before the
    year (flag 65529) is NaN here, outside the day errors."""
    table = season_truth(truth.events, truth.crops, year)
    table["bsb"] = table["bsb"].where(table["bsb"] != OUTSIDE_YEAR).astype(float)
    table["bsa"] = table["bsa"].astype(float)
    return table


def _date_errors(stored: np.ndarray, truth: pd.Series) -> np.ndarray:
    out = np.full(stored.shape, np.nan)
    ok = (stored > 0) & (stored < FLAG_FLOOR)
    out[ok] = [(decode_yydoy(int(v)) - t).days for v, t in zip(stored[ok], truth[ok], strict=True)]
    return out


def _day_errors(stored: np.ndarray, truth: np.ndarray) -> np.ndarray:
    ok = (stored > 0) & (stored < FLAG_FLOOR) & np.isfinite(truth)
    return np.where(ok, stored - truth, np.nan)


def _calibration(errors: np.ndarray, width: np.ndarray) -> dict[str, float]:
    known = np.isfinite(errors)
    stated = known & (width > 0) & (width < FLAG_FLOOR)
    e, w = np.abs(errors[stated]), width[stated]
    return {
        "median_width_days": float(np.median(w)) if w.size else float("nan"),
        "coverage_half_width": round(float((e <= w / 2).mean()), 3) if w.size else float("nan"),
        "coverage_width": round(float((e <= w).mean()), 3) if w.size else float("nan"),
        "not_computable": round(float(1 - stated.sum() / max(known.sum(), 1)), 3),
    }


SEEN_DAYS = 20
"""An emergence counts as seen when a clear view of the pixel falls within this many days after it."""


def score(
    layers: dict[str, np.ndarray],
    parcel_of_pixel: np.ndarray,
    truth: pd.DataFrame,
    clear: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> dict[str, object]:
    """Figures of one run on the pixels with a parcel id (0 elsewhere); with the cube's ``clear``
    (time, y, x) flags and ``times``, also the emergence error where the emergence was seen."""
    table = truth.set_index("parcel_id")
    pixels = np.isin(parcel_of_pixel, table.index)
    ids = parcel_of_pixel[pixels]
    t = table.loc[ids]
    stored = {code: values[pixels].astype(np.float64) for code, values in layers.items()}
    found = (stored["CPMCE"] > 0) & (stored["CPMCE"] < FLAG_FLOOR)
    errors = {
        "emergence": _date_errors(stored["CPMCE"], t["emergence"]),
        "harvest": _date_errors(stored["CPMCH"], t["harvest"]),
        "CPBSA": _day_errors(stored["CPBSA"], t["bsa"].to_numpy()),
        "CPBSB": _day_errors(stored["CPBSB"], t["bsb"].to_numpy()),
    }
    widths = {"emergence": "CPMCECL", "harvest": "CPMCHCL", "CPBSA": "CPBSACL", "CPBSB": "CPBSBCL"}
    flags, counts = np.unique(np.nan_to_num(stored["CPMCE"][~found], nan=65535), return_counts=True)
    figures: dict[str, object] = {
        "pixels": int(pixels.sum()),
        "main_season_found": round(float(found.mean()), 3),
        "flags_instead": {str(int(f)): int(c) for f, c in zip(flags, counts, strict=True)},
    }
    for name, err in errors.items():
        figures[f"{name}_mae_days"] = round(float(np.nanmean(np.abs(err))), 2)
        figures[f"{name}_median_abs_days"] = round(float(np.nanmedian(np.abs(err))), 1)
        figures[f"{name}_bias_days"] = round(float(np.nanmean(err)), 2)
        figures[f"{name}_scored"] = int(np.isfinite(err).sum())
        figures[f"{name}_confidence"] = _calibration(err, stored[widths[name]])
    if clear is not None and times is not None:
        figures.update(_seen_emergence(errors["emergence"], t["emergence"], clear[:, pixels], times))
        figures["CPBSA_mae_by_end"] = _bsa_by_end(errors["CPBSA"], t, clear[:, pixels], times)
        figures["seen_days"] = SEEN_DAYS
    per_crop = pd.DataFrame({"crop": t["crop"].to_numpy(), "e": np.abs(errors["emergence"]),
                             "h": np.abs(errors["harvest"]), "bsa": np.abs(errors["CPBSA"]),
                             "bsb": np.abs(errors["CPBSB"])}).groupby("crop").mean().round(1)  # fmt: skip
    figures["mae_by_crop"] = {
        crop: {k: v for k, v in row.items() if np.isfinite(v)} for crop, row in per_crop.iterrows()
    }
    return figures


def _seen(dates: np.ndarray, clear: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per pixel: whether a clear view of it falls within SEEN_DAYS after its date (datetime64[D])."""
    days = times.astype("datetime64[D]")
    window = (days[None, :] >= dates[:, None]) & (
        days[None, :] <= dates[:, None] + np.timedelta64(SEEN_DAYS, "D")
    )
    return (window & clear.T).any(axis=1)


def _seen_emergence(
    errors: np.ndarray, emergence: pd.Series, clear: np.ndarray, times: np.ndarray
) -> dict[str, float]:
    """Emergence MAE split by whether a clear view followed the true emergence within SEEN_DAYS:
    a winter crop emerging into a cloudy autumn shows nothing until its spring growth."""
    seen = _seen(pd.to_datetime(emergence).to_numpy().astype("datetime64[D]"), clear, times)
    known = np.isfinite(errors)
    return {
        "emergence_seen_share": round(float(seen[known].mean()), 3),
        "emergence_mae_days_seen": round(float(np.abs(errors[known & seen]).mean()), 2),
        "emergence_mae_days_unseen": round(float(np.abs(errors[known & ~seen]).mean()), 2),
    }


def _bsa_by_end(errors: np.ndarray, truth: pd.DataFrame, clear: np.ndarray, times: np.ndarray) -> dict:
    """CPBSA error by how the true bare period ends: at a next emergence that a clear view at least
    SEEN_DAYS later can show (the crop has had time to grow), at one no such view follows (it came
    after or shortly before the last observation), or at 31 December (no crop follows within the
    year): {case: {pixels, mae_days}}."""
    harvest = pd.to_datetime(truth["harvest"]).to_numpy().astype("datetime64[D]")
    end = harvest + np.nan_to_num(truth["bsa"].to_numpy()).astype("timedelta64[D]")
    next_year = (harvest.astype("datetime64[Y]") + np.timedelta64(1, "Y")).astype("datetime64[D]")
    following = end < next_year
    later = times.astype("datetime64[D]")[None, :] >= end[:, None] + np.timedelta64(SEEN_DAYS, "D")
    seen = (later & clear.T).any(axis=1)
    cases = {
        "next emergence shown by a later view": following & seen,
        "next emergence after the last views": following & ~seen,
        "no crop until 31 December": ~following,
    }
    known = np.isfinite(errors)
    return {
        name: {
            "pixels": int((known & mask).sum()),
            "mae_days": round(float(np.abs(errors[known & mask]).mean()), 2),
        }
        for name, mask in cases.items()
        if (known & mask).any()
    }


MODES = (
    ("pixel", "sum", "views"),
    ("pixel", "average", "views"),
    ("pixel", "sum", "band"),
    ("field", "sum", "views"),
    ("field+crops", "sum", "views"),
    ("pixel+s1", "sum", "views"),
    ("field+s1", "sum", "views"),
)
"""(mode, confidence combination, harvest confidence) of the accuracy runs: per pixel or per field, optical
or with Sentinel-1, and per field with the crops declared for the year (``crop_YEAR`` of the simulated
parcels, a few of them wrong, as declarations are); the second and third rows try the other rules of
the confidence layers."""


def _s1_catalog(folder: Path) -> str:
    catalog = folder / "stac" / "sentinel-1-rtc" / "catalog.json"
    if not catalog.exists():  # a world simulated before Sentinel-1 was
        add_sentinel1(folder)
    return str(catalog)


def accuracy(folder: Path, year: int, resolution: float, modes=MODES, overrides=None) -> None:  # type: ignore[no-untyped-def]
    truth = load_truth(folder)
    expected = true_events(truth, year)
    parcels_path = folder / "inputs" / "parcels.gpkg"
    for mode, combine, harvest_confidence in modes:
        config = load_config(product=FAMILY).override(
            **{
                "cube.resolution": resolution,
                "seasons.year": year,
                "seasons.combine": combine,
                "seasons.harvest_confidence": harvest_confidence,
                **(overrides or {}),
            },
        )
        _, cube = build(folder, world_area(folder), config, analysis_window(year))
        fields, n_fields, radar, sowing = None, 0, None, None
        if mode.startswith("field"):
            crops = f"crop_{year}" if "+crops" in mode else None
            parcels = read_parcels(
                parcels_path, "parcel_id", crop_column=crops, buffer_m=default_buffer_m(resolution)
            )
            fields = rasterise_parcels(parcels, cube.odc.geobox, cube.B04.chunks[-2:])
            n_fields = len(parcels)
            if crops:
                sowing = sowing_of_crops(parcels.frame["code"], parcels.frame["crop"], n_fields)
        if mode.endswith("+s1"):
            s1 = load_s1(
                _s1_catalog(folder), cube.odc.geobox, analysis_window(year), int(cube.B04.chunks[-1][0])
            )
            radar = cross_ratio(s1, config.seasons.radar_window)
        started = time.perf_counter()
        result = seasons(cube, analysis_window(year), config, fields, n_fields, radar, sowing)[0].layers
        computed = dask.compute(result)[0]
        seconds = time.perf_counter() - started
        layers = {code: computed[code].values for code in computed.data_vars}
        figures = score(
            layers, _pure_cropland_parcels(truth, cube), expected, cube.clear.values, cube.time.values
        )
        print(json.dumps({"benchmark": "seasons_accuracy", "mode": mode, "combine": combine,
                          "harvest_rule": harvest_confidence, "year": year, "resolution_m": resolution,
                          "seconds": round(seconds, 1), **figures}))  # fmt: skip


HOLDOUT_SHARE = 0.2
"""Share of each pixel's clear views left out of the band's fit to check it."""
HOLDOUT_PIXELS = 4000
HOLDOUT_GAPS = ((0, 5), (5, 10), (10, 20), (20, 40), (40, 400))
"""Classes of days from a held-out view to the nearest view kept."""


def band_holdout(folder: Path, year: int, resolution: float, overrides=None) -> None:  # type: ignore[no-untyped-def]
    """How often the daily band holds clear views left out of its fit, on cropland pixels."""
    from baresoil.products.seasons import _analysis_cube

    settings = {"cube.resolution": resolution, "seasons.year": year, **(overrides or {})}
    config = load_config(product=FAMILY).override(**settings)
    _, cube = build(folder, world_area(folder), config, analysis_window(year))
    rng = np.random.default_rng(0)
    pixels = np.flatnonzero(_pure_cropland_parcels(load_truth(folder), cube).ravel())
    pixels = rng.choice(pixels, min(HOLDOUT_PIXELS, pixels.size), replace=False)
    cube, grid, observed = _analysis_cube(cube, year)
    arrays = dask.compute(cube.B04.data, cube.B08.data, cube.clear.data)
    red, nir, clear = (a.reshape(a.shape[0], -1)[:, pixels] for a in arrays)
    values = np.where(clear, ndvi(red.astype(np.float64), nir.astype(np.float64)), np.nan)
    p = config.seasons
    rows = []  # (|view - q50|, half band, half band with the views' noise, days to the nearest view kept)
    for j in range(values.shape[1]):
        y, w = np.zeros(grid.n_days), np.zeros(grid.n_days)
        seen = np.isfinite(values[:, j])
        y[observed[seen]], w[observed[seen]] = values[seen, j], 1.0
        kept = used_weights(y, w, p.spike, p.spike_max_gap, p.bare_ndvi)
        views = np.flatnonzero(kept > 0)
        held = views[rng.random(views.size) < HOLDOUT_SHARE]
        fit = kept.copy()
        fit[held] = 0.0
        used = np.flatnonzero(fit > 0)
        if held.size == 0 or used.size < p.min_observations:
            continue
        z, std, _ = fit_band(y, fit, p.smoothing, p.noise_floor, 0.0)
        sigma = max(1.4826 * float(np.median(np.abs(y[used] - z[used]))), p.noise_floor)  # as the fit's
        half = Z90 * p.band_scale * std[held]
        gap = np.abs(held[:, None] - used[None, :]).min(axis=1)
        noisy = Z90 * np.sqrt((p.band_scale * std[held]) ** 2 + sigma**2)
        rows.append(np.column_stack([np.abs(y[held] - z[held]), half, noisy, gap]))
    miss, half, noisy, gap = np.concatenate(rows).T
    by_gap = {
        f"{lo}-{hi}": {
            "views": int(m.sum()),
            "in_band": round(float((miss[m] <= half[m]).mean()), 3),
            "in_band_with_noise": round(float((miss[m] <= noisy[m]).mean()), 3),
        }
        for lo, hi in HOLDOUT_GAPS
        if (m := (gap > lo) & (gap <= hi)).any()
    }
    print(json.dumps({"benchmark": "seasons_band_holdout", "year": year, "resolution_m": resolution,
                      "band_scale": p.band_scale, "pixels": int(pixels.size),
                      "views_held_out": int(miss.size),
                      "in_band": round(float((miss <= half).mean()), 3),
                      "in_band_with_noise": round(float((miss <= noisy).mean()), 3),
                      "by_days_to_nearest_view": by_gap}))  # fmt: skip


def _pure_cropland_parcels(truth, cube) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Truth parcel id of each product pixel wholly inside one cropland parcel, else 0."""
    geobox = cube.odc.geobox
    parcel = parcel_on_grid(truth, geobox)
    landcover = regrid(truth.landcover.astype(np.float32), truth, geobox, Resampling.mode)
    return np.where(landcover == CROPLAND, parcel, 0).astype(np.int64)


def non_cropland_with_season(emergence: np.ndarray, truth, cube) -> float:  # type: ignore[no-untyped-def]
    """Share of the pixels wholly inside one parcel of another land cover than cropland (forest,
    grassland, built-up, water) given a main season: annual cropland is decided from the data."""
    geobox = cube.odc.geobox
    landcover = regrid(truth.landcover.astype(np.float32), truth, geobox, Resampling.mode)
    other = (parcel_on_grid(truth, geobox) > 0) & np.isfinite(landcover) & (landcover != CROPLAND)
    found = (emergence > 0) & (emergence < FLAG_FLOOR)
    return round(float(found[other].mean()), 3) if other.any() else float("nan")


def speed(folder: Path, year: int, resolution: float) -> None:
    for chunk in (128, 256):
        child = subprocess.run(
            [sys.executable, __file__, "--world", str(folder), "--year", str(year),
             "--speed-child", str(resolution), str(chunk)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        print(child.stdout.strip().splitlines()[-1])


def speed_child(folder: Path, year: int, resolution: float, chunk: int) -> None:
    config = load_config(product=FAMILY).override(
        **{"cube.resolution": resolution, "cube.chunk_size": chunk, "seasons.year": year}
    )
    _, cube = build(folder, world_area(folder), config, analysis_window(year))
    started = time.perf_counter()
    result = seasons(cube, analysis_window(year), config)[0].layers
    dask.compute(result)
    seconds = time.perf_counter() - started
    n_pixels = cube.sizes["y"] * cube.sizes["x"]
    cores = len(os.sched_getaffinity(0))
    peak_mb = peak_rss_mb()  # before the in-memory kernel run
    kernel_seconds = _kernel_only(cube, year, config)
    print(json.dumps({
        "benchmark": "seasons_speed", "resolution_m": resolution, "chunk_px": chunk, "pixels": n_pixels,
        "scenes": int(cube.sizes["time"]), "seconds": round(seconds, 2), "cores": cores,
        "pixel_years_per_s_per_core": round(n_pixels / seconds / cores),
        "kernel_pixel_years_per_s_per_core": round(n_pixels / kernel_seconds),
        "peak_rss_mb": round(peak_mb),
    }))  # fmt: skip


def _kernel_only(cube, year: int, config: Config) -> float:  # type: ignore[no-untyped-def]
    """Seconds of the season kernel alone (one thread) on the whole cube's NDVI, held in memory."""
    from baresoil.products.seasons import DailyGrid, kernel_arguments

    red, nir, clear = dask.compute(cube.B04.data, cube.B08.data, cube.clear.data)
    values = np.where(clear, (nir - red) / (nir + red), np.nan).reshape(red.shape[0], -1).astype(np.float64)
    days = cube.time.values.astype("datetime64[D]").astype(date)
    grid = DailyGrid(days[0], days[-1])
    kwargs = kernel_arguments(config.seasons, grid, year, np.array([grid.day(d) for d in days]))
    cropland = np.full(values.shape[1], -1, np.int8)
    kwargs["radar_days"] = np.zeros(0, np.int64)
    radar = np.zeros((0, values.shape[1]))
    sowing = np.zeros(values.shape[1], np.int8)
    kernel.analyse_pixels(values[:, :10], cropland=cropland[:10], sowing=sowing[:10], radar=radar[:, :10],
                          **kwargs)  # compile  # fmt: skip
    started = time.perf_counter()
    kernel.analyse_pixels(values, cropland=cropland, sowing=sowing, radar=radar, **kwargs)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--resolution", type=float, default=10.0)
    parser.add_argument("--only", choices=("accuracy", "speed"))
    parser.add_argument(
        "--mode", action="append", help="accuracy runs: pixel, field, field+crops, pixel+s1, field+s1"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--speed-child", nargs=2, metavar=("RES", "CHUNK"))
    args = parser.parse_args()
    folder = world(args.world)
    if args.speed_child:
        speed_child(folder, args.year, float(args.speed_child[0]), int(args.speed_child[1]))
        return
    if args.only in (None, "accuracy"):
        modes = [m for m in MODES if not args.mode or m[0] in args.mode]
        overrides = {key: _toml_value(value) for key, _, value in (kv.partition("=") for kv in args.set)}
        band_holdout(folder, args.year, args.resolution, overrides)
        accuracy(folder, args.year, args.resolution, modes, overrides)
    if args.only in (None, "speed"):
        speed(folder, args.year, args.resolution)


def _toml_value(text: str) -> object:
    """A ``--set`` value as a config file would hold it (0.2, 3, true, "auto"); a bare word is a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


if __name__ == "__main__":
    main()
