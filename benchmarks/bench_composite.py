"""Composite benchmark: ``baresoil composite`` against the notebook a user would write by hand.

Monthly medians of a year of the default simulated world, all ten bands, 20 m on the EEA grid:

* baresoil: ``run_composite`` (scene filters, clear-sky mask with its 100 m cloud buffer, COGs and
  STAC written);
* by hand: ``odc.stac.load`` of the Earth Search items onto the same grid, DN to reflectance with
  the items' ``raster:bands`` scale and offset, SCL 4, 5, 6 as clear sky (no buffer), then
  ``.where(clear).resample(time="1MS").median()``, computed in memory.

The values are compared on a second baresoil run without the cloud buffer (``cube.cloud_buffer_m
= 0``), which is what the notebook computes: the share of values within one stored step (1e-4)
and the largest difference.  Prints one JSON line.

    python benchmarks/bench_composite.py [--world DIR] [--year 2022]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import odc.stac
import pystac

from baresoil.catalog.layouts import EARTH_SEARCH, REFLECTANCE_BANDS
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import Config
from baresoil.cube import data_footprint
from baresoil.io.stac import load_outputs, output_item_paths
from baresoil.pipeline.composite import run_composite
from baresoil.pipeline.run import Job

sys.path.insert(0, str(Path(__file__).parent))
from bench_soilsuite import world_area
from memory import peak_rss_mb
from truth import DEFAULT_WORLD, world


def by_hand(catalog: Path, job: Job) -> tuple[object, float]:
    """The notebook: load, scale, mask, resample; returns the monthly medians and the seconds."""
    start = time.perf_counter()
    items = find_items(job.source, job.area, job.period)
    geobox = job.area.intersection(data_footprint(items)).geobox(20)
    keys = [EARTH_SEARCH.asset_key(b) for b in REFLECTANCE_BANDS]
    resampling = {"scl": "nearest", "*": "average"}
    loaded = odc.stac.load(items, bands=[*keys, "scl"], geobox=geobox, groupby="solar_day",
                           chunks={"x": 1024, "y": 1024}, resampling=resampling)  # fmt: skip
    clear = loaded.scl.isin([4, 5, 6])
    reflectance = {}
    for band, key in zip(REFLECTANCE_BANDS, keys, strict=True):
        scales = [_scaling(item, key) for item in _one_per_day(items, loaded)]
        scale = np.array([s[0] for s in scales], np.float32)[:, None, None]
        offset = np.array([s[1] for s in scales], np.float32)[:, None, None]
        dn = loaded[key]
        reflectance[band] = (dn.where(dn > 0) * scale + offset).where(clear)
    medians = {b: v.resample(time="1MS").median().compute() for b, v in reflectance.items()}
    return medians, time.perf_counter() - start


def _one_per_day(items: list[pystac.Item], loaded: object) -> list[pystac.Item]:
    """One item per solar day, in the loaded order (the simulated world has one tile)."""
    days: dict[str, pystac.Item] = {}
    for item in items:
        days.setdefault(str(item.datetime.date()), item)  # type: ignore[union-attr]
    return [days[str(t)[:10]] for t in loaded.time.values]  # type: ignore[attr-defined]


def _scaling(item: pystac.Item, key: str) -> tuple[float, float]:
    band = item.assets[key].extra_fields.get("raster:bands", [{}])[0]
    return float(band.get("scale", 1e-4)), float(band.get("offset", 0.0))


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--year", type=int, default=2022)
    args = parser.parse_args(argv)
    folder = world(args.world)
    catalog = folder / "stac" / "earth-search" / "catalog.json"
    period = TimeRange.parse(f"{args.year}-01-01", f"{args.year}-12-31")
    # every scene, as the notebook loads them all
    settings = {"composite.every": "month", "scenes.max_cloud_cover": 100.0, "scenes.min_sun_elevation": 0.0}
    config = Config().override(**settings)
    with tempfile.TemporaryDirectory() as tmp:
        job = Job(
            StacSource(str(catalog)), world_area(folder), period, Path(tmp) / "out", config, progress=False
        )
        started = time.perf_counter()
        run_composite(job)
        baresoil_seconds = time.perf_counter() - started
        unbuffered = Job(job.source, job.area, period, Path(tmp) / "nobuffer",
                         config.override(**{"cube.cloud_buffer_m": 0.0}), progress=False)  # fmt: skip
        run_composite(unbuffered)
        items = [pystac.Item.from_file(str(p)) for p in output_item_paths(unbuffered.out_dir)]
        ours = load_outputs(items, list(REFLECTANCE_BANDS), groupby="time").compute()
    theirs, hand_seconds = by_hand(catalog, job)
    a = np.concatenate([ours[b].values.ravel() for b in REFLECTANCE_BANDS])
    b = np.concatenate([theirs[band].values[: ours.sizes["time"]].ravel() for band in REFLECTANCE_BANDS])
    both = np.isfinite(a) & np.isfinite(b)
    differences = np.abs(a - b)
    figures: dict[str, object] = {
        "benchmark": "composite",
        "year": args.year,
        "months": int(ours.sizes["time"]),
        "pixels": int(ours.sizes["y"] * ours.sizes["x"]),
        "baresoil_seconds": round(baresoil_seconds, 2),
        "by_hand_seconds": round(hand_seconds, 2),
        "values_compared": int(both.sum()),
        "share_within_1e-4": round(float((differences[both] <= 1e-4 + 1e-7).mean()), 4),
        "max_abs_difference": round(float(differences[both].max()), 5),
        "nodata_disagreements": int((np.isfinite(a) != np.isfinite(b)).sum()),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
