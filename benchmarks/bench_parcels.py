"""Parcel markers benchmark: throughput, peak memory and agreement with the simulator's truth.

    python benchmarks/bench_parcels.py [--world DIR] [--resolution 20 10]

Runs ``baresoil parcels`` (Sentinel-2 and Sentinel-1, the whole default world and
period, the declared parcels) once per resolution, each in its own process, and
prints one JSON line per run:

* speed: parcel-dates (a parcel on an observation date with at least one valid
  pixel, S2 and S1 together) per second of the whole run (search, cube, markers,
  wide export, files, STAC), and the peak resident memory of the process;
* truth: parcel mean FCOVER against the true green-vegetation cover of the parcel
  (MAE, bias, correlation), parcel mean NDVI against it (correlation), parcel
  mean VV/VH (mean of the pixels' dB) against the noise-free parcel backscatter
  (dB of the mean power; MAE and bias, a small negative bias is the speckle's
  log-mean), on parcel-dates with at least 80 % of the parcel's pixels valid;
* exactness: every statistic of a sample of parcel-dates recomputed by brute
  force from the cube (largest absolute difference).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from baresoil.catalog.source import StacSource, TimeRange
from baresoil.config import Config, CubeConfig
from baresoil.pipeline.parcels import ParcelJob, run_parcels
from baresoil.simulate import add_sentinel1, load_s1_truth, load_truth

sys.path.insert(0, str(Path(__file__).parent))
from memory import peak_rss_mb
from truth import DEFAULT_WORLD, world

PERIOD = TimeRange.parse("2021-01-01", "2022-12-31")
MIN_VALID_SHARE = 0.8


def ensure_s1(folder: Path) -> Path:
    catalog = folder / "stac" / "sentinel-1-rtc" / "catalog.json"
    if not catalog.exists():  # a world simulated before Sentinel-1: add it (Sentinel-2 untouched)
        add_sentinel1(folder)
    return catalog


def run(folder: Path, resolution: float) -> dict[str, object]:
    s1_catalog = ensure_s1(folder)
    config = Config(cube=CubeConfig(resolution=resolution))
    with tempfile.TemporaryDirectory() as out:
        job = ParcelJob(
            source=StacSource(str(folder / "stac" / "earth-search" / "catalog.json")),
            parcels=folder / "inputs" / "parcels.gpkg",
            id_column="parcel_id",
            period=PERIOD,
            out_dir=Path(out),
            s1_source=StacSource(str(s1_catalog)),
            config=config,
            progress=False,
        )
        start = time.perf_counter()
        result = run_parcels(job)
        seconds = time.perf_counter() - start
    markers = result.markers
    parcel_dates = markers.groupby(["source"])[["parcel_id", "date"]].value_counts().groupby("source").size()
    figures: dict[str, object] = {
        "resolution_m": resolution,
        "parcels": len(result.parcels),
        "parcels_reported": int(result.parcels.report["parcel_id"].nunique()),
        "marker_rows": len(markers),
        "parcel_dates_s2": int(parcel_dates.get("S2", 0)),
        "parcel_dates_s1": int(parcel_dates.get("S1", 0)),
        "seconds": round(seconds, 2),
        "parcel_dates_per_second": round(int(parcel_dates.sum()) / seconds, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    figures.update(truth_scores(folder, markers, result.parcels.frame))
    figures.update(exactness(folder, job, result))
    return figures


def truth_scores(folder: Path, markers: pd.DataFrame, parcels: pd.DataFrame) -> dict[str, object]:
    truth = load_truth(folder)
    pixels = parcels.set_index("parcel_id")["n_pixels"]
    table = markers.assign(date=pd.to_datetime(markers["date"]).dt.date)
    table = table[table["count"] >= MIN_VALID_SHARE * table["parcel_id"].map(pixels)]
    s2 = table[table["source"] == "S2"].pivot_table(
        index=["parcel_id", "date"], columns="feature", values="mean"
    )
    s2 = s2.reset_index().merge(truth.parcel_daily[["parcel_id", "date", "g"]], on=["parcel_id", "date"])
    error = s2["FCOVER"] - s2["g"]
    out: dict[str, object] = {
        "truth_parcel_dates_s2": len(s2),
        "fcover_vs_true_green_mae": round(float(error.abs().mean()), 4),
        "fcover_vs_true_green_bias": round(float(error.mean()), 4),
        "fcover_vs_true_green_r": round(float(np.corrcoef(s2["FCOVER"], s2["g"])[0, 1]), 4),
        "ndvi_vs_true_green_r": round(float(np.corrcoef(s2["NDVI"], s2["g"])[0, 1]), 4),
    }
    _, s1_truth = load_s1_truth(folder)
    s1 = table[table["source"] == "S1"].pivot_table(
        index=["parcel_id", "date"], columns="feature", values="mean"
    )
    s1 = s1.reset_index().merge(s1_truth, on=["parcel_id", "date"])
    for pol in ("VV", "VH"):
        diff = s1[pol] - s1[f"{pol.lower()}_db"]
        out[f"{pol.lower()}_db_mae"] = round(float(diff.abs().mean()), 3)
        out[f"{pol.lower()}_db_bias"] = round(float(diff.mean()), 3)
    out["truth_parcel_dates_s1"] = len(s1)
    return out


def exactness(folder: Path, job: ParcelJob, result: object) -> dict[str, object]:
    """Brute-force statistics of 40 S2 parcel-dates from the cube against the table."""
    from baresoil.catalog.scenes import select_scenes
    from baresoil.catalog.source import find_items
    from baresoil.cube.load import load_cube
    from baresoil.inputs.parcels import rasterise_parcels
    from baresoil.kernels.groupstats import STATS

    parcels, markers = result.parcels, result.markers  # type: ignore[attr-defined]
    items = find_items(job.source, _area(parcels, job), job.period)
    scenes = select_scenes(items, job.config.scenes)
    from baresoil.cube.load import data_footprint

    area = _area(parcels, job).intersection(data_footprint(items))
    cube = load_cube(scenes, area.geobox(job.config.cube.resolution), job.config.cube)
    codes = rasterise_parcels(parcels, cube.odc.geobox).values
    rows = markers[(markers["source"] == "S2") & (markers["feature"] == "NDVI")].sample(40, random_state=1)
    days = cube.time.values.astype("datetime64[D]")
    wanted = sorted({int(np.flatnonzero(days == np.datetime64(d, "D"))[0]) for d in rows["date"]})
    bands = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
    sub = cube[[*bands, "clear"]].isel(time=wanted).compute()  # the chunk is read once
    sub_days = list(sub.time.values.astype("datetime64[D]"))
    worst = 0.0
    for _, row in rows.iterrows():
        t = sub_days.index(np.datetime64(row["date"], "D"))
        code = int(parcels.frame.set_index("parcel_id").loc[row["parcel_id"], "code"])
        mask = codes == code
        ok = sub.clear.values[t][mask]
        for band in bands:
            ok &= np.isfinite(sub[band].values[t][mask])
        b4, b8 = sub.B04.values[t][mask], sub.B08.values[t][mask]
        values = ((b8 - b4) / (b8 + b4))[ok].astype(np.float64)
        expected = [values.mean(), values.std(), values.min(), values.max(), np.median(values),
                    np.quantile(values, 0.25), np.quantile(values, 0.75), values.size]  # fmt: skip
        got = [float(row[s]) for s in STATS]
        worst = max(worst, float(np.max(np.abs(np.array(got) - np.array(expected)))))
    return {"exactness_max_abs_diff_ndvi": float(f"{worst:.2g}")}


def _area(parcels, job):  # type: ignore[no-untyped-def]
    from shapely.geometry import box

    from baresoil.grid import Area

    res = job.config.cube.resolution
    return Area(box(*parcels.bounds).buffer(res, join_style="mitre"), "parcels")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--resolution", type=float, nargs="+", default=[20.0, 10.0])
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = world(args.world)
    if args.child:
        print(json.dumps({"benchmark": "parcel-markers", **run(folder, args.child)}))
        return
    ensure_s1(folder)
    for resolution in args.resolution:
        child = [sys.executable, __file__, "--world", str(folder), "--child", str(resolution)]
        subprocess.run(child, check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
