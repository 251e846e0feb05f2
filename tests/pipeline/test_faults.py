"""Runs that survive faults: a STAC catalog and its COGs served over loopback HTTP with faults injected.

Each test is bounded: the fault server refuses requests past its budget, hangs end, and the read
deadlines of the runs are seconds (``read.*`` in a config file).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from baresoil.cli.main import main
from baresoil.io.cog import read_layer
from baresoil.io.stac import output_item_paths
from baresoil.pipeline.manifest import read_manifest

from tests.support.cli_runner import run_cli
from tests.support.fault_server import Faults, FaultServer, serve
from tests.support.http_catalog import cube_args, item_id, write_http_catalog, write_scenes

READS = """
[read]
retries = 3
retry_delay_s = 0.05
timeout_s = 2
deadline_s = {deadline}
"""
TRANSIENT = ("503", "drop", "reset")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scenes")
    write_scenes(root)
    return root


@pytest.fixture(scope="module")
def reference(scenes, tmp_path_factory) -> dict[str, bytes]:
    """The COGs of a run without faults."""
    out = tmp_path_factory.mktemp("reference") / "out"
    with serve(scenes) as server:
        catalog = write_http_catalog(scenes, server.url)
        with contextlib.redirect_stdout(io.StringIO()):
            main(cube_args(catalog, out))
    return cogs(out)


def cogs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tif"))}


def config_file(folder: Path, deadline: float = 6) -> Path:
    path = folder / "reads.toml"
    path.write_text(READS.format(deadline=deadline))
    return path


@contextlib.contextmanager
def served(
    tmp_path: Path, scenes: Path, faults: Faults | None = None, query: str = "", max_requests: int = 1500
) -> Iterator[tuple[str, FaultServer]]:
    """The scenes (a copy the test may damage) and their catalog served with ``faults``."""
    root = tmp_path / "served"
    shutil.copytree(scenes, root)
    with serve(root, faults, max_requests=max_requests, hang_s=20) as server:
        yield write_http_catalog(root, server.url, query=query), server


def nobs(out: Path) -> np.ndarray:
    (item_path,) = output_item_paths(out)
    item = json.loads(item_path.read_text())
    values, _ = read_layer(item_path.parent / item["assets"]["NOBS"]["href"])
    return values


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "unexpected" not in err
    return lines[0]


def test_transient_faults_on_cogs_leave_the_outputs_identical(capsys, tmp_path, scenes, reference):
    """10 % of the COG requests fail once (503, a connection dropped mid-answer, no answer): retried,
    the same bytes come out, and no retry is printed."""
    faults = Faults(rate=0.1, kinds=TRANSIENT, pattern=r"\.tif$")
    with served(tmp_path, scenes, faults) as (catalog, server):
        code, out, err = run_cli(
            capsys, *cube_args(catalog, tmp_path / "out", "--config", config_file(tmp_path))
        )
    assert code == 0, err
    assert err == ""
    assert out.startswith("wrote 1 item(s)")
    injected = server.outcome_counts()
    assert sum(injected[k] for k in TRANSIENT) >= 5, injected
    assert cogs(tmp_path / "out") == reference
    assert read_manifest(tmp_path / "out" / "observations" / "manifest.jsonl").skipped == []


def test_transient_faults_on_stac_json_are_retried(capsys, tmp_path, scenes, reference):
    faults = Faults(rate=0.3, kinds=TRANSIENT, pattern=r"\.json$")
    with served(tmp_path, scenes, faults) as (catalog, server):
        code, _, err = run_cli(
            capsys, *cube_args(catalog, tmp_path / "out", "--config", config_file(tmp_path))
        )
    assert code == 0, err
    assert err == ""
    assert sum(server.outcome_counts()[k] for k in TRANSIENT) >= 1
    assert cogs(tmp_path / "out") == reference


def test_a_stac_document_that_stays_unavailable_is_one_line_naming_it(capsys, tmp_path, scenes):
    item = item_id(1)
    faults = Faults(permanent={f"{item}/{item}.json": 503})
    started = time.monotonic()
    with served(tmp_path, scenes, faults) as (catalog, server):
        code, _, err = run_cli(
            capsys, *cube_args(catalog, tmp_path / "out", "--config", config_file(tmp_path))
        )
    line = one_line(err)
    assert code == 1
    assert f"/stac/{item}/{item}.json" in line and "503" in line, line
    assert server.outcome_counts()["503"] <= 16  # urllib3's retries, bounded
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("down", ["503", "refused"])
def test_an_endpoint_that_stays_down_ends_at_the_deadline(capsys, tmp_path, scenes, down):
    """The COGs' host answers nothing useful: the run ends after the deadline, not 12 minutes later."""
    root = tmp_path / "served"
    shutil.copytree(scenes, root)
    with serve(root) as stac, serve(root, Faults(rate=1.0, kinds=("503",))) as cogs_host:
        cog_url = cogs_host.url
        if down == "refused":
            cogs_host.shutdown()
            cogs_host.server_close()
        catalog = write_http_catalog(root, stac.url, cog_url=cog_url)
        started = time.monotonic()
        args = cube_args(catalog, tmp_path / "out", "--config", config_file(tmp_path, deadline=2))
        code, _, err = run_cli(capsys, *args)
        elapsed = time.monotonic() - started
    line = one_line(err)
    assert code == 1
    assert "has answered nothing for 2 s (read.deadline_s)" in line, line
    assert "item S2A_32UPU_" in line and "band " in line and cog_url.removeprefix("http://") in line
    assert elapsed < 40, elapsed
    manifest = read_manifest(tmp_path / "out" / "observations" / "manifest.jsonl")
    assert manifest.state == "failed"


