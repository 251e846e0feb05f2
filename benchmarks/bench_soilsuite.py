"""SoilSuite benchmark: accuracy against the simulator's truth, throughput and peak memory.

    python benchmarks/bench_soilsuite.py [--world DIR] [--only accuracy|speed]

Accuracy (default world, 20 m, with the WorldCover-class input as DLR uses it):
MASK overall accuracy, BSF mean absolute error (percentage points), SRC_MEAN RMSE
per band against the true bare-soil reflectance, for fixed thresholds and for
the data-driven estimate (``auto``), on all pixels, on pure pixels (not on a
parcel edge) and on interior pixels (pure, and so are their neighbours: the
reflectance of a pixel next to another surface carries some of it, see
``GriddedTruth.interior``).  Speed: end-to-end pixel-observations per second, the ratio to
only reading the same COGs onto the grid (and to decoding them, and to reading
their bytes), and peak memory for two areas (each in its own process).  One JSON line per figure set.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import dask
import numpy as np

from baresoil.catalog.layouts import REFLECTANCE_BANDS
from baresoil.catalog.scenes import select_scenes
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import Config, CubeConfig, SoilSuiteConfig
from baresoil.cube import data_footprint, load_cube, read_dn
from baresoil.grid import Area, area_from_bbox
from baresoil.pipeline.run import Job, run_product
from baresoil.products.soilsuite import soilsuite
from baresoil.simulate import load_truth

sys.path.insert(0, str(Path(__file__).parent))
from baselines import cog_baselines
from memory import peak_rss_mb
from truth import DEFAULT_WORLD, bare_fraction_per_date, bare_reflectance, regrid, truth_on_grid, world

PERIOD = TimeRange.parse("2021-01-01", "2022-12-31")
CROPLAND = 1
"""Truth land-cover code of cropland (truth/world.json legend)."""


def world_area(folder: Path, fraction: float = 1.0) -> Area:
    """The world's lon/lat box, or its south-west ``fraction`` (by side)."""
    truth = load_truth(folder)
    from pyproj import Transformer

    spec = truth.spec
    x0, y0 = spec.origin
    side = spec.size_m * fraction
    to_ll = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    lons, lats = to_ll.transform([x0, x0 + side, x0, x0 + side], [y0, y0, y0 + side, y0 + side])
    return area_from_bbox(min(lons), min(lats), max(lons), max(lats))


def build(folder: Path, area: Area, config: Config, period: TimeRange = PERIOD):  # type: ignore[no-untyped-def]
    items = find_items(StacSource(str(folder / "stac" / "earth-search" / "catalog.json")), area, period)
    scenes = select_scenes(items, config.scenes)
    geobox = area.intersection(data_footprint(items)).geobox(config.cube.resolution)
    return scenes, load_cube(scenes, geobox, config.cube)


def accuracy(folder: Path, threshold: str, landcover: bool, rule: str = "pvir2",
             cover_screen: bool = True) -> dict[str, object]:  # fmt: skip
    landcover_path = str(folder / "inputs" / "worldcover.tif") if landcover else ""
    params = SoilSuiteConfig(rule=rule, threshold=threshold, landcover=landcover_path)
    if not cover_screen:
        params = dataclasses.replace(params, min_soil_fraction=0.0)
    config = Config(soilsuite=params)
    scenes, cube = build(folder, world_area(folder), config)
    whole = soilsuite(cube, PERIOD, config)[0].layers
    out = dask.compute(whole)[0]
    truth = load_truth(folder)
    dates = [s.time.date() for s in scenes]
    grid = truth_on_grid(truth, cube.odc.geobox, dates)
    years = range(PERIOD.start.year, PERIOD.end.year + 1)  # the world runs on past the period
    src_truth = regrid(bare_reflectance(folder, truth, years), truth, cube.odc.geobox,
                       __import__("rasterio.enums").enums.Resampling.average)  # fmt: skip
    # BSF against the truth of the very observations the product counted as valid: detection error only
    valid = (cube.clear & np.isfinite(cube[list(REFLECTANCE_BANDS)].to_array()).all("variable")).values
    bare_share = bare_fraction_per_date(truth, cube.odc.geobox, dates)
    with np.errstate(invalid="ignore", divide="ignore"):
        same_obs = 100 * (valid * bare_share).sum(axis=0) / valid.sum(axis=0)
    cropland = grid.pure & (grid.landcover == CROPLAND)
    return {"threshold": threshold, "rule": rule, "landcover": landcover, "cover_screen": cover_screen,
            **_scores(out, grid, src_truth, grid.pure, "pure"),
            **_scores(out, grid, src_truth, grid.interior, "interior"),
            **_scores(out, grid, src_truth, np.ones_like(grid.pure), "all"),
            "bsf_mae_pp_cropland": _mae(out.BSF.values, grid.bsf, cropland),
            "bsf_mae_same_obs_pp_pure": _mae(out.BSF.values, same_obs, grid.pure),
            "bsf_mae_same_obs_pp_cropland": _mae(out.BSF.values, same_obs, cropland)}  # fmt: skip


