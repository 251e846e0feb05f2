"""Cube benchmark: throughput and peak memory of building the observation cube.

Builds the cube of the default simulated world and reduces every band of every
date (the clear-sky mean reflectance and the clear-sky count), then compares the
time with that of only reading the same COG bytes (raw file reads) and of only
decoding them (GDAL reads at native resolution).  Prints one JSON line.

    python benchmarks/bench_cube.py [--world DIR] [--resolution 20] [--chunk 256]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import dask
import numpy as np

from baresoil.catalog.layouts import REFLECTANCE_BANDS
from baresoil.catalog.scenes import select_scenes
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import Config, CubeConfig
from baresoil.cube import data_footprint, load_cube

sys.path.insert(0, str(Path(__file__).parent))
from baselines import cog_baselines
from bench_soilsuite import world_area
from memory import peak_rss_mb
from truth import DEFAULT_WORLD, world


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--resolution", type=float, default=20.0)
    parser.add_argument("--chunk", type=int, default=0, help="0: automatic (memory budget)")
    args = parser.parse_args(argv)

    folder = world(args.world)
    catalog = folder / "stac" / "earth-search" / "catalog.json"
    config = Config(cube=CubeConfig(resolution=args.resolution, chunk_size=args.chunk))
    period = TimeRange.parse("2021-01-01", "2022-12-31")
    rss_before = peak_rss_mb()

    start = time.perf_counter()
    area = world_area(folder)
    items = find_items(StacSource(str(catalog)), area, period)
    scenes = select_scenes(items, config.scenes)
    geobox = area.intersection(data_footprint(items)).geobox(config.cube.resolution)
    cube = load_cube(scenes, geobox, config.cube)
    means = [cube[b].where(cube.clear).mean("time") for b in REFLECTANCE_BANDS]
    results = dask.compute(cube.clear.sum("time"), *means)
    cube_seconds = time.perf_counter() - start
    n_obs = int(np.prod([cube.sizes[d] for d in ("time", "y", "x")]))

    files = sorted({Path(b.href) for s in scenes for it in s.items for b in it.bands.values()})
    baselines = cog_baselines(files)

    figures: dict[str, object] = {
        "benchmark": "cube",
        "resolution_m": args.resolution,
        "chunk_px": cube.B02.chunks[-1][0],
        "dates": cube.sizes["time"],
        "pixels": cube.sizes["y"] * cube.sizes["x"],
        "pixel_observations": n_obs,
        "cube_seconds": round(cube_seconds, 2),
        "pixel_observations_per_second": round(n_obs / cube_seconds),
        "files": len(files),
        "megabytes": round(baselines.megabytes, 1),
        "read_bytes_seconds": round(baselines.read_bytes_seconds, 2),
        "decode_seconds": round(baselines.decode_seconds, 2),
        "ratio_cube_to_decode": round(cube_seconds / baselines.decode_seconds, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "rss_before_mb": round(rss_before),
        "clear_observations_mean": round(float(results[0].mean()), 1),
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
