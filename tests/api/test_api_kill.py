"""A server killed with SIGKILL while a job runs: at the next start the job is resumed and finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from baresoil.api.users import add_user

from tests.support.api_server import USERS, bbox, free_port


def _serve(workdir: Path, catalog: Path, port: int) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-c",
        "from baresoil.cli.main import main; main()",
        "serve",
        "--port",
        str(port),
        "--workdir",
        str(workdir),
        "--collection",
        f"S2_SOIL={catalog}",
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


@pytest.mark.slow
def test_a_job_running_at_a_kill_9_is_resumed_at_the_next_start(tmp_path, catalogs):
    add_user(tmp_path, "alice", USERS["alice"])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(tmp_path, catalogs["S2_SOIL"], port)
    try:
        _up(url, server)
        token = requests.get(f"{url}/credentials/basic", auth=("alice", USERS["alice"]), timeout=10).json()
        headers = {"Authorization": f"Bearer basic//{token['access_token']}"}
        graph = {
            "load": {
                "process_id": "load_collection",
                "arguments": {
                    "id": "S2_SOIL",
                    "spatial_extent": bbox(),
                    "temporal_extent": ["2021-01-01", "2022-01-01"],
                },
            },
            "soil": {"process_id": "baresoil_soilsuite", "arguments": {"data": {"from_node": "load"}}},
            "save": {
                "process_id": "save_result",
                "arguments": {"data": {"from_node": "soil"}, "format": "GTiff"},
                "result": True,
            },
        }
        created = requests.post(
            f"{url}/jobs", json={"process": {"process_graph": graph}}, headers=headers, timeout=10
        )
        job_id = created.headers["OpenEO-Identifier"]
        requests.post(f"{url}/jobs/{job_id}/results", headers=headers, timeout=10)
        deadline = time.monotonic() + 60
        while requests.get(f"{url}/jobs/{job_id}", headers=headers, timeout=10).json()["status"] != "running":
            assert time.monotonic() < deadline, "the job never ran"
            time.sleep(0.02)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        server = _serve(tmp_path, catalogs["S2_SOIL"], port)
        _up(url, server)
        deadline = time.monotonic() + 120
        while (job := requests.get(f"{url}/jobs/{job_id}", headers=headers, timeout=10).json())[
            "status"
        ] != "finished":
            assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(0.2)
        logs = requests.get(f"{url}/jobs/{job_id}/logs", headers=headers, timeout=10).json()["logs"]
        assert any("resumed" in entry["message"] for entry in logs), logs
        assets = requests.get(f"{url}/jobs/{job_id}/results", headers=headers, timeout=10).json()["assets"]
        assert "soilsuite_E44N27_2021_R20m_MASK.tif" in assets
    finally:
        server.terminate()
        server.wait(timeout=30)
