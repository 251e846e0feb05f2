"""The API's rules: tokens, users' isolation, path confinement, limits and bad graphs, each answered
with openEO's error JSON."""

from __future__ import annotations

import time

import pytest
import requests

from baresoil.api.users import USERS_FILE

from tests.support.api_server import USERS, bbox
from tests.support.cli_runner import run_cli


def _token(url: str, user: str) -> dict[str, str]:
    answer = requests.get(f"{url}/credentials/basic", auth=(user, USERS[user]), timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer basic//{answer.json()['access_token']}"}


def _graph(period=("2021-06-01", "2021-07-01"), box=None, **composite):
    return {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "S2",
                "spatial_extent": box or bbox(),
                "temporal_extent": list(period),
                "bands": ["B04"],
            },
        },
        "comp": {
            "process_id": "baresoil_composite",
            "arguments": {"data": {"from_node": "load"}, **composite},
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "comp"}, "format": "GTiff"},
            "result": True,
        },
    }


def _error(answer: requests.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text[:500]
    body = answer.json()
    assert body["code"] == code and body["message"], body
    return str(body["message"])


def _wait(url: str, headers: dict[str, str], job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = requests.get(f"{url}/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["status"] in ("finished", "error", "canceled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end")


@pytest.fixture(scope="module")
def alices_job(api):
    """A finished job of alice's."""
    headers = _token(api.url, "alice")
    created = requests.post(
        f"{api.url}/jobs",
        json={"process": {"process_graph": _graph(stat="mean")}},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    assert created.headers["Location"].endswith(f"/jobs/{job_id}")
    assert requests.post(f"{api.url}/jobs/{job_id}/results", headers=headers, timeout=10).status_code == 202
    assert _wait(api.url, headers, job_id)["status"] == "finished"
    return job_id


def test_capabilities_are_public_and_the_rest_needs_a_valid_token(api):
    for path in ("/", "/.well-known/openeo", "/conformance", "/file_formats", "/collections", "/processes"):
        assert requests.get(api.url + path, timeout=10).status_code == 200, path
    _error(requests.get(f"{api.url}/jobs", timeout=10), 401, "AuthenticationRequired")
    forged = {"Authorization": "Bearer basic//YWxpY2U6OTk5OTk5OTk5OTpiYWQ"}  # alice:9999999999:bad
    _error(requests.get(f"{api.url}/jobs", headers=forged, timeout=10), 403, "TokenInvalid")
    _error(requests.post(f"{api.url}/result", json={}, timeout=10), 401, "AuthenticationRequired")
    wrong = requests.get(f"{api.url}/credentials/basic", auth=("alice", "bob-secret"), timeout=10)
    _error(wrong, 403, "CredentialsInvalid")
    me = requests.get(f"{api.url}/me", headers=_token(api.url, "alice"), timeout=10)
    assert me.json()["user_id"] == "alice"


def test_a_user_neither_sees_nor_touches_another_users_job(api, alices_job):
    bob = _token(api.url, "bob")
    assert alices_job not in [
        j["id"] for j in requests.get(f"{api.url}/jobs", headers=bob, timeout=10).json()["jobs"]
    ]
    for method, path in (
        ("GET", ""),
        ("GET", "/results"),
        ("GET", "/logs"),
        ("POST", "/results"),
        ("DELETE", "/results"),
        ("DELETE", ""),
    ):
        answer = requests.request(method, f"{api.url}/jobs/{alices_job}{path}", headers=bob, timeout=10)
        _error(answer, 404, "JobNotFound")
    alice = _token(api.url, "alice")
    results = requests.get(f"{api.url}/jobs/{alices_job}/results", headers=alice, timeout=10).json()
    href = next(iter(results["assets"].values()))["href"]
    _error(requests.get(href, headers=bob, timeout=10), 404, "JobNotFound")
    assert requests.get(href, headers=alice, timeout=10).status_code == 200
    assert alices_job in [
        j["id"] for j in requests.get(f"{api.url}/jobs", headers=alice, timeout=10).json()["jobs"]
    ]


@pytest.mark.parametrize(
    "path",
    ["../../users.json", "..%2F..%2Fusers.json", "%2E%2E/%2E%2E/secret.key", "/etc/passwd", ".complete"],
)
def test_downloads_stay_inside_the_jobs_result(api, alices_job, path):
    alice = _token(api.url, "alice")
    assert (api.workdir / USERS_FILE).exists()
    answer = requests.get(f"{api.url}/jobs/{alices_job}/results/assets/{path}", headers=alice, timeout=10)
    assert answer.status_code == 404, answer.text
    assert "scrypt" not in answer.text and answer.json()["code"] in ("AssetNotFound", "NotFound")


def test_status_progress_and_logs_of_a_finished_job(api, alices_job):
    alice = _token(api.url, "alice")
    job = requests.get(f"{api.url}/jobs/{alices_job}", headers=alice, timeout=10).json()
    assert job["status"] == "finished" and job["progress"] == 100.0
    assert job["process"]["process_graph"]["comp"]["arguments"]["stat"] == "mean"
    logs = requests.get(f"{api.url}/jobs/{alices_job}/logs", headers=alice, timeout=10).json()["logs"]
    assert any(entry["message"].startswith("finished") for entry in logs)


def test_requests_over_the_limits_are_refused_before_any_work(api):
    alice = _token(api.url, "alice")
    before = sorted(p.name for p in (api.workdir / "results").iterdir())
    # 10° × 5° for a year: far over 10,000 km² × a year
    huge = {"west": 5.0, "south": 45.0, "east": 15.0, "north": 50.0}
    body = {"process": {"process_graph": _graph(("2021-01-01", "2022-01-01"), huge)}}
    message = _error(
        requests.post(f"{api.url}/jobs", json=body, headers=alice, timeout=10), 400, "ExtentTooLarge"
    )
    assert "km²" in message and "batch job" in message
    # a synchronous request over its own limit (here 100 km²·days): the box is ~0.64 km², for a year
    body = {"process": {"process_graph": _graph(("2021-01-01", "2022-01-01"))}}
    message = _error(
        requests.post(f"{api.url}/result", json=body, headers=alice, timeout=10), 400, "ExtentTooLarge"
    )
    assert "synchronous" in message
    assert sorted(p.name for p in (api.workdir / "results").iterdir()) == before


def _bad_graph(api, graph) -> requests.Response:
    return requests.post(
        f"{api.url}/jobs",
        json={"process": {"process_graph": graph}},
        headers=_token(api.url, "alice"),
        timeout=10,
    )


def test_bad_graphs_are_refused_naming_the_node(api):
    graph = _graph()
    graph["comp"]["process_id"] = "ndvi_magic"
    assert "'comp'" in _error(_bad_graph(api, graph), 400, "ProcessUnsupported")
    graph = _graph()
    graph["save"]["arguments"]["data"] = {"from_node": "nowhere"}
    assert "node 'save'" in _error(_bad_graph(api, graph), 400, "ProcessGraphInvalid")
    graph = _graph(stat="mode")
    message = _error(_bad_graph(api, graph), 400, "ProcessParameterInvalid")
    assert "node 'comp'" in message and "'stat'" in message
    graph = _graph()
    del graph["load"]["arguments"]["temporal_extent"]
    assert "'load'" in _error(_bad_graph(api, graph), 400, "ProcessParameterMissing")
    graph = _graph()
    graph["load"]["arguments"]["id"] = "LANDSAT"
    assert "'LANDSAT'" in _error(_bad_graph(api, graph), 404, "CollectionNotFound")
    graph = _graph()
    graph["save"]["result"] = False
    _error(_bad_graph(api, graph), 400, "ProcessGraphInvalid")
    graph = _graph()
    graph["load"]["arguments"]["spatial_extent"] = {"from_node": "save"}
    assert "cycle" in _error(_bad_graph(api, graph), 400, "ProcessGraphInvalid")
    graph = {
        "load": _graph()["load"],
        "agg": {
            "process_id": "aggregate_temporal_period",
            "arguments": {
                "data": {"from_node": "load"},
                "period": "month",
                "reducer": {
                    "process_graph": {
                        "x": {
                            "process_id": "max",
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
    assert "node 'agg'" in _error(_bad_graph(api, graph), 400, "ProcessParameterInvalid")
    _error(
        requests.post(f"{api.url}/jobs", data="{not json", headers=_token(api.url, "alice"), timeout=10),
        400,
        "BadRequest",
    )


def test_cancel_and_delete(api):
    alice = _token(api.url, "alice")
    body = {"process": {"process_graph": _graph(stat="median", min_valid_obs=2)}}
    job_id = requests.post(f"{api.url}/jobs", json=body, headers=alice, timeout=10).headers[
        "OpenEO-Identifier"
    ]
    assert requests.delete(f"{api.url}/jobs/{job_id}/results", headers=alice, timeout=10).status_code == 204
    assert requests.get(f"{api.url}/jobs/{job_id}", headers=alice, timeout=10).json()["status"] == "canceled"
    _error(requests.get(f"{api.url}/jobs/{job_id}/results", headers=alice, timeout=10), 400, "JobNotFinished")
    assert requests.delete(f"{api.url}/jobs/{job_id}", headers=alice, timeout=10).status_code == 204
    _error(requests.get(f"{api.url}/jobs/{job_id}", headers=alice, timeout=10), 404, "JobNotFound")


def test_users_add_stores_a_hash_and_the_user_can_log_in(tmp_path, capsys, monkeypatch):
    import io

    from baresoil.api.users import Authenticator

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    code, _, err = run_cli(capsys, "users", "add", "--workdir", tmp_path, "carol", "--password-stdin")
    assert code == 0, err
    text = (tmp_path / USERS_FILE).read_text()
    assert "carol" in text and "correct horse" not in text and "scrypt$" in text
    auth = Authenticator(tmp_path)
    token = auth.login("carol", "correct horse")
    assert token is not None and auth.user_of(token) == "carol"
    assert auth.login("carol", "wrong") is None and auth.user_of(token[:-2] + "xx") is None


def test_a_token_in_the_query_opens_only_the_viewers_tiles_legends_and_downloads(api, alices_job):
    token = _token(api.url, "alice")["Authorization"].removeprefix("Bearer ")
    _error(
        requests.get(f"{api.url}/jobs", params={"token": token}, timeout=10), 401, "AuthenticationRequired"
    )
    results = requests.get(
        f"{api.url}/jobs/{alices_job}/results", headers=_token(api.url, "alice"), timeout=10
    )
    name = next(n for n in results.json()["assets"] if n.endswith("_B04.tif"))
    legend = requests.get(
        f"{api.url}/jobs/{alices_job}/results/legend/{name}", params={"token": token}, timeout=10
    )
    assert legend.status_code == 200 and legend.json()["kind"] == "ramp" and legend.json()["max"] < 1
    tile = requests.get(
        f"{api.url}/jobs/{alices_job}/results/tiles/{name}/0/0/0.png", params={"token": token}, timeout=10
    )
    assert tile.status_code == 200 and tile.content[:4] == b"\x89PNG"
    bob = _token(api.url, "bob")["Authorization"].removeprefix("Bearer ")
    answer = requests.get(
        f"{api.url}/jobs/{alices_job}/results/tiles/{name}/0/0/0.png", params={"token": bob}, timeout=10
    )
    _error(answer, 404, "JobNotFound")
