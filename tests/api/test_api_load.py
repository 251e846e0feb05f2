"""A bounded load test on loopback: 20 clients polling job status while 5 jobs run; no job is lost,
and the 95th percentile of the status latency is printed."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import requests

from tests.support.api_server import USERS, bbox


@pytest.mark.slow
def test_twenty_pollers_and_five_jobs(api):
    token = requests.get(f"{api.url}/credentials/basic", auth=("bob", USERS["bob"]), timeout=10).json()
    headers = {"Authorization": f"Bearer basic//{token['access_token']}"}
    ids = []
    for i in range(5):  # five distinct requests (bands differ), so five computations
        graph = {
            "load": {
                "process_id": "load_collection",
                "arguments": {
                    "id": "S2",
                    "spatial_extent": bbox(),
                    "temporal_extent": ["2021-06-01", "2021-08-01"],
                    "bands": ["B02", "B03", "B05", "B11", "B12"][i : i + 1],
                },
            },
            "agg": {
                "process_id": "aggregate_temporal_period",
                "arguments": {
                    "data": {"from_node": "load"},
                    "period": "dekad",
                    "reducer": {
                        "process_graph": {
                            "m": {
                                "process_id": "mean",
                                "arguments": {"data": {"from_parameter": "data"}},
                                "result": True,
                            }
                        }
                    },
                },
            },
            "save": {
                "process_id": "save_result",
                "arguments": {"data": {"from_node": "agg"}, "format": "GTiff"},
                "result": True,
            },
        }
        created = requests.post(
            f"{api.url}/jobs", json={"process": {"process_graph": graph}}, headers=headers, timeout=10
        )
        ids.append(created.headers["OpenEO-Identifier"])
    for job_id in ids:
        assert (
            requests.post(f"{api.url}/jobs/{job_id}/results", headers=headers, timeout=10).status_code == 202
        )
    latencies: list[float] = []
    statuses: dict[str, str] = {}
    failures: list[str] = []
    stop = threading.Event()

    def poll(client: int) -> None:
        session = requests.Session()
        while not stop.is_set():
            job_id = ids[client % len(ids)]
            start = time.perf_counter()
            answer = session.get(f"{api.url}/jobs/{job_id}", headers=headers, timeout=30)
            latencies.append(time.perf_counter() - start)
            if answer.status_code != 200:
                failures.append(answer.text)
                return
            statuses[job_id] = answer.json()["status"]
            time.sleep(0.05)

    clients = [threading.Thread(target=poll, args=(i,)) for i in range(20)]
    for thread in clients:
        thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        len(statuses) == len(ids) and all(s in ("finished", "error") for s in statuses.values())
    ):
        time.sleep(0.2)
    stop.set()
    for thread in clients:
        thread.join()
    p95 = float(np.percentile(latencies, 95))
    print(f"status polls: {len(latencies)}, p95 latency {p95 * 1000:.0f} ms")
    assert not failures
    assert statuses == dict.fromkeys(ids, "finished")
    listed = {j["id"] for j in requests.get(f"{api.url}/jobs", headers=headers, timeout=10).json()["jobs"]}
    assert set(ids) <= listed
    assert p95 < 2.0