def _damage(root: Path, how: str) -> Faults:
    """Make s1/B11.tif (the 20 m SWIR band of the second date) unreadable."""
    if how == "truncated":
        path = root / "s1" / "B11.tif"
        path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
        return Faults()
    if how == "hang":
        return Faults(permanent={"s1/B11.tif": "hang"})
    return Faults(permanent={"s1/B11.tif": int(how)})


@pytest.mark.parametrize("how", ["404", "403", "truncated", "hang"])
def test_an_unreadable_asset_is_left_out_and_named(capsys, tmp_path, scenes, reference, how):
    root = tmp_path / "served"
    shutil.copytree(scenes, root)
    with serve(root, _damage(root, how), hang_s=20) as server:
        catalog = write_http_catalog(root, server.url)
        args = cube_args(catalog, tmp_path / "out", "--config", config_file(tmp_path, deadline=3))
        code, _out, err = run_cli(capsys, *args)
    assert code == 0, err
    warning = one_line(err)
    assert warning.startswith("warning: left out 1 unreadable scene-band(s)")
    assert f"item {item_id(1)} band B11" in warning
    (skipped,) = read_manifest(tmp_path / "out" / "observations" / "manifest.jsonl").skipped
    assert skipped["item"] == item_id(1) and skipped["band"] == "B11"
    assert skipped["href"] == f"{server.url}/s1/B11.tif"
    expected = {"404": "404", "403": "403", "truncated": "(Read|IO) error", "hang": "timed out"}[how]
    assert re.search(expected, skipped["reason"]), skipped
    # the scene is no observation where its B11 is missing (everywhere here): counted 2 of 3
    assert np.all(nobs(tmp_path / "out") == 2)
    (item_path,) = output_item_paths(tmp_path / "out")
    provenance = json.loads(item_path.read_text())["properties"]["baresoil:skipped"]
    assert [(s["item"], s["band"]) for s in provenance] == [(item_id(1), "B11")]


def test_strict_ends_the_run_naming_the_asset(capsys, tmp_path, scenes):
    root = tmp_path / "served"
    shutil.copytree(scenes, root)
    with serve(root, _damage(root, "404")) as server:
        catalog = write_http_catalog(root, server.url)
        code, _, err = run_cli(capsys, *cube_args(catalog, tmp_path / "out", "--strict"))
    assert code == 1
    href = f"{server.url}/s1/B11.tif"
    assert (
        one_line(err)
        == f"error: item {item_id(1)}: band B11 cannot be read ({href}): HTTP response code: 404"
    )


def test_secrets_never_leave_the_process(capsys, caplog, tmp_path, scenes):
    """Signed hrefs and a catalog URL with credentials, under faults and a failing asset: the secrets
    are in no printed line, log record (GDAL's warnings included), manifest, item or catalog."""
    import logging

    secrets = ("SIGSECRET123", "PASSWORD456")
    faults = Faults(rate=0.15, kinds=TRANSIENT, permanent={"s1/B11.tif": 403})
    with served(tmp_path, scenes, faults, query="?sv=2021-06-08&se=2030-01-01&sig=SIGSECRET123") as (
        catalog,
        _server,
    ):
        signed = catalog.replace("http://", "http://reader:PASSWORD456@")
        with caplog.at_level(logging.DEBUG):
            code, out, err = run_cli(
                capsys, "-vv", *cube_args(signed, tmp_path / "out", "--config", config_file(tmp_path))
            )
            strict_code, strict_out, strict_err = run_cli(
                capsys, *cube_args(signed, tmp_path / "strict", "--strict", "--config", config_file(tmp_path))
            )
    assert code == 0 and strict_code == 1, err
    assert "band B11 cannot be read" in strict_err
    assert any("Retrying" in r.getMessage() or "CURL" in r.getMessage() for r in caplog.records)
    texts = {"stdout": out + strict_out, "stderr": err + strict_err, "logs": caplog.text}
    texts |= {str(p): p.read_text() for p in (tmp_path / "out").rglob("*.json*")}
    assert len(texts) > 6
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{secret} in {where}"
    assert "sig=<redacted>" in texts["stderr"]
