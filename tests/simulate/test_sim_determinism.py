"""One spec and seed give identical outputs; another seed gives another world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio

from baresoil.catalog.layouts import ALL_BANDS
from baresoil.simulate import load_truth

pytestmark = pytest.mark.slow

TABLES = ("observations", "events", "bare_periods", "parcel_daily", "weather", "samples")
STACKS = ("landcover", "bare", "sky", "green", "soil_cover")


def _scene_arrays(sim):
    for folder in sorted(sim.scenes_dir.iterdir()):
        for band in ALL_BANDS:
            with rasterio.open(folder / f"{band}.tif") as src:
                yield f"{folder.name}/{band}", src.read(1)


def test_same_seed_gives_identical_truth(tiny_sim, tiny_sim_again):
    a, b = load_truth(tiny_sim.root), load_truth(tiny_sim_again.root)
    for name in STACKS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for prop in a.soil:
        np.testing.assert_array_equal(a.soil[prop], b.soil[prop], err_msg=prop)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    pd.testing.assert_frame_equal(a.parcels, b.parcels)
    assert a.world == b.world


def test_same_seed_gives_identical_scenes_and_inputs(tiny_sim, tiny_sim_again):
    first = dict(_scene_arrays(tiny_sim))
    second = dict(_scene_arrays(tiny_sim_again))
    assert first.keys() == second.keys()
    for key, values in first.items():
        np.testing.assert_array_equal(values, second[key], err_msg=key)
    for name in ("soil_samples.csv",):
        assert (tiny_sim.inputs_dir / name).read_bytes() == (tiny_sim_again.inputs_dir / name).read_bytes()
    for name in ("worldcover.tif", "dem.tif"):
        with (
            rasterio.open(tiny_sim.inputs_dir / name) as x,
            rasterio.open(tiny_sim_again.inputs_dir / name) as y,
        ):
            np.testing.assert_array_equal(x.read(), y.read())


def test_catalogs_are_identical_for_the_same_seed(tiny_sim, tiny_sim_again):
    for name, path in tiny_sim.catalogs.items():
        files = sorted(p.relative_to(path.parent) for p in path.parent.rglob("*.json"))
        other = tiny_sim_again.catalogs[name].parent
        assert files == sorted(p.relative_to(other) for p in other.rglob("*.json"))
        for rel in files:
            assert (path.parent / rel).read_text() == (other / rel).read_text(), rel


def test_another_seed_gives_another_world(tiny_sim, tiny_sim_other_seed):
    a, c = load_truth(tiny_sim.root), load_truth(tiny_sim_other_seed.root)
    assert a.dates == c.dates  # same schedule
    assert not np.array_equal(a.landcover, c.landcover)
    assert not np.array_equal(a.sky, c.sky)
    assert not np.array_equal(a.soil["soc"], c.soil["soc"], equal_nan=True)
    assert not a.events.equals(c.events)
