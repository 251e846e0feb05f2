"""``baresoil_parcels`` and ``baresoil_soil`` over the API on the small simulated world: the user's parcels
and soil samples inline as GeoJSON give the command line's tables and maps, and bad GeoJSON is refused
with openEO's error JSON naming the node, the feature and the column."""

from __future__ import annotations

import copy
import json
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openeo
import pandas as pd
import pytest
import requests
from pyproj import Transformer

from baresoil.api.app import ServerSettings
from baresoil.api.users import add_user
from baresoil.catalog.source import StacSource
from baresoil.config import ServiceConfig
from baresoil.io.cog import read_layer

from tests.support.api_server import USERS, start_server, stop_server
from tests.support.cli_runner import run_cli
from tests.support.parcel_world import SPEC, parcel_world, s2_catalog

pytestmark = pytest.mark.slow

PARCELS_PERIOD = ["2021-04-15", "2021-06-01"]
"""Six weeks: openEO's interval excludes its end, so the command's --end is 2021-05-31."""
SOIL_PERIOD = ["2021-04-01", "2021-07-01"]
SOIL_SETTINGS = {"trees": 40, "cv_folds": 3, "cv_block_m": 100.0, "cv_neighbour_m": 10.0,
                 "compare_covariates": False}  # fmt: skip
"""A small forest and folds the world's few bare samples can fill (the defaults want a larger area)."""
MAX_REQUEST_MB = 0.5


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return parcel_world(tmp_path_factory)


@pytest.fixture(scope="module")
def server(tmp_path_factory, world):
    workdir = tmp_path_factory.mktemp("api_world_server")
    for name, password in USERS.items():
        add_user(workdir, name, password)
    limits = ServiceConfig(max_request_mb=MAX_REQUEST_MB)
    sources = {"WORLD": StacSource(str(s2_catalog(world)))}
    server, thread, url = start_server(ServerSettings(workdir, sources, limits=limits))
    yield url
    stop_server(server, thread)


@pytest.fixture(scope="module")
def headers(server):
    answer = requests.get(f"{server}/credentials/basic", auth=("alice", USERS["alice"]), timeout=10)
    return {"Authorization": f"Bearer basic//{answer.json()['access_token']}"}


def _world_bbox() -> dict[str, float]:
    x0, y0 = SPEC.origin
    x1, y1 = x0 + SPEC.size_m, y0 + SPEC.size_m
    to_ll = Transformer.from_crs(SPEC.epsg, 4326, always_xy=True)
    lons, lats = to_ll.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    return {"west": min(lons), "south": min(lats), "east": max(lons), "north": max(lats)}


def _parcels(world, count: int = 6) -> dict:
    """The first parcels of the world's declarations as RFC 7946 GeoJSON (what a client would send)."""
    frame = gpd.read_file(world.inputs_dir / "parcels.gpkg").to_crs(4326).iloc[:count]
    return json.loads(frame.to_json(drop_id=True))


def _samples(world) -> dict:
    table = pd.read_csv(world.inputs_dir / "soil_samples.csv")
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
            "properties": {"sample_id": row.sample_id, "soc": row.soc, "clay": row.clay},
        }
        for row in table.itertuples()
    ]
    return {"type": "FeatureCollection", "features": features}


def _write(geojson: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(geojson))
    return path


def _graph(node: str, process: str, period: list[str], extent, arguments: dict, fmt: str) -> dict:
    """load_collection → ``process`` (as node ``node``) → save_result."""
    return {
        "load": {
            "process_id": "load_collection",
            "arguments": {"id": "WORLD", "spatial_extent": extent, "temporal_extent": period},
        },
        node: {"process_id": process, "arguments": {"data": {"from_node": "load"}, **arguments}},
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": node}, "format": fmt},
            "result": True,
        },
    }


def _parcels_graph(parcels, extent=None, fmt="GeoParquet", **settings) -> dict:
    arguments = {"parcels": parcels, "id_column": "parcel_id", **settings}
    return _graph("markers", "baresoil_parcels", PARCELS_PERIOD, extent, arguments, fmt)


def _soil_graph(samples, extent, properties=("soc",), **settings) -> dict:
    arguments = {"samples": samples, "properties": list(properties), **SOIL_SETTINGS, **settings}
    return _graph("maps", "baresoil_soil", SOIL_PERIOD, extent, arguments, "GTiff")


