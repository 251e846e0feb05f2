"""Speed against the floor and the peer: each product, its notebook peer and the decode floor, in one run.

    python benchmarks/bench_speed.py [--family soilsuite seasons parcels] [--world DIR] [--resolution 20 10]
                                     [--fraction 0.5 1.0]

For each family, resolution and area (the world's south-west ``fraction`` by side: 0.5 is a quarter
of the area), three runs, one after the other, each in its own process on the same catalog and area:

* the **decode floor**: every COG the product's scenes need, decoded whole with rasterio on two
  threads, no warp (``peers.decode_floor``);
* the **notebook peer**: the plain odc-stac + xarray code a user would write (``peers.py``);
* the **product**: the ``baresoil`` command a user runs, end to end (search → COGs + STAC).

One JSON line each: the three times, the product's ratio to the floor and the peer's to the product
(the speed-up over the notebook), CPU use (200 % = both cores) and peak memory of each; the machine's
load average before and after (other work on a shared machine slows all three alike: compare the
ratios of one run, not times across runs); and the product's ``profile``, where its seconds went
(``baresoil.spans``: thread-seconds of each phase, summed over the threads that compute, and
``startup``, the seconds before and after the run itself: the interpreter, the imports, the command).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from baresoil.catalog.scenes import select_scenes
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import load_config
from baresoil.grid import Area
from baresoil.spans import PROFILE_ENV
from peers import Measured, measure
from worlds import DEMO

PERIODS = {"soilsuite": ("2021-01-01", "2022-12-31"), "seasons": ("2021-07-01", "2023-06-30"),
           "parcels": ("2021-01-01", "2022-12-31")}  # fmt: skip
BANDS = {
    "soilsuite": ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12", "SCL"),
    "seasons": ("B04", "B08", "SCL"),
    "parcels": ("B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"),
}
"""The bands each product reads (the floor decodes these)."""


def catalog_of(world: Path) -> Path:
    return world / "stac" / "earth-search" / "catalog.json"


def needed_files(world: Path, area: Area, family: str) -> list[str]:
    """The COGs of the scenes the product uses, for the bands it reads."""
    start, end = PERIODS[family]
    config = load_config(product=family if family in ("seasons", "parcels") else None)
    items = find_items(StacSource(str(catalog_of(world))), area, TimeRange.parse(start, end))
    scenes = select_scenes(items, config.scenes)
    return sorted({item.bands[b].href for s in scenes for item in s.items for b in BANDS[family]
                   if b in item.bands})  # fmt: skip


def parcels_in(world: Path, area: Area, fraction: float, folder: Path) -> Path:
    """The world's parcels, or (``fraction`` < 1) those that meet ``area``, written to ``folder``."""
    whole = world / "inputs" / "parcels.gpkg"
    if fraction >= 1.0:
        return whole
    import geopandas as gpd
    import shapely.geometry

    frame = gpd.read_file(whole)
    box = gpd.GeoSeries([shapely.geometry.box(*area.lonlat_bounds)], crs=4326).to_crs(frame.crs).iloc[0]
    clipped = folder / "parcels.gpkg"
    frame[frame.intersects(box)].to_file(clipped)
    return clipped


def product(
    family: str, world: Path, bbox: tuple[float, ...], resolution: float, out: Path, profile: Path,
    parcels: Path | None = None,
) -> Measured:  # fmt: skip
    start, end = PERIODS[family]
    command = [family, "--stac", str(catalog_of(world)), "--out", str(out), "--resolution", f"{resolution:g}"]
    if family == "seasons":
        command += ["--year", "2022"]
    else:
        command += ["--start", start, "--end", end]
    if parcels is not None:  # the parcels set the area: the command takes no box
        command += ["--parcels", str(parcels), "--id-column", "parcel_id"]
    else:
        command += ["--bbox", *(f"{v:.6f}" for v in bbox)]
    return _timed([str(Path(sys.executable).parent / "baresoil"), *command], {PROFILE_ENV: str(profile)})


def _timed(command: list[str], env: dict[str, str] | None = None) -> Measured:
    import resource

    began = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return Measured(round(seconds, 2), round(100 * cpu / seconds), round(peak_kb / 1024))


def run(family: str, world: Path, resolution: float, fraction: float) -> dict[str, object]:
    from bench_soilsuite import world_area

    area = world_area(world, fraction)
    bbox = area.lonlat_bounds
    files = needed_files(world, area, family)
    start, end = PERIODS[family]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "files.json"
        listing.write_text(json.dumps(files))
        floor = measure("decode", str(listing))
        parcels = parcels_in(world, area, fraction, Path(tmp)) if family == "parcels" else None
        extra = [str(parcels)] if parcels is not None else []
        box = ",".join(f"{v:.6f}" for v in bbox)
        peer_out = str(Path(tmp) / "peer")
        peer = measure(family, str(catalog_of(world)), box, start, end, peer_out, f"{resolution:g}", *extra)
        ours = product(family, world, bbox, resolution, Path(tmp) / "product", Path(tmp) / "profile.json",
                       parcels)  # fmt: skip
        profile = profile_of(json.loads((Path(tmp) / "profile.json").read_text()), ours.seconds)
    return {
        "benchmark": "speed", "family": family, "resolution_m": resolution, "area_fraction": fraction,
        "cog_files": len(files),
        "decode_floor": floor.__dict__, "notebook_peer": peer.__dict__, "product": ours.__dict__,
        "product_vs_floor": round(ours.seconds / floor.seconds, 2),
        "speedup_over_notebook": round(peer.seconds / ours.seconds, 2),
        "load_average": {"before": [round(v, 2) for v in load_before],
                         "after": [round(v, 2) for v in os.getloadavg()]},
        "profile": profile,
    }  # fmt: skip


def profile_of(recorded: dict[str, Any], seconds: float) -> dict[str, float]:
    """Seconds by phase: the spans the product recorded, and its startup (the wall time outside the run)."""
    totals = {name: float(value["seconds"]) for name, value in recorded["spans"].items()}
    run = totals.get("run (wall)", 0.0)
    return {"startup": round(max(seconds - run, 0.0), 2), **{k: round(v, 2) for k, v in totals.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--family", nargs="+", default=["soilsuite", "seasons", "parcels"])
    parser.add_argument("--world", type=Path, default=DEMO.path)
    parser.add_argument("--resolution", type=float, nargs="+", default=[20.0])
    parser.add_argument("--fraction", type=float, nargs="+", default=[1.0])
    args = parser.parse_args(argv)
    for family in args.family:
        for resolution in args.resolution:
            for fraction in args.fraction:
                print(json.dumps(run(family, args.world, resolution, fraction)), flush=True)


if __name__ == "__main__":
    main()
