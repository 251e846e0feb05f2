"""The run manifest and the output lock, on their own."""

import json
import os
import subprocess
import sys
import threading

import pytest

from baresoil.errors import OutputError
from baresoil.pipeline.lock import OutputLock, read_owner
from baresoil.pipeline.manifest import (
    Manifest,
    file_problems,
    read_manifest,
    request_differences,
)

REQUEST = {"family": "observations", "period": "2021-05-01/2021-07-01", "config": {"cube": {"res": 20}}}


def _a_run(path, run="r1", resume=False, request=REQUEST):
    manifest, state = Manifest.begin(path, run, request, resume=resume)
    manifest.plan([("E44N27", 3), ("E45N27", 2)])
    manifest.tile("E44N27", ["obs_E44N27"], 4)
    manifest.block("E44N27", "0_0", {"NOBS.tif/0_0.npy.z": (10, "ab")}, 0.5)
    return manifest, state


def test_events_fold_into_the_state_of_tiles_blocks_and_runs(tmp_path):
    path = tmp_path / "observations" / "manifest.jsonl"
    manifest, _ = _a_run(path)
    manifest.skipped("E44N27", "item1", "B11", "http://h/B11.tif?sig=TOKEN", "HTTP response code: 404")
    manifest.output("E44N27", {"obs_E44N27/obs.json": (99, "cd")})
    manifest.end("finished", retries={"gdal": 3})
    state = read_manifest(path)
    assert state.request == REQUEST
    assert state.state == "finished"
    assert state.tiles["E44N27"].state == "done" and state.tiles["E45N27"].state == "planned"
    assert state.tiles["E44N27"].outputs == {"obs_E44N27/obs.json": (99, "cd")}
    assert state.blocks == (4, 4)
    href, reason = "http://h/B11.tif?sig=<redacted>", "HTTP response code: 404"
    assert state.skipped == [
        {"tile": "E44N27", "item": "item1", "band": "B11", "href": href, "reason": reason}
    ]
    assert "TOKEN" not in path.read_text()
    assert all(json.loads(line)["v"] == 1 for line in path.read_text().splitlines())


def test_a_line_cut_by_kill_is_ignored_and_dropped_before_the_next_append(tmp_path):
    path = tmp_path / "manifest.jsonl"
    _a_run(path)
    with open(path, "a") as file:
        file.write('{"v":1,"event":"block","tile":"E44N27","blo')  # kill -9 in the middle of a write
    state = read_manifest(path)
    assert state.state == "running"  # killed: no end
    assert list(state.tiles["E44N27"].blocks) == ["0_0"]
    manifest, resumed = Manifest.begin(path, "r2", REQUEST, resume=True)
    manifest.block("E44N27", "0_32", {}, 0.1)
    state = read_manifest(path)
    assert [run.run for run in state.runs] == ["r1", "r2"]
    assert set(state.tiles["E44N27"].blocks) == {"0_0", "0_32"}
    assert list(resumed.tiles["E44N27"].blocks) == ["0_0"]


def test_resume_refuses_another_request_and_says_what_differs(tmp_path):
    path = tmp_path / "out" / "observations" / "manifest.jsonl"
    _a_run(path)
    other = {**REQUEST, "period": "2021-05-01/2021-08-01", "config": {"cube": {"res": 10}}}
    with pytest.raises(OutputError) as info:
        Manifest.begin(path, "r2", other, resume=True)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'out'} holds a different request: ")
    assert "period 2021-05-01/2021-07-01 → 2021-05-01/2021-08-01" in message
    assert "config.cube.res 20 → 10" in message
    assert message.endswith("; use a new --out or --overwrite")
    Manifest.begin(path, "r3", other, resume=False)  # a new run starts a new manifest
    assert read_manifest(path).request == other


def test_request_differences_are_limited():
    before = {f"k{i}": i for i in range(10)}
    after = {f"k{i}": i + 1 for i in range(10)}
    assert request_differences(before, after, limit=2) == "k0 0 → 1, k1 1 → 2 and 8 more"


def test_file_problems_name_missing_truncated_and_changed_files(tmp_path):
    from baresoil.io.atomic import file_digest

    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(b"0123456789")
    recorded = {name: file_digest(tmp_path / name) for name in ("a", "b", "c")}
    (tmp_path / "a").unlink()
    (tmp_path / "b").write_bytes(b"01234")
    (tmp_path / "c").write_bytes(b"0123456780")
    assert file_problems(tmp_path, recorded) == [
        "a is missing",
        "b has 5 bytes, not 10",
        "c has changed (checksum)",
    ]


def test_a_second_run_is_refused_while_the_first_holds_the_folder(tmp_path):
    with (
        OutputLock(tmp_path, "first"),
        pytest.raises(OutputError, match=r"is in use by another baresoil run \(pid \d+ on .+, since .+\)"),
    ):
        OutputLock(tmp_path, "second").acquire()
    with OutputLock(tmp_path, "third") as lock:  # released: free again
        assert read_owner(lock.path).run == "third"
    assert not lock.path.exists()


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, caplog):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with OutputLock(tmp_path, "killed") as lock:
        owner = json.loads(lock.path.read_text())
        stale = {**owner, "pid": int(dead.stdout)}
    lock.path.write_text(json.dumps(stale))  # as a run killed with -9 leaves it
    with OutputLock(tmp_path, "next") as taker:
        assert read_owner(taker.path).run == "next"
    assert "taking over the lock of a run that ended without releasing it" in caplog.text
    assert f"pid {int(dead.stdout)}" in caplog.text


def test_a_reused_pid_is_not_the_owner(tmp_path):
    """The pid of a dead run may belong to another process by now: the process's start time tells."""
    with OutputLock(tmp_path, "old") as lock:
        owner = json.loads(lock.path.read_text())
    lock.path.write_text(json.dumps({**owner, "process_started": owner["process_started"] - 3600}))
    with OutputLock(tmp_path, "new"):
        pass


def test_of_two_threads_taking_a_stale_lock_one_wins(tmp_path):
    with OutputLock(tmp_path, "killed") as lock:
        owner = json.loads(lock.path.read_text())
    lock.path.write_text(json.dumps({**owner, "pid": 2**22 + 17}))  # no such process
    results: list[str] = []
    barrier = threading.Barrier(2)

    def take(run: str) -> None:
        barrier.wait()
        try:
            OutputLock(tmp_path, run).acquire()
            results.append("held")
        except OutputError:
            results.append("refused")

    threads = [threading.Thread(target=take, args=(f"t{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["held", "refused"]
    assert read_owner(lock.path).pid == os.getpid()