def _mae(product: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    both = where & np.isfinite(product) & np.isfinite(truth)
    return round(float(np.mean(np.abs(product[both] - truth[both]))), 2)


def _scores(out, grid, src_truth, where, tag):  # type: ignore[no-untyped-def]
    truth_mask = grid.mask()
    mask = out.MASK.values
    decided = where & np.isfinite(truth_mask)
    oa = float(np.mean(mask[decided] == truth_mask[decided]))
    src = out.SRC_MEAN.values
    ok = where & np.isfinite(src).all(axis=0) & np.isfinite(src_truth).all(axis=0)
    rmse = {b: round(float(np.sqrt(np.mean((src[i][ok] - src_truth[i][ok]) ** 2))), 4)
            for i, b in enumerate(REFLECTANCE_BANDS)}  # fmt: skip
    confusion = {f"{int(t)}->{p}": int(np.sum((truth_mask[decided] == t) & (_label(mask[decided]) == p)))
                 for t in (1, 2, 3) for p in ("1", "2", "3", "nodata")}  # fmt: skip
    return {
        f"mask_oa_{tag}": round(oa, 4),
        f"bsf_mae_pp_{tag}": _mae(out.BSF.values, grid.bsf, where),
        f"src_rmse_max_{tag}": max(rmse.values()),
        f"src_rmse_{tag}": rmse,
        f"src_pixels_{tag}": int(ok.sum()),
        f"mask_pixels_{tag}": int(decided.sum()),
        f"confusion_{tag}": confusion,
    }


def _label(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), np.nan_to_num(values).astype(int).astype(str), "nodata")


def speed(
    folder: Path, fraction: float, resolution: float, chunk: int = 0, repeat: int = 1
) -> dict[str, object]:
    """End-to-end SoilSuite run (search, cube, all layers and periods, COGs, STAC) against reading.

    Three baselines for the same COGs: reading them onto the product grid with the cube's own
    reader and chunks, no computation (the target's baseline: how much the product adds to its
    input); decoding them whole with rasterio, one after another, without warping; and reading
    their bytes (from the page cache here, so only a lower bound).  With ``repeat`` > 1 the run
    and the reading alternate that many times and the fastest of each counts: on a shared machine
    a single pair of timings differs by a fifth from one try to the next.
    """
    import tempfile

    config = Config(cube=CubeConfig(resolution=resolution, chunk_size=chunk))
    area = world_area(folder, fraction)
    source = StacSource(str(folder / "stac" / "earth-search" / "catalog.json"))
    scenes, cube = build(folder, area, config)
    n_obs = int(np.prod([cube.sizes[d] for d in ("time", "y", "x")]))
    runs, reads = [], []
    for _ in range(max(1, repeat)):
        with tempfile.TemporaryDirectory() as out:
            job = Job(source, area, PERIOD, Path(out), config, progress=False)
            start = time.perf_counter()
            run_product(job, "soilsuite", soilsuite)
            runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        read_dn(scenes, cube.odc.geobox, config.cube).compute()
        reads.append(time.perf_counter() - start)
    seconds, read_seconds = min(runs), min(reads)
    files = sorted({b.href for s in scenes for it in s.items for b in it.bands.values()})
    baselines = cog_baselines(files)
    return {
        "area_fraction": fraction,
        "resolution_m": resolution,
        "pixels": cube.sizes["y"] * cube.sizes["x"],
        "chunk_px": cube.B02.chunks[-1][0],
        "chunks": int(np.prod(cube.B02.data.numblocks)),
        "dates": cube.sizes["time"],
        "pixel_observations": n_obs,
        "seconds": round(seconds, 2),
        "pixel_observations_per_second": round(n_obs / seconds),
        "cog_files": len(files),
        "cog_megabytes": round(baselines.megabytes, 1),
        "read_seconds": round(read_seconds, 2),
        "ratio_to_reading": round(seconds / read_seconds, 2),
        "decode_seconds": round(baselines.decode_seconds, 2),
        "ratio_to_decoding": round(seconds / baselines.decode_seconds, 1),
        "read_bytes_seconds": round(baselines.read_bytes_seconds, 3),
        "ratio_to_reading_bytes": round(seconds / baselines.read_bytes_seconds, 1),
        "peak_rss_mb": round(peak_rss_mb()),
        "repeats": len(runs),
        "seconds_each": [round(t, 2) for t in runs],
        "read_seconds_each": [round(t, 2) for t in reads],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--only", choices=("accuracy", "speed"), help="run one half of the benchmark")
    parser.add_argument(
        "--speed-child", nargs=4, type=float, metavar=("FRACTION", "RESOLUTION", "CHUNK", "REPEAT")
    )
    args = parser.parse_args(argv)
    folder = world(args.world)
    if args.speed_child:
        fraction, resolution, chunk, repeat = args.speed_child
        figures = speed(folder, fraction, resolution, int(chunk), int(repeat))
        print(json.dumps({"benchmark": "soilsuite-speed", **figures}))
        return
    if args.only != "speed":
        runs = (("auto", True, True), ("0.2", True, True), ("0.25", True, True), ("auto", False, True),
                ("auto", True, False))  # fmt: skip
        for threshold, landcover, cover_screen in runs:
            figures = accuracy(folder, threshold, landcover=landcover, cover_screen=cover_screen)
            print(json.dumps({"benchmark": "soilsuite-accuracy", **figures}))
    if args.only != "accuracy":
        # default chunks (best of three for the time ratio), then small chunks so that both areas
        # span several blocks (memory against area)
        runs = ((1.0, 20, 0, 3), (1.0, 10, 0, 2), (0.5, 10, 96, 1), (1.0, 10, 96, 1))
        for fraction, resolution, chunk, repeat in runs:
            child = [sys.executable, __file__, "--world", str(folder), "--speed-child"]
            subprocess.run([*child, str(fraction), str(resolution), str(chunk), str(repeat)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
