"""A tiny simulated world (600 m, December to March: both sides of baseline 04.00), built once per session."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio

from baresoil.simulate import Simulation, Truth, WorldSpec, load_truth, simulate

TINY = WorldSpec(size_m=600, start=date(2021, 12, 1), end=date(2022, 3, 31))


@pytest.fixture(scope="session")
def tiny_spec() -> WorldSpec:
    return TINY


@pytest.fixture(scope="session")
def tiny_sim(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    return simulate(tmp_path_factory.mktemp("sim-a"), TINY)


@pytest.fixture(scope="session")
def tiny_truth(tiny_sim: Simulation) -> Truth:
    return load_truth(tiny_sim.root)


@pytest.fixture(scope="session")
def tiny_sim_again(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    """The same spec and seed, written elsewhere."""
    return simulate(tmp_path_factory.mktemp("sim-b"), TINY)


@pytest.fixture(scope="session")
def tiny_sim_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    return simulate(tmp_path_factory.mktemp("sim-c"), dataclasses.replace(TINY, seed=7))


def read_band(path: Path) -> tuple[np.ndarray, rasterio.Affine]:
    with rasterio.open(path) as src:
        return src.read(1), src.transform


@pytest.fixture(scope="session")
def mosaic():
    """Read one band of one date from all its tiles onto the world's grid (what a reader must do)."""

    def read(sim: Simulation, truth: Truth, band_index: int, band: str) -> np.ndarray:
        row = truth.observations.iloc[band_index]
        res = 20 if band not in ("B02", "B03", "B04", "B08") else 10
        n = truth.spec.size_m // res
        out = np.zeros((n, n), np.uint16 if band != "SCL" else np.uint8)
        for scene in row["items"].split(";"):
            data, transform = read_band(sim.scenes_dir / scene / f"{band}.tif")
            c0 = round((transform.c - truth.transform.c) / res)
            out[:, c0 : c0 + data.shape[1]] = data
        return out

    return read
