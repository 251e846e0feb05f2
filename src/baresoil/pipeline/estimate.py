"""What a run would do before it runs: its EEA tiles, scenes, pixel-observations, time and output volume.

``baresoil plan`` shows it.  The catalog is searched as a run searches it (:func:`.run.plan`); nothing
is read but the STAC items.  The time is projected from the throughput the benchmarks measure per
core (``pixel_observations_per_second`` of ``benchmarks/bench_cube.py`` and ``bench_soilsuite.py``),
times this machine's cores: reads over the network add to it.  The volume is what the layers take
uncompressed (COGs are deflated: expect less).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np

from .. import registry
from .run import Job, plan

PIXEL_OBSERVATIONS_PER_CORE_S = {"observations": 80_000, "soilsuite": 35_000, "seasons": 35_000}
"""Pixel-observations one core computes per second, from local COGs (the benchmarks' order of magnitude;
seasons is taken as soilsuite, its cost per observation being alike)."""


@dataclass(frozen=True)
class TileEstimate:
    tile: str
    scenes: int
    pixels: int
    pixel_observations: int
    seconds: float
    megabytes: float


@dataclass(frozen=True)
class RunEstimate:
    family: str
    cores: int
    tiles: list[TileEstimate]
    scenes: int
    """Scenes of the run (a scene over two tiles counts once; the tiles' rows count it in each)."""

    @property
    def total(self) -> TileEstimate:
        return TileEstimate(
            "total",
            self.scenes,
            sum(t.pixels for t in self.tiles),
            sum(t.pixel_observations for t in self.tiles),
            round(sum(t.seconds for t in self.tiles), 3),
            round(sum(t.megabytes for t in self.tiles), 1),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "family": self.family,
            "cores": self.cores,
            "tiles": [asdict(t) for t in self.tiles],
            "total": asdict(self.total),
        }


def estimate(job: Job, family: str, cores: int | None = None) -> RunEstimate:
    """The tiles of ``job`` with their scenes, pixels, pixel-observations, projected seconds and MB."""
    cores = cores or os.cpu_count() or 1
    rate = PIXEL_OBSERVATIONS_PER_CORE_S[family] * cores
    per_pixel = _bytes_per_pixel(family) * _years(job)
    resolution = job.config.cube.resolution
    tiles: list[TileEstimate] = []
    scenes: set[datetime] = set()
    for tile_plan in plan(job):
        scenes.update(scene.time for scene in tile_plan.scenes)
        height, width = tile_plan.area.geobox(resolution).shape
        pixels = int(height) * int(width)
        observations = pixels * len(tile_plan.scenes)
        tiles.append(
            TileEstimate(
                tile_plan.tile.code,
                len(tile_plan.scenes),
                pixels,
                observations,
                round(observations / rate, 3),
                round(pixels * per_pixel / 1e6, 1),
            )
        )
    return RunEstimate(family, cores, tiles, len(scenes))


def _bytes_per_pixel(family: str) -> int:
    """Bytes per pixel of every layer the family writes, per period."""
    return sum(max(1, len(layer.bands)) * np.dtype(layer.dtype).itemsize for layer in registry.layers(family))


def _years(job: Job) -> int:
    """The products write a period per calendar year the run's period touches."""
    return job.period.end.year - job.period.start.year + 1


def format_table(result: RunEstimate) -> str:
    """The estimate as a text table, one row per tile and a total."""
    header = ("tile", "scenes", "pixels", "pixel-obs", "time", "output")
    rows = [
        (t.tile, str(t.scenes), f"{t.pixels:,}", f"{t.pixel_observations:,}", _duration(t.seconds),
         f"{t.megabytes:,.1f} MB")
        for t in [*result.tiles, result.total]
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                       enumerate(zip(row, widths, strict=True))) for row in [header, *rows]]  # fmt: skip
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines) + (
        f"\n{result.family} on {result.cores} core(s); time projected from local reads, output uncompressed"
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
