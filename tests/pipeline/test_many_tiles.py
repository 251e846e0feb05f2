"""One run over several EEA tiles: every tile in the manifest, resumable per tile, and on a LocalCluster
that loses a worker mid-run the same files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from baresoil.catalog.layouts import EARTH_SEARCH
from baresoil.cli.main import main
from baresoil.config import Config
from baresoil.grid import area_from_bbox
from baresoil.io.stac import output_item_paths
from baresoil.pipeline.estimate import PIXEL_OBSERVATIONS_PER_CORE_S
from baresoil.pipeline.manifest import manifest_path, read_manifest

from tests.support import stac_factory
from tests.support.cli_runner import run_cli
from tests.support.stac_factory import lonlat_bbox, make_item, write_catalog, write_scene

ACROSS_E44_E45 = (752_800.0, 5_334_300.0)
"""A scene's upper-left corner (UTM 32N) such that its 1 km cross the edge of EEA tiles E44N27 and E45N27."""
TILES = ["E44N27", "E45N27"]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("two-tiles")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stac_factory, "ORIGIN", ACROSS_E44_E45)
        cloudy = np.full((50, 50), 4)
        cloudy[10:20, 5:45] = 9
        items = [
            make_item(EARTH_SEARCH, f"S2A_{i}", datetime(2021, 6, 1 + 5 * i, 10),
                      write_scene(root / f"s{i}", offset_dn=0, scl=scl), "03.01")
            for i, scl in enumerate((None, cloudy, None))
        ]  # fmt: skip
        bbox = [f"{v:.6f}" for v in lonlat_bbox(50)]
    assert [t.code for t, _ in area_from_bbox(*map(float, bbox)).split_by_tile()] == TILES
    (root / "blocks.toml").write_text("[cube]\nchunk_size = 16\n")
    return write_catalog(root / "stac", items), bbox


def _args(catalog: tuple[Path, list[str]], out: Path, *extra: str) -> list[str]:
    path, bbox = catalog
    return ["cube", "--stac", str(path), "--bbox", *bbox, "--start", "2021-05-01", "--end", "2021-07-01",
            "--out", str(out), "--config", str(path.parent.parent / "blocks.toml"), *extra]  # fmt: skip


def _cogs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tif"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, catalog) -> Path:
    out = tmp_path_factory.mktemp("two-tiles-reference")
    main(_args(catalog, out))
    return out


def test_one_run_writes_every_tile_and_resumes_per_tile(capsys, caplog, tmp_path, catalog, reference):
    items = sorted(p.parent.name for p in output_item_paths(reference))
    assert items == [f"observations_{tile}_2021_R20m" for tile in TILES]
    state = read_manifest(manifest_path(reference, "observations"))
    assert state is not None and state.state == "finished"
    assert {code: tile.state for code, tile in state.tiles.items()} == dict.fromkeys(TILES, "done")
    done, total = state.blocks
    assert done == total > 2 * len(TILES)  # blocks of both tiles, all done
    # resume per tile: a tile whose COG was deleted is computed again, the other is skipped unread
    out = tmp_path / "out"
    run_cli(capsys, *_args(catalog, out))
    (cog,) = (out / f"observations_{TILES[1]}_2021_R20m").glob("*_NCLEAR.tif")
    cog.unlink()
    with caplog.at_level("INFO", logger="baresoil"):
        code, _, err = run_cli(capsys, *_args(catalog, out, "--resume"))
    assert code == 0, err
    assert f"tile {TILES[0]}: outputs complete and verified, skipped" in caplog.text
    assert f"tile {TILES[1]}: " in caplog.text and "computing the tile again" in caplog.text
    assert _cogs(out) == _cogs(reference)


@pytest.mark.slow
def test_a_cluster_that_loses_a_worker_mid_run_writes_the_same_files(capsys, tmp_path, catalog, reference):
    """Blocks of every tile are tasks on the cluster's workers, which write them; a worker killed with
    SIGKILL while the run stages blocks is replaced (its nanny), its tasks are done again elsewhere."""
    from distributed import Client, LocalCluster

    out = tmp_path / "out"
    record = manifest_path(out, "observations")
    killed: list[int] = []

    def kill_a_worker_once_blocks_are_staged(address: str) -> None:
        with Client(address, timeout=30) as client:
            pids = client.run(os.getpid)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                events = record.read_text().splitlines() if record.exists() else []
                blocks = sum(
                    json.loads(line).get("event") == "block" for line in events if line.endswith("}")
                )
                if blocks:
                    os.kill(next(iter(pids.values())), signal.SIGKILL)
                    killed.append(blocks)
                    return
                time.sleep(0.01)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        killer = threading.Thread(
            target=kill_a_worker_once_blocks_are_staged, args=(cluster.scheduler_address,)
        )
        killer.start()
        code, _, err = run_cli(capsys, *_args(catalog, out, "--scheduler", cluster.scheduler_address))
        killer.join()
    assert code == 0, err
    state = read_manifest(record)
    assert state is not None
    assert killed and killed[0] < state.blocks[1], "the worker was killed after the last block"
    assert state.state == "finished" and state.blocks[0] == state.blocks[1]
    assert _cogs(out) == _cogs(reference)


