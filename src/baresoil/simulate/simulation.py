"""Running the simulator: every stage in order, into one folder (see the package's docstring)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .crops import simulate_crops
from .inputs import write_inputs
from .observe import observe
from .practices import convert_grassland, declarations, split_parcels, write_practices
from .render import SceneRecord, has_data, write_scene
from .samples import draw_samples
from .sar import write_sar
from .schedule import Acquisition, acquisitions, product_ids, tiles
from .spec import RECIPE, WorldSpec
from .stac import SIMULATED_LAYOUTS, write_catalogs
from .surface import Surface
from .truth import TruthStacks, write_static_truth, write_world_json
from .weather import Weather, simulate_weather
from .world import LANDCOVER_NAMES, World, build_world, parcel_geometries

_MARKER = ".baresoil-simulation"
_OWNED = ("stac", "scenes", "truth", "inputs", "sar")
_WEATHER_SPINUP_DAYS = 120


@dataclass(frozen=True)
class Simulation:
    """Where a simulation was written."""

    root: Path
    catalogs: dict[str, Path]
    """Layout name (``earth-search``, ``earth-search-l2a``, ``planetary-computer``, ``cdse``) -> its
    catalog.json."""
    truth_dir: Path
    inputs_dir: Path
    spec: WorldSpec
    seconds: float = 0.0
    """Wall time the simulation took."""
    s1_catalog: Path | None = None
    """The Sentinel-1 catalog.json (``stac/sentinel-1-rtc``), when simulated."""

    def catalog(self, name: str) -> Path:
        """The catalog.json of layout ``name``."""
        try:
            return self.catalogs[name]
        except KeyError:
            raise KeyError(f"no catalog for layout {name!r}; have {', '.join(self.catalogs)}") from None

    @property
    def scenes_dir(self) -> Path:
        return self.root / "scenes"


def simulate(out_dir: str | Path, spec: WorldSpec = WorldSpec()) -> Simulation:  # noqa: B008
    """Simulate ``spec``'s world into ``out_dir``: scenes, catalogs, inputs and truth.

    A previous simulation in ``out_dir`` is replaced.  The catalogs are written
    last, so an interrupted run never looks complete.
    """
    began = time.perf_counter()
    root = Path(out_dir)
    _clear_previous(root)
    world = build_world(spec)
    if spec.practices:
        world, splits = split_parcels(world)
    weather = _weather(spec)
    history = simulate_crops(spec, world.parcels)
    if spec.practices:
        world, history, conversions = convert_grassland(world, history, splits)
    samples = draw_samples(world)
    parcels = parcel_geometries(world)
    declared = declarations(parcels, history, splits, conversions) if spec.practices else (parcels, history)
    write_inputs(root / "inputs", world, declared[1], samples, declared[0])
    write_static_truth(root / "truth", world, history, weather, samples, parcels)
    if spec.practices:
        write_practices(root / "truth", splits, conversions, history)
    surface = Surface(world, history, weather)
    schedule = acquisitions(spec)
    stacks = TruthStacks(spec, schedule)
    records: list[SceneRecord] = []
    for acq in schedule:
        obs = observe(spec, surface, acq)
        written = [
            write_scene(root, spec, obs, tile, k, product_ids(spec, acq, tile))
            for k, tile in enumerate(tiles(spec))
            if has_data(obs, tile)
        ]
        stacks.add(obs, written)
        records += written
    stacks.write(root / "truth")
    s1_catalog = write_sar(root, world, history, weather) if spec.sentinel1 else None
    write_world_json(root / "truth", spec, _summary(world, schedule, records))
    catalogs = write_catalogs(root, spec, records)
    seconds = time.perf_counter() - began
    return Simulation(root, catalogs, root / "truth", root / "inputs", spec, seconds, s1_catalog)


def add_sentinel1(out_dir: str | Path) -> Path:
    """Add the Sentinel-1 scenes, truth and catalog to an existing simulation (its spec, its seed).

    Sentinel-2 outputs are left untouched; returns the Sentinel-1 catalog.json.
    """
    root = Path(out_dir)
    spec = WorldSpec.from_json(json.loads((root / "truth" / "world.json").read_text())["spec"])
    world = build_world(spec)
    weather = _weather(spec)
    history = simulate_crops(spec, world.parcels)
    return write_sar(root, world, history, weather)


def _weather(spec: WorldSpec) -> Weather:
    first = spec.sim_start - timedelta(days=_WEATHER_SPINUP_DAYS)
    return simulate_weather(spec.seed, first, spec.end, spec.physics.weather)


def is_simulation_of(out_dir: str | Path, spec: WorldSpec) -> bool:
    """Whether ``out_dir`` holds a complete simulation of ``spec`` by this simulator's recipe.

    The catalogs are written last, so their presence means the run finished.
    """
    root = Path(out_dir)
    world_json = root / "truth" / "world.json"
    catalogs = [root / "stac" / layout.name / "catalog.json" for layout in SIMULATED_LAYOUTS]
    if not all(path.exists() for path in catalogs) or not world_json.exists():
        return False
    stored = json.loads(world_json.read_text())
    physics = json.loads(json.dumps(spec.physics.to_json()))  # as stored: tuples become lists
    same_physics = stored.get("physics", physics) == physics
    return bool(stored.get("recipe") == RECIPE and stored.get("spec") == spec.to_json() and same_physics)


def _clear_previous(root: Path) -> None:
    """Remove the outputs of an earlier simulation here (catalogs first), never anything else."""
    root.mkdir(parents=True, exist_ok=True)
    marker = root / _MARKER
    if marker.exists():
        for name in _OWNED:
            shutil.rmtree(root / name, ignore_errors=True)
    marker.write_text("written by baresoil.simulate; the folders stac, scenes, truth, inputs are replaced\n")


def _summary(world: World, schedule: tuple[Acquisition, ...], records: list[SceneRecord]) -> dict:
    shares = {
        name: round(float((world.landcover == code).mean()), 4) for code, name in LANDCOVER_NAMES.items()
    }
    return {
        "n_acquisitions": len(schedule),
        "n_items_per_layout": len(records),
        "tiles": [
            {"code": t.code, "col_start": t.col_start, "col_stop": t.col_stop} for t in tiles(world.spec)
        ],
        "landcover_shares": shares,
        "n_parcels": len(world.parcels),
        "layouts": [layout.name for layout in SIMULATED_LAYOUTS],
    }


__all__ = ["Simulation", "add_sentinel1", "is_simulation_of", "simulate"]
