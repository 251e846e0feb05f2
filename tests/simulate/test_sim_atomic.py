"""An interrupted simulation never looks complete; a new one replaces an old one."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

import baresoil.simulate.simulation as sim_module  # the run looks its stages up there
from baresoil.simulate import WorldSpec, is_simulation_of, load_truth, simulate

pytestmark = pytest.mark.slow

SMALL = WorldSpec(size_m=400, start=date(2022, 2, 1), end=date(2022, 2, 20))


def test_interrupted_run_leaves_no_catalog_and_no_partial_files(tmp_path, monkeypatch):
    real = sim_module.observe
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sim_module, "observe", failing)
    with pytest.raises(KeyboardInterrupt):
        simulate(tmp_path, SMALL)
    assert not list(tmp_path.rglob("catalog.json"))
    assert not (tmp_path / "truth" / "world.json").exists()
    assert not list(tmp_path.rglob("*.tmp"))

    monkeypatch.setattr(sim_module, "observe", real)
    result = simulate(tmp_path, SMALL)
    assert all(path.exists() for path in result.catalogs.values())
    assert load_truth(tmp_path).dates[0] == SMALL.start


def test_a_finished_simulation_is_recognised_by_its_spec_and_recipe(tmp_path):
    assert not is_simulation_of(tmp_path, SMALL)
    simulate(tmp_path, SMALL)
    assert is_simulation_of(tmp_path, SMALL)
    assert not is_simulation_of(tmp_path, dataclasses.replace(SMALL, seed=7))
    world_json = tmp_path / "truth" / "world.json"
    stored = json.loads(world_json.read_text())
    world_json.write_text(json.dumps({**stored, "recipe": stored["recipe"] - 1}))
    assert not is_simulation_of(tmp_path, SMALL), "a world made by an older recipe is not reused"


def test_a_new_simulation_replaces_the_old_one(tmp_path):
    simulate(tmp_path, SMALL)
    later = WorldSpec(size_m=400, start=date(2022, 3, 1), end=date(2022, 3, 10))
    result = simulate(tmp_path, later)
    scenes = {p.name for p in result.scenes_dir.iterdir()}
    assert all("202203" in name for name in scenes), "scenes of the old simulation are gone"
    assert load_truth(tmp_path).spec == later
    assert result.spec == later and result.seconds > 0
    with pytest.raises(KeyError, match="no catalog"):
        result.catalog("usgs")


def test_an_unrelated_folder_is_left_alone(tmp_path):
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "keep.txt").write_text("mine")
    simulate(tmp_path, SMALL)
    assert (tmp_path / "scenes" / "keep.txt").read_text() == "mine"
