"""The official openeo client against ``baresoil serve`` on loopback: batch and synchronous results equal
the command line's on the same catalog, area and period."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import openeo
import pytest
import requests

from baresoil.io.cog import read_layer

from tests.support.api_server import USERS, bbox
from tests.support.cli_runner import run_cli

BANDS = ["B04", "B08"]


@pytest.fixture(scope="module")
def alice(api):
    return openeo.connect(api.url).authenticate_basic("alice", USERS["alice"])


def _cli_files(capsys, out: Path, *args: str) -> dict[str, Path]:
    box = bbox()
    code, _, stderr = run_cli(
        capsys, *args, "--bbox", *(f"{box[k]!r}" for k in ("west", "south", "east", "north")), "--out", out
    )
    assert code == 0, stderr
    return {p.name: p for p in out.rglob("*.tif")}


def _same_rasters(got: dict[str, Path], want: dict[str, Path]) -> None:
    assert sorted(got) == sorted(want)
    for name, path in want.items():
        expected, _ = read_layer(path)
        values, _ = read_layer(got[name])
        np.testing.assert_array_equal(values, expected, err_msg=name)


def _monthly_median(connection):
    cube = connection.load_collection(
        "S2", spatial_extent=bbox(), temporal_extent=["2021-06-01", "2021-08-01"], bands=BANDS
    )
    return cube.aggregate_temporal_period("month", reducer="median").save_result(format="GTiff")


def test_capabilities_collections_and_processes_as_the_client_reads_them(alice):
    assert alice.capabilities().api_version() == "1.2.0"
    assert "S2" in alice.list_collection_ids()
    assert alice.describe_collection("S2")["cube:dimensions"]["bands"]["values"][3] == "B05"
    processes = {p["id"]: p for p in alice.list_processes()}
    assert {
        "load_collection",
        "aggregate_temporal_period",
        "reduce_dimension",
        "save_result",
        "baresoil_soilsuite",
        "baresoil_seasons",
        "baresoil_parcels",
        "baresoil_composite",
        "baresoil_soil",
    } <= set(processes)
    # parameters come from the config: the soilsuite rule's choices and the composite's statistics
    rule = next(p for p in processes["baresoil_soilsuite"]["parameters"] if p["name"] == "rule")
    assert rule["schema"]["enum"] == ["pvir2", "geos3", "sen4cap"] and rule["default"] == "pvir2"
    stat = next(p for p in processes["baresoil_composite"]["parameters"] if p["name"] == "stat")
    assert stat["schema"]["enum"] == ["median", "mean", "geomedian"]
    assert "`MASK`" in processes["baresoil_soilsuite"]["returns"]["description"]


def test_batch_composite_equals_the_cli_and_identical_requests_reuse_it(alice, api, tmp_path, capsys):
    job = _monthly_median(alice).execute_batch(max_poll_interval=0.5)
    assert job.status() == "finished"
    got = job.get_results().download_files(tmp_path / "job")
    want = _cli_files(
        capsys,
        tmp_path / "cli",
        "composite",
        "--stac",
        api.catalogs["S2"],
        "--start",
        "2021-06-01",
        "--end",
        "2021-07-31",
        "--every",
        "month",
        "--stat",
        "median",
        "--bands",
        ",".join(BANDS),
    )
    assert sorted(want) == [
        "composite_E44N27_2021-06_R20m_B04.tif",
        "composite_E44N27_2021-06_R20m_B08.tif",
        "composite_E44N27_2021-06_R20m_NVALID.tif",
        "composite_E44N27_2021-07_R20m_B04.tif",
        "composite_E44N27_2021-07_R20m_B08.tif",
        "composite_E44N27_2021-07_R20m_NVALID.tif",
    ]
    _same_rasters({p.name: p for p in got if p.suffix == ".tif"}, want)
    # the same request again (other node names do not matter): finished at once, from the same files
    again = _monthly_median(alice).create_job()
    again.start()
    assert again.status() in ("queued", "finished")
    again.start_and_wait(max_poll_interval=0.2)
    logs = [entry.message for entry in again.logs()]
    assert any("reused" in m for m in logs), logs


def test_synchronous_result_is_a_zip_of_the_cli_files(alice, api, tmp_path, capsys):
    target = tmp_path / "result.zip"
    _monthly_median(alice).download(target)
    with zipfile.ZipFile(target) as zf:
        zf.extractall(tmp_path / "sync")
    got = {p.name: p for p in (tmp_path / "sync").rglob("*.tif")}
    want = _cli_files(
        capsys,
        tmp_path / "cli",
        "composite",
        "--stac",
        api.catalogs["S2"],
        "--start",
        "2021-06-01",
        "--end",
        "2021-07-31",
        "--bands",
        ",".join(BANDS),
    )
    _same_rasters(got, want)


def test_reduce_dimension_over_time_is_one_composite_of_the_period(alice, tmp_path):
    cube = alice.load_collection(
        "S2", spatial_extent=bbox(), temporal_extent=["2021-06-01", "2021-07-01"], bands=["B04"]
    )
    job = cube.reduce_dimension("t", reducer="mean").save_result("GTiff").execute_batch(max_poll_interval=0.5)
    names = sorted(p.name for p in job.get_results().download_files(tmp_path) if p.suffix == ".tif")
    assert names == ["composite_E44N27_2021_R20m_B04.tif", "composite_E44N27_2021_R20m_NVALID.tif"]
    counts, _ = read_layer(tmp_path / names[1])
    assert (
        set(np.unique(counts[np.isfinite(counts)])) <= {1, 2} and np.nanmax(counts) == 2
    )  # June's two scenes


def test_batch_soilsuite_equals_the_cli(alice, api, tmp_path, capsys):
    cube = alice.load_collection(
        "S2_SOIL", spatial_extent=bbox(), temporal_extent=["2021-01-01", "2022-01-01"]
    )
    product = alice.datacube_from_process("baresoil_soilsuite", data=cube, threshold=0.2)
    job = product.save_result(format="GTiff").execute_batch(max_poll_interval=0.5)
    got = {p.name: p for p in job.get_results().download_files(tmp_path / "job") if p.suffix == ".tif"}
    want = _cli_files(
        capsys,
        tmp_path / "cli",
        "soilsuite",
        "--stac",
        api.catalogs["S2_SOIL"],
        "--start",
        "2021-01-01",
        "--end",
        "2021-12-31",
        "--threshold",
        "0.2",
    )
    assert "soilsuite_E44N27_2021_R20m_MASK.tif" in want
    _same_rasters(got, want)
    mask, _ = read_layer(got["soilsuite_E44N27_2021_R20m_MASK.tif"])
    assert {1, 2} <= set(np.unique(mask[np.isfinite(mask)]))  # bare west, vegetated east


def test_results_download_honours_http_ranges(alice, api):
    job = _monthly_median(alice).execute_batch(max_poll_interval=0.5)
    asset = job.get_results().get_assets()[0]
    headers = {"Authorization": f"Bearer basic//{alice.auth.bearer.split('//', 1)[1]}"}
    whole = requests.get(asset.href, headers=headers, timeout=10)
    part = requests.get(asset.href, headers={**headers, "Range": "bytes=4-11"}, timeout=10)
    assert whole.status_code == 200 and part.status_code == 206
    assert part.content == whole.content[4:12] and whole.headers["accept-ranges"] == "bytes"


def test_the_readme_client_example_runs_against_a_server(api, tmp_path, monkeypatch):
    """The README's five lines, with the test server's address, a user, the test catalog's area and
    months put in (the README's are the simulated world's)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", readme, re.DOTALL | re.MULTILINE)
    (example,) = [block for block in blocks if "openeo.connect" in block]
    example = example.replace("http://127.0.0.1:8000", api.url).replace(
        '"alice", "secret"', '"alice", "alice-secret"'
    )
    example = re.sub(r"spatial_extent=\{[^}]*\}", f"spatial_extent={bbox()!r}", example)
    example = example.replace('["2021-05-01", "2021-07-01"]', '["2021-06-01", "2021-08-01"]')
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    names = sorted(p.name for p in (tmp_path / "composites").glob("*.tif"))
    assert names[0] == "composite_E44N27_2021-06_R20m_B04.tif" and len(names) == 6
