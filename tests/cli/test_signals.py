"""SIGINT (Ctrl-C) and SIGTERM end a run with status 130 / 143 and one line saying what was kept."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rasterio

from baresoil.cli.main import main

BARESOIL = [sys.executable, "-c", "from baresoil.cli.main import main; main()"]


def _interrupt_simulate(out: Path, signum: int) -> tuple[int, str]:
    """Start ``baresoil simulate``, send ``signum`` once it writes scenes, return (status, stderr)."""
    process = subprocess.Popen(
        [*BARESOIL, "simulate", "--out", str(out), "--size", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not any((out / "scenes").glob("*/*.tif")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"simulate ended or stalled before writing scenes: {process.communicate()}")
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=180)
    return process.returncode, err


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_run_with_its_status_and_says_what_was_kept(tmp_path, signum, status):
    out = tmp_path / "sim"
    code, err = _interrupt_simulate(out, signum)
    assert code == status, err
    assert err.strip() == (
        f"interrupted by {signal.Signals(signum).name}: complete files are kept, partial files removed; "
        "the catalogs, written last, are missing"
    )
    # what the line says: finished scenes are whole COGs, no temporary file is left, no catalog
    scenes = sorted((out / "scenes").glob("*/*.tif"))
    assert scenes
    for path in scenes:
        with rasterio.open(path) as src:
            src.read(1, out_shape=(1, 1))
    assert [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".partial" in p.name] == []
    assert list(out.rglob("catalog.json")) == []


def test_the_signal_handlers_are_restored_after_a_run(capsys):
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    main(["--version"])
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_main_runs_outside_the_main_thread(capsys):
    """Signals can only be handled in the main thread: elsewhere they are left alone."""
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            main(["--version"])
        except (ValueError, SystemExit) as exc:  # signal.signal outside the main thread: ValueError
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert errors == []
    assert capsys.readouterr().out.startswith("baresoil ")


def test_a_signal_in_a_tile_command_points_to_resume(capsys, monkeypatch, tmp_path):
    """In-process: the signal arrives while a product runs; its line names --resume."""
    import os

    from baresoil.pipeline import run  # the command imports run_product when it runs

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("not interrupted")

    monkeypatch.setattr(run, "run_product", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        main(["cube", "--stac", "c.json", "--tile", "E44N27", "--start", "2021-01-01", "--end", "2021-12-31",
              "--out", str(tmp_path)])  # fmt: skip
    assert exit_info.value.code == 143
    assert capsys.readouterr().err.strip() == (
        "interrupted by SIGTERM: finished tiles and the blocks of the tiles in progress are kept, partial "
        "files removed; a rerun with --resume continues from them (see OUT/<product>/manifest.jsonl)"
    )