def test_plan_shows_the_tiles_scenes_pixel_observations_time_and_volume(capsys, catalog):
    path, bbox = catalog
    args = ["plan", "--stac", str(path), "--bbox", *bbox, "--start", "2021-05-01", "--end", "2021-07-01"]
    code, out, err = run_cli(capsys, *args, "--product", "cube", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["family"] == "observations"
    tiles = {t["tile"]: t for t in result["tiles"]}
    assert list(tiles) == TILES
    for tile in tiles.values():
        assert tile["scenes"] == 3
        assert tile["pixel_observations"] == 3 * tile["pixels"] > 0
        assert tile["megabytes"] == round(tile["pixels"] * 3 * 2 / 1e6, 1)  # NOBS, NCLEAR, NSNOW: uint16
        rate = PIXEL_OBSERVATIONS_PER_CORE_S["observations"] * result["cores"]
        assert tile["seconds"] == pytest.approx(tile["pixel_observations"] / rate, abs=1e-3)
    assert result["total"]["scenes"] == 3  # the same scenes over both tiles
    assert result["total"]["pixel_observations"] == sum(t["pixel_observations"] for t in tiles.values())
    code, out, _ = run_cli(capsys, *args)
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].split() == ["tile", "scenes", "pixels", "pixel-obs", "time", "output"]
    assert [line.split()[0] for line in lines[1:3]] == TILES and lines[4].startswith("total")
    assert "soilsuite on" in lines[-1]
    # the same run given as a list of tile codes: the tiles are clipped to the scenes' footprint
    tile_args = ["plan", "--stac", str(path), "--tile", ",".join(TILES), "--start", "2021-05-01",
                 "--end", "2021-07-01", "--product", "cube", "--json"]  # fmt: skip
    code, out, err = run_cli(capsys, *tile_args)
    assert code == 0, err
    assert [t["tile"] for t in json.loads(out)["tiles"]] == TILES
    code, _, err = run_cli(capsys, *args, "--product", "parcels")
    assert code == 1 and "--product 'parcels': expected one of cube, soilsuite, seasons" in err


def _with_config(catalog: tuple[Path, list[str]], name: str, text: str) -> Path:
    """A config file beside the catalog: the tests' blocks, and ``text``."""
    path = catalog[0].parent.parent / name
    path.write_text("[cube]\nchunk_size = 16\n" + text)
    return path


def _outputs(out: Path) -> dict[str, bytes]:
    """Every file a run leaves for its users: COGs, sidecars, items, collection and catalog, JSON with
    the time it was written (``created``) left out (the manifest holds times, the work folder is the
    run's own)."""
    files = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name == "manifest.jsonl" or ".baresoil" in path.parts:
            continue
        content = path.read_bytes()
        if path.suffix == ".json":
            content = re.sub(rb'"created": "[^"]*"', b'"created": ""', content)
        files[str(path.relative_to(out))] = content
    return files


def test_tiles_run_one_at_a_time_or_together_write_the_same_files(capsys, tmp_path, catalog, reference):
    """``run.tiles_in_flight`` says how a run is scheduled, not what it computes: the default (two tiles
    at once, as the reference ran) and one at a time leave the same bytes, item JSON and catalog included."""
    assert Config().run.tiles_in_flight == 2  # the reference ran both tiles at once
    one = _with_config(catalog, "one-at-a-time.toml", "[run]\ntiles_in_flight = 1\n")
    out = tmp_path / "sequential"
    code, _, err = run_cli(capsys, *_args(catalog, out, "--config", str(one)))
    assert code == 0, err
    assert _outputs(out) == _outputs(reference)
    assert len(_outputs(out)) > 2 * len(TILES)
    state = read_manifest(manifest_path(out, "observations"))
    assert state is not None and "run" not in state.request["config"]  # a run may resume with another


