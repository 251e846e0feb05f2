"""The demo: a simulated world through every product, ending in an HTML report.

Each product family adds one step to ``DEMO_STEPS``; the demo reuses an existing
simulation in the output folder, so a second run only recomputes products.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from shapely.geometry import box

from ..catalog.source import StacSource, TimeRange
from ..config import PRODUCT_DEFAULTS, Config
from ..cube.load import open_cube
from ..cube.s1 import load_s1
from ..grid import EEA_CRS, Area, area_from_tile, tiles_covering
from ..io.report import write_report
from ..io.seasons_report import write_time_series
from ..products.observations import FAMILY as OBSERVATIONS
from ..products.observations import observation_counts
from ..products.seasons import FAMILY as SEASONS
from ..products.seasons import PixelSeries, analysis_window, cross_ratio, pixel_series, seasons_product
from ..products.seasons import file_name as seasons_file_name
from ..products.soil import parse_property
from ..products.soilsuite import FAMILY as SOILSUITE
from ..products.soilsuite import soilsuite
from .cluster import scheduler
from .composite import run_composite
from .parcels import FAMILY as PARCELS
from .parcels import ParcelJob, run_parcels
from .run import Job, run_product
from .soilmap import SoilMapJob, run_soil_maps

if TYPE_CHECKING:
    from ..simulate import WorldSpec

Echo = Callable[[str], None]


def run_demo(out: Path, seed: int, scheduler_address: str | None = None, echo: Echo = print) -> Path:
    from ..simulate import WorldSpec, is_simulation_of, simulate

    spec = WorldSpec(seed=seed)
    sim_dir = out / "simulation"
    catalog = sim_dir / "stac" / "earth-search" / "catalog.json"
    if is_simulation_of(sim_dir, spec):
        echo(f"reusing the simulated world in {sim_dir}")
    else:
        echo(f"simulating a {spec.size_m / 1000:g} km world, {spec.start} to {spec.end} ...")
        catalog = simulate(sim_dir, spec).catalog("earth-search")
    tile = tiles_covering(_world_bounds_eea(spec))[0]
    job = Job(
        source=StacSource(str(catalog)),
        area=area_from_tile(tile.code),
        period=TimeRange(spec.start, date(spec.last_full_year, 12, 31)),  # the seasons step reads on to June
        out_dir=out / "products",
        config=Config(),
    )
    timings: dict[str, float] = {}
    with scheduler(scheduler_address):
        for name, step in DEMO_STEPS:
            echo(f"{name} ...")
            started = time.perf_counter()
            step(job, sim_dir)
            timings[name] = time.perf_counter() - started
    return write_report(job.out_dir, out / "report.html", title="baresoil demo", timings=timings)


def _world_bounds_eea(spec: WorldSpec) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    x0, y0 = spec.origin
    size = spec.size_m
    to_eea = Transformer.from_crs(spec.epsg, EEA_CRS, always_xy=True)
    xs, ys = to_eea.transform([x0, x0 + size, x0, x0 + size], [y0, y0, y0 + size, y0 + size])
    return (min(xs), min(ys), max(xs), max(ys))


def _observations(job: Job, sim_dir: Path) -> None:
    run_product(job, OBSERVATIONS, observation_counts)


def _composites(job: Job, sim_dir: Path) -> None:
    """Quarterly median composites of the last full year (the Global Mosaic's product)."""
    year = job.period.end.year
    config = job.config.override(**{"composite.every": "quarter", "composite.stat": "median"})
    period = TimeRange(date(year, 1, 1), date(year, 12, 31))
    run_composite(dataclasses.replace(job, config=config, period=period))


def _soilsuite(job: Job, sim_dir: Path) -> None:
    landcover = sim_dir / "inputs" / "worldcover.tif"
    config = job.config.override(**{"soilsuite.landcover": str(landcover)})
    run_product(dataclasses.replace(job, config=config), SOILSUITE, soilsuite)


DEMO_PROPERTIES = ("soc", "clay", "silt", "sand", "ph", "n", "bulk_density")
"""The properties the simulator's lab measures."""


def _soil_maps(job: Job, sim_dir: Path) -> None:
    inputs = sim_dir / "inputs"
    soil_job = SoilMapJob(samples=inputs / "soil_samples.csv",
                          properties=tuple(parse_property(p) for p in DEMO_PROPERTIES),
                          covariates=(job.out_dir,), out_dir=job.out_dir, dem=inputs / "dem.tif",
                          config=job.config, progress=job.progress)  # fmt: skip
    run_soil_maps(soil_job)


def _parcel_markers(job: Job, sim_dir: Path) -> None:
    from ..simulate import add_sentinel1

    s1_catalog = sim_dir / "stac" / "sentinel-1-rtc" / "catalog.json"
    if not s1_catalog.exists():  # a simulation from before Sentinel-1 was simulated
        add_sentinel1(sim_dir)
    parcel_job = ParcelJob(
        source=job.source,
        parcels=sim_dir / "inputs" / "parcels.gpkg",
        id_column="parcel_id",
        period=job.period,
        out_dir=job.out_dir,
        category_column=f"crop_{job.period.start.year}",
        s1_source=StacSource(str(s1_catalog)),
        config=job.config.override(**PRODUCT_DEFAULTS[PARCELS]),
        progress=job.progress,
    )
    run_parcels(parcel_job)


def _seasons(job: Job, sim_dir: Path) -> None:
    """The HRL layers of the last full year at 10 m (seen to June after it), and a few pixels' series."""
    year = job.period.end.year
    config = job.config.override(**PRODUCT_DEFAULTS[SEASONS], **{"seasons.year": year})
    seasons_job = dataclasses.replace(job, config=config, period=analysis_window(year))
    s1_catalog = sim_dir / "stac" / "sentinel-1-rtc" / "catalog.json"
    radar = StacSource(str(s1_catalog)) if s1_catalog.exists() else None
    items = run_product(seasons_job, SEASONS, seasons_product(radar=radar), seasons_file_name)
    points = _season_examples(items[0], config)
    if points:
        series = [_point_series(seasons_job, radar, point) for point in points]
        write_time_series(series, job.out_dir)


def _point_series(job: Job, radar: StacSource | None, point: tuple[float, float]) -> PixelSeries:
    """One pixel's analysis from a small cube around it (not the whole tile read again).

    The margin covers the cloud buffer and the radar's boxcar, so the pixel's clear
    mask and cross ratio are those of the product.
    """
    config = job.config
    margin = config.cube.cloud_buffer_m + (config.seasons.radar_window + 1) * config.cube.resolution
    x, y = point
    area = Area(box(x - margin, y - margin, x + margin, y + margin), f"pixel at x={x:.0f}, y={y:.0f}")
    cube = open_cube(job.source, area, job.period, config)
    ratio = None
    if radar is not None:
        s1 = load_s1(radar, cube.odc.geobox, job.period, int(cube.B04.chunks[-1][0]))
        ratio = cross_ratio(s1, config.seasons.radar_window)
    return pixel_series(cube, job.period, config, [point], ratio)[0]


def _season_examples(item_path: Path, config: Config, count: int = 4) -> list[tuple[float, float]]:
    """Pixels with a main season, from early to late harvests (x, y in EPSG:3035)."""
    item = json.loads(item_path.read_text())
    stored = {}
    for code in ("CPMCH", "CPMCECL", "CPBSACL"):
        with rasterio.open(item_path.parent / item["assets"][code]["href"]) as src:
            stored[code] = src.read(1)
            transform = src.transform
    harvest = stored["CPMCH"]
    complete = (harvest > 0) & (stored["CPMCECL"] < 65000) & (stored["CPBSACL"] < 65000)  # no flag at all
    rows, cols = np.nonzero(complete)
    if rows.size == 0:
        return []
    order = np.argsort(harvest[rows, cols], kind="stable")
    picks = order[np.linspace(0, order.size - 1, count).astype(int)]
    return [transform * (cols[i] + 0.5, rows[i] + 0.5) for i in picks]


DEMO_STEPS: list[tuple[str, Callable[[Job, Path], None]]] = [
    ("observation statistics", _observations),
    ("reflectance composites", _composites),
    ("SoilSuite composites", _soilsuite),
    ("crop seasons and bare-soil periods", _seasons),
    ("parcel markers", _parcel_markers),
    ("soil property maps", _soil_maps),
]
