"""The demo: a simulated world through every product, ending in an HTML report.

Each product family adds one step to ``DEMO_STEPS``; the demo reuses an existing
simulation in the output folder, so a second run only recomputes products.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog.source import StacSource, TimeRange
from ..config import Config
from ..grid import EEA_CRS, area_from_tile, tiles_covering
from ..io.report import write_report
from ..products.observations import FAMILY as OBSERVATIONS
from ..products.observations import observation_counts
from ..products.soilsuite import FAMILY as SOILSUITE
from ..products.soilsuite import soilsuite
from .cluster import scheduler
from .run import Job, run_product

if TYPE_CHECKING:
    from ..simulate import WorldSpec

Echo = Callable[[str], None]


def run_demo(out: Path, seed: int = 42, scheduler_address: str | None = None, echo: Echo = print) -> Path:
    from ..simulate import WorldSpec, simulate

    spec = WorldSpec(seed=seed)
    sim_dir = out / "simulation"
    catalog = sim_dir / "stac" / "earth-search" / "catalog.json"
    if catalog.exists():
        echo(f"reusing the simulated world in {sim_dir}")
    else:
        echo(f"simulating a {spec.size_m / 1000:g} km world, {spec.start} to {spec.end} ...")
        catalog = simulate(sim_dir, spec).catalog("earth-search")
    tile = tiles_covering(_world_bounds_eea(spec))[0]
    job = Job(
        source=StacSource(str(catalog)),
        area=area_from_tile(tile.code),
        period=TimeRange(spec.start, spec.end),
        out_dir=out / "products",
        config=Config(),
    )
    with scheduler(scheduler_address):
        for name, step in DEMO_STEPS:
            echo(f"{name} ...")
            step(job, sim_dir)
    return write_report(job.out_dir, out / "report.html", title="baresoil demo")


def _world_bounds_eea(spec: WorldSpec) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    x0, y0 = spec.origin
    size = spec.size_m
    to_eea = Transformer.from_crs(spec.epsg, EEA_CRS, always_xy=True)
    xs, ys = to_eea.transform([x0, x0 + size, x0, x0 + size], [y0, y0, y0 + size, y0 + size])
    return (min(xs), min(ys), max(xs), max(ys))


def _observations(job: Job, sim_dir: Path) -> None:
    run_product(job, OBSERVATIONS, observation_counts)


def _soilsuite(job: Job, sim_dir: Path) -> None:
    landcover = sim_dir / "inputs" / "worldcover.tif"
    config = job.config.override(**{"soilsuite.landcover": str(landcover)})
    run_product(dataclasses.replace(job, config=config), SOILSUITE, soilsuite)


DEMO_STEPS: list[tuple[str, Callable[[Job, Path], None]]] = [
    ("observation statistics", _observations),
    ("SoilSuite composites", _soilsuite),
]