def test_a_failing_tile_among_concurrent_ones_is_named_and_the_others_complete(
    capsys, monkeypatch, tmp_path, catalog, reference
):
    """One tile's read fails for good (``--strict``): the other, in flight beside it, completes and is
    listed in the catalog; the error names the failing tile, the run exits 1, and ``--resume`` computes
    only that tile."""
    from baresoil.errors import AssetError
    from baresoil.pipeline import run as pipeline_run

    load_cube = pipeline_run.load_cube
    failing = TILES[1]
    started: list[str] = []

    def cube_or_fail(scenes, geobox, *args, **kwargs):
        east = geobox.extent.boundingbox.left >= 4_500_000  # E45 starts at 4,500 km on the EEA grid
        started.append(TILES[east])
        if east:
            raise AssetError("item S2A_1: band B11 cannot be read (file:///B11.tif): truncated")
        return load_cube(scenes, geobox, *args, **kwargs)

    monkeypatch.setattr(pipeline_run, "load_cube", cube_or_fail)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, *_args(catalog, out, "--strict"))
    assert code == 1
    assert f"error: tile {failing}: item S2A_1: band B11 cannot be read" in err
    assert sorted(started) == TILES
    kept = {k: v for k, v in _cogs(reference).items() if TILES[0] in k}
    assert kept and _cogs(out) == kept
    listed = (out / "observations" / "collection.json").read_text()
    assert f"observations_{TILES[0]}_2021_R20m" in listed and failing not in listed
    state = read_manifest(manifest_path(out, "observations"))
    assert state is not None and state.state == "failed" and f"tile {failing}" in state.runs[-1].message
    assert state.tiles[TILES[0]].state == "done" and state.tiles[failing].state == "planned"
    monkeypatch.setattr(pipeline_run, "load_cube", load_cube)
    code, _, err = run_cli(capsys, *_args(catalog, out, "--resume"))
    assert code == 0, err
    assert _cogs(out) == _cogs(reference)  # the items differ: the first run's provenance says --strict
    state = read_manifest(manifest_path(out, "observations"))
    assert state is not None and state.state == "finished"


def _start_and_wait_for_both_tiles(catalog: tuple[Path, list[str]], out: Path) -> Any:
    """A run in a process of its own, once both tiles have staged a block (or it ended, or stalled)."""
    command = [sys.executable, "-c", "from baresoil.cli.main import main; main()", *_args(catalog, out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    record = manifest_path(out, "observations")
    deadline = time.monotonic() + 180
    while process.poll() is None and time.monotonic() < deadline:
        lines = record.read_text().splitlines() if record.exists() else []
        events = [json.loads(line) for line in lines if line.endswith("}")]
        if {e["tile"] for e in events if e["event"] == "block"} == set(TILES):
            break
        time.sleep(0.005)
    return process


@pytest.mark.slow
def test_an_interrupt_stops_every_tile_in_flight(tmp_path, catalog):
    """SIGINT while both tiles stage blocks: the tiles stop at their next batch, the run ends with 130
    and the manifest says ``interrupted``; no item of an unfinished tile, no partial file is left."""
    out = tmp_path / "out"
    process = _start_and_wait_for_both_tiles(catalog, out)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the run ended before it could be interrupted")
    assert process.returncode == 130, err
    assert "interrupted by SIGINT: finished tiles and the blocks of the tiles in progress are kept" in err
    state = read_manifest(manifest_path(out, "observations"))
    assert state is not None and state.state == "interrupted"
    for code, tile in state.tiles.items():
        item = out / f"observations_{code}_2021_R20m" / f"observations_{code}_2021_R20m.json"
        assert item.exists() == (tile.state == "done")
    assert not [p for p in out.rglob("*.partial")]


@pytest.mark.slow
def test_a_run_killed_with_tiles_in_flight_resumes_to_the_same_files(capsys, tmp_path, catalog, reference):
    """kill -9 while both tiles stage blocks at once: neither tile's item exists, the catalog is not
    written, and ``--resume`` redoes only the blocks not staged, ending with the reference's files."""
    out = tmp_path / "out"
    record = manifest_path(out, "observations")
    process = _start_and_wait_for_both_tiles(catalog, out)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("the run ended before it could be killed")
    state = read_manifest(record)
    assert state is not None and state.state == "running"  # killed: no end written
    unfinished = [code for code, tile in state.tiles.items() if tile.state != "done"]
    assert unfinished, "both tiles were done before the kill"
    assert not (out / "catalog.json").exists()  # the catalog is written last, once every tile is done
    for code in unfinished:
        assert not (out / f"observations_{code}_2021_R20m" / f"observations_{code}_2021_R20m.json").exists()
    staged = {code: set(state.tiles[code].blocks) for code in unfinished}
    code, _, err = run_cli(capsys, *_args(catalog, out, "--resume"))
    assert code == 0, err
    after = read_manifest(record)
    assert after is not None and after.state == "finished"
    last = after.runs[-1].run
    for line in record.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "block" and event["run"] == last:
            assert event["block"] not in staged.get(event["tile"], set()), "a staged block computed again"
    assert _outputs(out) == _outputs(reference)
