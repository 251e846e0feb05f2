"""Resume and idempotence: a run keeps a manifest, verifies before it skips, resumes block by block,
holds its output folder alone, and ends on a signal with its record consistent."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from baresoil.catalog.layouts import EARTH_SEARCH
from baresoil.cli.main import main
from baresoil.io.blocks import BlockStage
from baresoil.io.report import write_report
from baresoil.io.stac import output_item_paths
from baresoil.pipeline.lock import LOCK_FILE, WORK_DIR
from baresoil.pipeline.manifest import read_manifest

from tests.support.cli_runner import run_cli
from tests.support.http_catalog import END, SCENE_DAYS, START, item_id, write_scenes
from tests.support.stac_factory import lonlat_bbox, make_item, write_catalog

BARESOIL = [sys.executable, "-c", "from baresoil.cli.main import main; main()"]
BLOCKS = "[cube]\nchunk_size = 16\n"
"""Small chunks: the area's 45 x 45 pixels are 9 blocks (by default, one)."""


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scenes")
    write_scenes(root)
    items = [
        make_item(EARTH_SEARCH, item_id(i), day, {p.stem: p for p in sorted((root / f"s{i}").glob("*.tif"))},
                  "03.01")
        for i, day in enumerate(SCENE_DAYS)
    ]  # fmt: skip
    (root / "blocks.toml").write_text(BLOCKS)
    return write_catalog(root / "stac", items)


def args(catalog: Path, out: Path, *extra: str, end: str = END, blocks: bool = False) -> list[str]:
    bbox = [f"{v:.6f}" for v in lonlat_bbox(50)]
    config = ["--config", str(catalog.parent.parent / "blocks.toml")] if blocks else []
    period = ["--start", START, "--end", end]
    return ["cube", "--stac", str(catalog), "--bbox", *bbox, *period, "--out", str(out), *config, *extra]


@pytest.fixture(scope="module")
def reference(catalog, tmp_path_factory) -> dict[str, bytes]:
    """The COGs of an uninterrupted run (in one block or in nine: the same bytes)."""
    out = tmp_path_factory.mktemp("reference") / "out"
    with contextlib.redirect_stdout(io.StringIO()):
        main(args(catalog, out))
    return cogs(out)


def cogs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tif"))}


def manifest(out: Path):
    return read_manifest(out / "observations" / "manifest.jsonl")


def leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if ".partial" in p.name]


def test_resume_redoes_outputs_that_were_deleted_or_truncated(capsys, caplog, tmp_path, catalog, reference):
    out = tmp_path / "out"
    assert run_cli(capsys, *args(catalog, out))[0] == 0
    (item,) = output_item_paths(out)
    nclear, nsnow = (next(item.parent.glob(f"*_{code}.tif")) for code in ("NCLEAR", "NSNOW"))
    nclear.unlink()
    nsnow.write_bytes(nsnow.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        code, _, err = run_cli(capsys, *args(catalog, out, "--resume"))
    assert code == 0, err
    assert f"{nclear.name} is missing" in caplog.text
    assert f"{nsnow.name} has 100 bytes" in caplog.text
    assert cogs(out) == reference
    assert write_report(out).exists()  # the catalog points at complete files again


def test_resume_skips_verified_tiles_without_reading(capsys, caplog, tmp_path, catalog, reference):
    out = tmp_path / "out"
    run_cli(capsys, *args(catalog, out))
    before = manifest(out)
    with caplog.at_level(logging.INFO):
        assert run_cli(capsys, "-v", *args(catalog, out, "--resume"))[0] == 0
    assert "tile E44N27: outputs complete and verified, skipped" in caplog.text
    after = manifest(out)
    assert [r.state for r in after.runs] == ["finished", "finished"]
    assert after.tiles["E44N27"].outputs == before.tiles["E44N27"].outputs
    assert cogs(out) == reference


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        (["--end", "2021-06-30"], "period 2021-05-01/2021-07-01 → 2021-05-01/2021-06-30"),
        (["--cloud-buffer", "60"], "config.cube.cloud_buffer_m 100.0 → 60.0"),
    ],
)
def test_resume_with_another_request_is_refused(capsys, tmp_path, catalog, change, difference):
    out = tmp_path / "out"
    run_cli(capsys, *args(catalog, out))
    extra, end = (change, END) if change[0] != "--end" else ([], change[1])
    code, _, err = run_cli(capsys, *args(catalog, out, "--resume", *extra, end=end))
    assert code == 1
    assert (
        err.strip() == f"error: {out} holds a different request: {difference}; use a new --out or --overwrite"
    )
    code, _, err = run_cli(capsys, *args(catalog, out, "--overwrite", *extra, end=end))
    assert code == 0, err
    assert len(output_item_paths(out)) == 1
    assert manifest(out).request["period"].endswith(end)


