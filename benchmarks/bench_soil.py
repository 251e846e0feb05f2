"""Soil maps benchmark: the maps against the simulator's true soil, and their cross-validation.

    python benchmarks/bench_soil.py [--world DIR] [--property soc --property clay …]

On the default world (cached in benchmarks/.cache/world-42), the SoilSuite
composites are made once with the library (cached beside it, as the demo makes
them: with the WorldCover-class input), then every property of the simulated
lab's samples is mapped with the DEM as extra covariate.  Per property, one JSON
line: RMSE, MEC, bias and the 90 % interval coverage of the map against the true
soil map (averaged onto the 20 m grid) on every mapped pixel, the share of soil
pixels mapped, and the spatial and random cross-validation figures (of the
calibrated intervals, and of the forest's own), the stated and observed coverage
and the covariate comparison of cv_report.json.  A last line checks the
acceptance: MEC >= 0.6 for SOC and clay, 90 % coverage between 0.85 and 0.95.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from odc.geo.geobox import GeoBox
from rasterio.enums import Resampling

from baresoil.catalog.source import StacSource
from baresoil.config import Config, SoilSuiteConfig
from baresoil.io.cog import read_layer
from baresoil.kernels.blockcv import interval_metrics
from baresoil.pipeline.run import Job, run_product
from baresoil.pipeline.soilmap import SoilMapJob, run_soil_maps
from baresoil.products.soil import parse_property
from baresoil.products.soilsuite import soilsuite
from baresoil.simulate import load_truth

sys.path.insert(0, str(Path(__file__).parent))
from bench_soilsuite import PERIOD, world_area
from memory import peak_rss_mb
from truth import DEFAULT_WORLD, regrid, world

PROPERTIES = ("soc", "clay", "silt", "sand", "ph", "n", "bulk_density")
ACCEPTANCE = {"mec_min": 0.6, "picp90_range": (0.85, 0.95), "properties": ("soc", "clay")}


def soilsuite_outputs(folder: Path) -> Path:
    """The SoilSuite output catalog of the world: made once, remade when the world was remade
    (``made_from.json`` holds the world.json they were made from)."""
    out = folder.parent / f"soilsuite-{folder.name}"
    world_json = (folder / "truth" / "world.json").read_text()
    stamp = out / "made_from.json"
    if not (out / "catalog.json").exists() or not stamp.exists() or stamp.read_text() != world_json:
        shutil.rmtree(out, ignore_errors=True)  # composites of another world: resuming would keep them
        params = SoilSuiteConfig(landcover=str(folder / "inputs" / "worldcover.tif"))
        source = StacSource(str(folder / "stac" / "earth-search" / "catalog.json"))
        config = Config(soilsuite=params)
        job = Job(source, world_area(folder), PERIOD, out, config, resume=True, progress=False)
        run_product(job, "soilsuite", soilsuite)
        stamp.write_text(world_json)
    return out


def against_truth(folder: Path, item_path: Path, prop: str) -> dict[str, Any]:
    """Map figures on every mapped pixel against the true map averaged onto the product grid."""
    truth = load_truth(folder)
    item = json.loads(item_path.read_text())
    code = parse_property(prop).prop.code
    quantiles = []
    for suffix in ("Q05", "Q50", "Q95"):
        values, _ = read_layer(item_path.parent / item["assets"][f"{code}_{suffix}"]["href"])
        quantiles.append(values)
    asset = item["assets"][f"{code}_Q50"]
    geobox = GeoBox(tuple(asset["proj:shape"]), Affine(*asset["proj:transform"]), "EPSG:3035")
    true = regrid(truth.soil[prop], truth, geobox, Resampling.average)
    soil = np.isfinite(true)
    mapped = soil & np.isfinite(quantiles[1])
    figures = interval_metrics(true[mapped], *(q[mapped] for q in quantiles))
    return {**_rounded(figures), "mapped_share_of_soil_pixels": round(float(mapped.sum() / soil.sum()), 3)}


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--property", action="append", dest="properties", help="default: all sampled ones")
    args = parser.parse_args(argv)
    folder = world(args.world)
    start = time.perf_counter()
    covariates = soilsuite_outputs(folder)
    soilsuite_seconds = time.perf_counter() - start
    properties = tuple(args.properties or PROPERTIES)
    with tempfile.TemporaryDirectory() as tmp:
        job = SoilMapJob(
            samples=folder / "inputs" / "soil_samples.csv",
            properties=tuple(parse_property(p) for p in properties),
            covariates=(covariates,),
            out_dir=Path(tmp),
            dem=folder / "inputs" / "dem.tif",
            progress=False,
        )
        start = time.perf_counter()
        output = run_soil_maps(job)
        seconds = time.perf_counter() - start
        report = json.loads(output.report.read_text())
        truth_figures = {p: against_truth(folder, output.items[0], p) for p in properties}
    for prop in properties:
        entry = report["properties"][prop]
        print(json.dumps({"benchmark": "soil-accuracy", "property": prop, "unit": entry["unit"],
                          "truth": truth_figures[prop], "spatial_cv": _rounded(entry["spatial_cv"]),
                          "spatial_cv_uncalibrated": _rounded(entry["spatial_cv_uncalibrated"]),
                          "interval": _rounded({k: v for k, v in entry["interval"].items()
                                                if k in ("stated_coverage", "observed_coverage",
                                                         "observed_coverage_uncalibrated", "margin",
                                                         "margin_space")}),
                          "random_cv": _rounded(entry["random_cv"]),
                          "comparison": [_rounded(row) for row in entry["comparison"]]}))  # fmt: skip
    low, high = ACCEPTANCE["picp90_range"]
    checks = {}
    for prop in ACCEPTANCE["properties"]:
        if prop in truth_figures:
            t = truth_figures[prop]
            checks[f"{prop}_mec"] = t["mec"]
            checks[f"{prop}_picp90"] = t["picp90"]
            checks[f"{prop}_pass"] = bool(t["mec"] >= ACCEPTANCE["mec_min"] and low <= t["picp90"] <= high)
    figures = {
        **checks,
        "pass": all(v for k, v in checks.items() if k.endswith("_pass")),
        "samples_used": report["samples"]["used"],
        "samples_read": report["samples"]["read"],
        "soilsuite_seconds": round(soilsuite_seconds, 1),
        "soil_maps_seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    print(json.dumps({"benchmark": "soil-acceptance", **figures}))


if __name__ == "__main__":
    main(sys.argv[1:])