def _error(answer: requests.Response, status: int, code: str, *words: str) -> str:
    assert answer.status_code == status, answer.text[:500]
    body = answer.json()
    assert body["code"] == code, body
    for word in words:
        assert word in body["message"], body["message"]
    return str(body["message"])


def _bbox_args(box: dict[str, float]) -> list[str]:
    return ["--bbox", *(f"{box[k]!r}" for k in ("west", "south", "east", "north"))]


def test_the_processes_describe_the_users_data_and_the_families_defaults(server):
    processes = {p["id"]: p for p in requests.get(f"{server}/processes", timeout=10).json()["processes"]}
    parcels = {p["name"]: p for p in processes["baresoil_parcels"]["parameters"]}
    assert {"type": "object", "subtype": "geojson"} in parcels["parcels"]["schema"]
    assert not parcels["parcels"].get("optional") and not parcels["id_column"].get("optional")
    assert parcels["category_column"]["optional"] and parcels["category_column"]["default"] is None
    assert parcels["resolution"]["default"] == 10.0  # the parcels' own default, as `baresoil parcels`
    assert "markers_wide" in processes["baresoil_parcels"]["returns"]["description"]
    soil = {p["name"]: p for p in processes["baresoil_soil"]["parameters"]}
    assert (
        soil["samples"]["schema"][0]["subtype"] == "geojson" and soil["properties"]["schema"]["minItems"] == 1
    )
    assert soil["id_column"]["default"] == "sample_id" and soil["resolution"]["default"] == 20.0
    assert "tpi_radii_m" not in soil  # terrain needs a DEM, which the API does not take
    assert "load_geojson" in processes
    formats = requests.get(f"{server}/file_formats", timeout=10).json()["output"]
    assert "table" in formats["GeoParquet"]["gis_data_types"]


def test_batch_parcels_from_load_geojson_equal_the_cli(server, world, tmp_path, capsys):
    """Through the openeo client: parcels as load_geojson's vector cube, the collection without a
    spatial extent (the parcels' own is read); the tables equal those of `baresoil parcels`."""
    geojson = _parcels(world)
    con = openeo.connect(server).authenticate_basic("alice", USERS["alice"])
    cube = con.load_collection("WORLD", spatial_extent=None, temporal_extent=PARCELS_PERIOD)
    markers = con.datacube_from_process(
        "baresoil_parcels", data=cube, parcels=con.load_geojson(geojson), id_column="parcel_id",
        category_column="crop_2021",
    )  # fmt: skip
    job = markers.save_result(format="GeoParquet").execute_batch(max_poll_interval=0.5)
    results = job.get_results()
    assets = {a.name: a for a in results.get_assets()}
    assert assets["markers.parquet"].metadata["type"] == "application/vnd.apache.parquet"
    got = {p.name: p for p in results.download_files(tmp_path / "job")}
    cli_out = tmp_path / "cli"
    code, _, err = run_cli(
        capsys, "parcels", "--stac", s2_catalog(world),
        "--parcels", _write(geojson, tmp_path / "parcels.geojson"), "--id-column", "parcel_id",
        "--category-column", "crop_2021", "--start", "2021-04-15", "--end", "2021-05-31", "--out", cli_out,
    )  # fmt: skip
    assert code == 0, err
    want = {p.name: p for p in cli_out.rglob("*") if p.suffix in (".parquet", ".csv")}
    assert {"markers.parquet", "markers_wide.parquet", "parcels.parquet", "parcel_report.parquet",
            "bare_soil_periods.parquet"} <= set(want)  # fmt: skip
    assert sorted(n for n in got if n.endswith((".parquet", ".csv"))) == sorted(want)
    for name, path in want.items():
        if name.endswith(".csv"):
            assert got[name].read_bytes() == path.read_bytes(), name
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(got[name]), pd.read_parquet(path), obj=name)
    parcels = gpd.read_parquet(got["parcels.parquet"])
    assert sorted(parcels["parcel_id"]) == sorted(f["properties"]["parcel_id"] for f in geojson["features"])
    assert set(parcels["category"]) <= {f["properties"]["crop_2021"] for f in geojson["features"]}