def test_overwrite_removes_the_previous_runs_items(capsys, tmp_path, catalog):
    out = tmp_path / "out"
    run_cli(capsys, *args(catalog, out))
    code, _, err = run_cli(
        capsys, *args(catalog, out, "--overwrite", "--start", "2021-06-02", end="2022-01-31")
    )
    assert code == 0, err
    assert [p.parent.name for p in output_item_paths(out)] == ["observations_E44N27_2021-2022_R20m"]
    assert not (out / "observations_E44N27_2021_R20m").exists()


def test_an_interrupted_run_resumes_block_by_block(capsys, monkeypatch, tmp_path, catalog, reference):
    """Interrupted after its first batch of blocks: the rerun computes only the others, and the files are
    those of an uninterrupted run."""
    out = tmp_path / "out"
    finished = BlockStage.finished

    def interrupted(self, blocks, layer_files, seconds):
        finished(self, blocks, layer_files, seconds)
        raise KeyboardInterrupt

    monkeypatch.setattr(BlockStage, "finished", interrupted)
    monkeypatch.setattr("baresoil.io.cog.parallelism", lambda: 2)  # batches of two blocks
    with pytest.raises(SystemExit):  # typer turns the KeyboardInterrupt into exit status 130
        main(args(catalog, out, blocks=True))
    monkeypatch.undo()
    first = manifest(out)
    done, total = first.blocks
    assert first.state == "interrupted" and (done, total) == (2, 9)
    assert not (out / WORK_DIR / LOCK_FILE).exists() and leftovers(out) == []
    assert run_cli(capsys, *args(catalog, out, "--resume", blocks=True))[0] == 0
    events = [json.loads(line) for line in (out / "observations" / "manifest.jsonl").read_text().splitlines()]
    second_run = events[-1]["run"]
    redone = [e["block"] for e in events if e["event"] == "block" and e["run"] == second_run]
    assert len(redone) == total - done
    assert not set(redone) & set(first.tiles["E44N27"].blocks)
    assert cogs(out) == reference
    assert not (out / WORK_DIR / "observations" / "blocks" / "E44N27").exists()  # staged blocks cleared


def _start(catalog: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    """A run of nine blocks in a process of its own."""
    return subprocess.Popen([*BARESOIL, *args(catalog, out, *extra, blocks=True)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def _wait_for_blocks(process: subprocess.Popen[str], out: Path, count: int = 1) -> None:
    deadline = time.monotonic() + 120
    path = out / "observations" / "manifest.jsonl"
    while not path.exists() or path.read_text().count('"event":"block"') < count:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run ended or stalled before writing a block: {process.communicate()}")
        time.sleep(0.02)


@pytest.mark.slow
def test_a_second_run_is_refused_and_a_killed_run_resumes(capsys, caplog, tmp_path, catalog, reference):
    """Two runs into one --out: the second refuses, naming the first; the first, killed with -9, leaves
    a stale lock, and a rerun with --resume takes it over and ends with the files of an uninterrupted run."""
    out = tmp_path / "out"
    first = _start(catalog, out)
    _wait_for_blocks(first, out)
    code, _, err = run_cli(capsys, *args(catalog, out, blocks=True))
    assert code == 1
    line = err.strip()
    assert line.startswith(f"error: {out} is in use by another baresoil run (pid {first.pid} on ")
    assert line.endswith("wait for it to end or use another --out")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    if first.returncode == 0:  # it finished before the kill: a clean case, nothing left to resume
        pytest.skip("the run ended before it could be killed")
    assert (out / WORK_DIR / LOCK_FILE).exists()  # a stale lock: its owner is dead
    assert manifest(out).state == "running"  # no end written
    with caplog.at_level(logging.WARNING):
        code, _, err = run_cli(capsys, *args(catalog, out, "--resume", blocks=True))
    assert code == 0, err
    assert "taking over the lock of a run that ended without releasing it" in caplog.text
    assert cogs(out) == reference
    assert leftovers(out) == []


@pytest.mark.slow
def test_a_signal_ends_a_tile_run_with_its_record_consistent(capsys, tmp_path, catalog, reference):
    """SIGTERM here; SIGINT takes the same path (tests/cli/test_signals.py; KeyboardInterrupt above)."""
    signum, status = signal.SIGTERM, 143
    out = tmp_path / "out"
    process = _start(catalog, out)
    _wait_for_blocks(process, out)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, err
    assert err.strip().splitlines()[-1] == (
        f"interrupted by {signal.Signals(signum).name}: finished tiles and the blocks of the tiles in "
        "progress are kept, partial files removed; a rerun with --resume continues from them "
        "(see OUT/<product>/manifest.jsonl)"
    )
    record = manifest(out)
    assert record.state == "interrupted" and record.blocks[0] >= 1
    assert not (out / WORK_DIR / LOCK_FILE).exists() and leftovers(out) == []
    assert run_cli(capsys, *args(catalog, out, "--resume", blocks=True))[0] == 0
    assert cogs(out) == reference


def test_temporary_names_are_unique_per_write(tmp_path):
    from baresoil.io.atomic import partial_name

    names = {partial_name(tmp_path / "a.tif") for _ in range(100)}
    assert len(names) == 100
    assert all(str(os.getpid()) in n.name and n.name.endswith(".partial") for n in names)
