"""Jobs survive the server: what a stop (kill -9 included) leaves in the store is resumed or failed with
its reason at the next start, never lost; ``baresoil serve`` starts from the command line."""

from __future__ import annotations

import subprocess
import sys
import time

import requests

from baresoil.api.app import ServerSettings
from baresoil.api.graph import parse_graph
from baresoil.api.store import JobStore, database_url
from baresoil.catalog.source import StacSource

from tests.support.api_server import bbox, free_port, start_server, stop_server


def _process(stat: str) -> dict:
    return {
        "process_graph": {
            "load": {
                "process_id": "load_collection",
                "arguments": {
                    "id": "S2",
                    "spatial_extent": bbox(),
                    "temporal_extent": ["2021-06-01", "2021-07-01"],
                    "bands": ["B8A"],
                },
            },
            "agg": {
                "process_id": "aggregate_temporal_period",
                "arguments": {
                    "data": {"from_node": "load"},
                    "period": "month",
                    "reducer": {
                        "process_graph": {
                            "r": {
                                "process_id": stat,
                                "arguments": {"data": {"from_parameter": "data"}},
                                "result": True,
                            }
                        }
                    },
                },
            },
            "save": {
                "process_id": "save_result",
                "arguments": {"data": {"from_node": "agg"}, "format": "netCDF"},
                "result": True,
            },
        }
    }


def test_jobs_left_running_or_queued_by_a_killed_server_are_resumed_or_failed(tmp_path, catalogs):
    sources = {"S2": StacSource(str(catalogs["S2"]))}
    store = JobStore(database_url(tmp_path, None))
    # what a server killed while running one job (first run), after resuming another (second run), leaves
    for job_id, stat, status, attempts in (
        ("j-once", "median", "running", 1),
        ("j-twice", "mean", "running", 2),
        ("j-waiting", "mean", "queued", 0),
    ):
        process = _process(stat)
        store.create(job_id, "alice", process, parse_graph(process, sources).key())
        store.update(job_id, status=status, attempts=attempts)
    server, thread, _ = start_server(ServerSettings(tmp_path, sources))
    try:
        deadline = time.monotonic() + 60
        while {store.get(j).status for j in ("j-once", "j-waiting")} != {"finished"}:
            assert time.monotonic() < deadline, [store.get(j) for j in ("j-once", "j-waiting")]
            time.sleep(0.2)
    finally:
        stop_server(server, thread)
    failed = store.get("j-twice")
    assert failed.status == "error" and "server stopped while the job ran, 2 times" in (failed.message or "")
    assert any("resumed" in entry["message"] for entry in store.logs("j-once"))
    assert store.get("j-once").attempts == 2
    # the netCDF composite of the resumed job is there, one file for the tile
    out = tmp_path / "results" / store.get("j-once").result_key
    assert [p.name for p in out.rglob("*.nc")] == ["composite_E44N27_2021_month_R20m.nc"]


def test_serve_command_starts_the_api(tmp_path, catalogs):
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from baresoil.cli.main import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workdir",
        str(tmp_path),
        "--collection",
        f"S2={catalogs['S2']}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/collections", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert [c["id"] for c in answer.json()["collections"]] == ["S2"]
        assert (tmp_path / "jobs.sqlite").exists() and (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    finally:
        process.terminate()
        process.wait(timeout=30)