def test_the_same_parcels_again_reuse_the_result(server, world, headers):
    """Inline this time, with another key order and node names: the same request, finished at once."""
    geojson = _parcels(world)
    reordered = {"features": [dict(reversed(list(f.items()))) for f in geojson["features"]],
                 "type": "FeatureCollection"}  # fmt: skip
    graph = _parcels_graph(reordered, extent=_world_bbox(), category_column="crop_2021")
    graph = {f"x_{name}": node for name, node in graph.items()}
    text = json.dumps(graph).replace('"from_node": "', '"from_node": "x_')
    job_id = _finished_job(server, headers, json.loads(text))
    logs = requests.get(f"{server}/jobs/{job_id}/logs", headers=headers, timeout=10).json()["logs"]
    assert any("reused" in entry["message"] for entry in logs), logs


def _finished_job(server, headers, graph) -> str:
    body = {"process": {"process_graph": graph}}
    created = requests.post(f"{server}/jobs", json=body, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    requests.post(f"{server}/jobs/{job_id}/results", headers=headers, timeout=10)
    deadline = time.monotonic() + 120
    while (job := requests.get(f"{server}/jobs/{job_id}", headers=headers, timeout=10).json())["status"] in (
        "created", "queued", "running"):  # fmt: skip
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "finished", job
    return str(job_id)


def test_synchronous_soil_maps_equal_the_cli(server, world, headers, tmp_path, capsys):
    samples = _samples(world)
    box = _world_bbox()
    answer = requests.post(
        f"{server}/result", json={"process": {"process_graph": _soil_graph(samples, box)}}, headers=headers,
        timeout=600,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text[:500]
    (tmp_path / "result.zip").write_bytes(answer.content)
    with zipfile.ZipFile(tmp_path / "result.zip") as zf:
        zf.extractall(tmp_path / "sync")
    report = json.loads((tmp_path / "sync" / "cv_report.json").read_text())
    assert report["samples"]["read"] == len(samples["features"]) and report["samples"]["used"] >= 20
    got = {p.name: p for p in (tmp_path / "sync").glob("soil_*/*.tif")}
    # the two commands a user runs: SoilSuite of the same cube, then the soil maps on it
    covariates = tmp_path / "cli_soilsuite"
    code, _, err = run_cli(
        capsys, "soilsuite", "--stac", s2_catalog(world), *_bbox_args(box), "--start", "2021-04-01",
        "--end", "2021-06-30", "--out", covariates,
    )  # fmt: skip
    assert code == 0, err
    config = tmp_path / "soil.toml"
    config.write_text("[soil]\ncv_neighbour_m = 10.0\ncompare_covariates = false\n")
    cli_out = tmp_path / "cli_soil"
    code, _, err = run_cli(
        capsys, "soil", "--samples", _write(samples, tmp_path / "samples.geojson"), "--property", "soc",
        "--covariates", covariates, "--trees", "40", "--folds", "3", "--block-size", "100",
        "--config", config, "--out", cli_out,
    )  # fmt: skip
    assert code == 0, err
    want = {p.name: p for p in cli_out.glob("soil_*/*.tif")}
    assert {n.split("_R20m_")[1] for n in want} == {
        "SOC_Q05.tif",
        "SOC_Q50.tif",
        "SOC_Q95.tif",
        "SOC_UNC.tif",
    }
    assert sorted(got) == sorted(want)
    for name, path in want.items():
        expected, _ = read_layer(path)
        values, _ = read_layer(got[name])
        np.testing.assert_array_equal(values, expected, err_msg=name)
    median, _ = read_layer(got[next(n for n in got if n.endswith("SOC_Q50.tif"))])
    assert np.isfinite(median).any()
    cli_report = json.loads((cli_out / "cv_report.json").read_text())
    assert report["properties"]["soc"]["spatial_cv"] == cli_report["properties"]["soc"]["spatial_cv"]
    # the same request as a batch job: its results list the maps and the report beside them
    job_id = _finished_job(server, headers, _soil_graph(samples, box))
    assets = requests.get(f"{server}/jobs/{job_id}/results", headers=headers, timeout=10).json()["assets"]
    assert set(got) | {"cv_report.json", "cv_soc.png"} == set(assets)
    assert (
        assets["cv_report.json"]["roles"] == ["metadata"]
        and assets["cv_report.json"]["type"] == "application/json"
    )
    download = requests.get(assets["cv_report.json"]["href"], headers=headers, timeout=10)
    assert download.json() == report


def _post(server, headers, graph) -> requests.Response:
    return requests.post(
        f"{server}/jobs", json={"process": {"process_graph": graph}}, headers=headers, timeout=10
    )


def test_bad_parcels_are_refused_naming_the_node_the_feature_and_the_column(server, world, headers):
    good = _parcels(world)

    def bad(change) -> dict:
        geojson = copy.deepcopy(good)
        change(geojson)
        return _parcels_graph(geojson)

    def point(g):
        g["features"][2]["geometry"] = {"type": "Point", "coordinates": [11.42, 48.19]}

    def open_ring(g):
        g["features"][1]["geometry"]["coordinates"][0][-1] = [11.0, 48.0]

    def no_id(g):
        del g["features"][3]["properties"]["parcel_id"]

    def twice(g):
        g["features"][4]["properties"]["parcel_id"] = g["features"][0]["properties"]["parcel_id"]

    def projected(g):
        g["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}

    cases = [
        (bad(point), ["node 'markers' (baresoil_parcels)", "'parcels'", "features[2]", "'Point'"]),
        (bad(open_ring), ["features[1]", "not closed"]),
        (bad(no_id), ["features[3] has no property 'parcel_id'", "crop_2021"]),
        (bad(twice), ["features[0] and features[4]", "'parcel_id'"]),
        (bad(projected), ["EPSG::25832", "reproject"]),
        (_parcels_graph(good["features"]), ["FeatureCollection"]),
        (_parcels_graph(good, category_column="crop"), ["no feature has a property 'crop'", "crop_2021"]),
        (
            _parcels_graph(good, extent={"west": 11.40, "south": 48.0, "east": 11.425, "north": 48.3}),
            ["not inside the spatial extent of node 'load'", "features[0] (parcel_id"],
        ),
    ]
    before = len(requests.get(f"{server}/jobs", headers=headers, timeout=10).json()["jobs"])
    for graph, words in cases:
        _error(_post(server, headers, graph), 400, "ProcessParameterInvalid", *words)
    missing = _parcels_graph(good)
    del missing["markers"]["arguments"]["id_column"]
    _error(_post(server, headers, missing), 400, "ProcessParameterMissing", "'id_column'")
    _error(_post(server, headers, _parcels_graph(good, fmt="GTiff")), 400, "FormatUnsupported", "GeoParquet")
    assert len(requests.get(f"{server}/jobs", headers=headers, timeout=10).json()["jobs"]) == before


def test_bad_samples_are_refused_naming_the_node_the_feature_and_the_column(server, world, headers):
    good = _samples(world)
    box = _world_bbox()
    text = copy.deepcopy(good)
    text["features"][1]["properties"]["soc"] = "n.d."
    nowhere = copy.deepcopy(good)
    nowhere["features"][5]["geometry"]["coordinates"] = [680100.0, 5340100.0]
    cases = [
        (_soil_graph(text, box), ["node 'maps' (baresoil_soil)", "features[1]", "'soc' must be a number"]),
        (_soil_graph(nowhere, box), ["features[5]", "reproject"]),
        (
            _soil_graph(good, box, properties=("om",)),
            ["no feature has a property 'om'", "sample_id, soc, clay"],
        ),
        (_soil_graph(good, box, properties=("soc", "soc=clay")), ["given more than once: soc"]),
        (_soil_graph(good, box, properties=()), ["'properties'"]),
        (_soil_graph(good, box, id_column="lab_id"), ["features[0] has no property 'lab_id'"]),
        (_soil_graph(good, None), ["node 'maps'", "no spatial extent", "node 'load'"]),
        (_soil_graph(good, box, trees=0), ["'trees'"]),
    ]
    for graph, words in cases:
        _error(_post(server, headers, graph), 400, "ProcessParameterInvalid", *words)


def test_a_request_over_the_size_limit_is_refused_unread(server, world, headers):
    big = _samples(world)
    big["features"] = big["features"] * 40  # about 1 MB of JSON
    body = {"process": {"process_graph": _soil_graph(big, _world_bbox())}}
    answer = requests.post(f"{server}/result", json=body, headers=headers, timeout=10)
    _error(answer, 413, "PayloadTooLarge", f"{MAX_REQUEST_MB:g} MB", "service.max_request_mb")
