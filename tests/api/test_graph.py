"""Process graphs as pipeline requests, without a server: intervals, filters, product settings, keys."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from baresoil.api.errors import ApiError
from baresoil.api.graph import check_limits, parse_graph
from baresoil.catalog.source import StacSource
from baresoil.config import ServiceConfig

SOURCES = {"S2": StacSource("catalog.json")}
BOX = {"west": 11.0, "south": 48.0, "east": 11.1, "north": 48.1}


def _graph(step: dict, load: dict | None = None, save: dict | None = None) -> dict:
    return {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "S2",
                "spatial_extent": BOX,
                "temporal_extent": ["2021-06-01", "2021-08-01"],
                **(load or {}),
            },
        },
        "step": {"process_id": step.pop("process_id"), "arguments": {"data": {"from_node": "load"}, **step}},
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "step"}, "format": "GTiff", **(save or {})},
            "result": True,
        },
    }


def test_the_temporal_extent_excludes_its_end_and_filters_intersect():
    graph = _graph({"process_id": "baresoil_composite", "every": "10d", "stat": "mean"})
    graph["fb"] = {
        "process_id": "filter_bbox",
        "arguments": {
            "data": {"from_node": "load"},
            "extent": {"west": 11.05, "south": 47.0, "east": 12.0, "north": 48.05},
        },
    }
    graph["ft"] = {
        "process_id": "filter_temporal",
        "arguments": {"data": {"from_node": "fb"}, "extent": ["2021-07-01", "2021-09-01"]},
    }
    graph["step"]["arguments"]["data"] = {"from_node": "ft"}
    request = parse_graph({"process_graph": graph}, SOURCES)
    assert (request.period.start, request.period.end) == (date(2021, 7, 1), date(2021, 7, 31))
    assert request.bbox == (11.05, 48.0, 11.1, 48.05)
    assert request.overrides["composite.every"] == "10d" and request.overrides["composite.stat"] == "mean"
    assert request.config().composite.format == "cog"


def test_the_key_ignores_node_names_and_follows_the_settings():
    graph = _graph({"process_id": "baresoil_soilsuite", "threshold": 0.2})
    renamed = {name.upper(): node for name, node in copy.deepcopy(graph).items()}
    renamed["STEP"]["arguments"]["data"] = {"from_node": "LOAD"}
    renamed["SAVE"]["arguments"]["data"] = {"from_node": "STEP"}
    key = parse_graph(graph, SOURCES).key()
    assert parse_graph(renamed, SOURCES).key() == key
    assert parse_graph(_graph({"process_id": "baresoil_soilsuite", "threshold": 0.25}), SOURCES).key() != key


def test_seasons_run_over_the_reference_years_window_at_10_m():
    request = parse_graph(_graph({"process_id": "baresoil_seasons", "year": 2022}), SOURCES)
    assert (request.period.start, request.period.end) == (date(2021, 7, 1), date(2023, 6, 30))
    assert request.config().cube.resolution == 10.0 and request.config().seasons.year == 2022


def test_a_composite_in_another_crs_takes_the_resolution_in_its_units():
    step = {"process_id": "baresoil_composite", "crs": "EPSG:4326", "resolution": 0.0002}
    config = parse_graph(_graph(step, save={"format": "netCDF"}), SOURCES).config()
    assert config.composite.resolution == 0.0002 and config.composite.format == "netcdf"
    assert config.cube.resolution == 20.0


@pytest.mark.parametrize(
    ("step", "code", "words"),
    [
        (
            {"process_id": "baresoil_soilsuite", "threshold": "/etc/passwd"},
            "ProcessParameterInvalid",
            "'threshold'",
        ),
        (
            {"process_id": "baresoil_soilsuite", "landcover": "x.tif"},
            "ProcessParameterInvalid",
            "'landcover'",
        ),
        (
            {"process_id": "baresoil_soilsuite", "min_bare_obs": 0},
            "ProcessParameterInvalid",
            "'min_bare_obs'",
        ),
        ({"process_id": "baresoil_parcels"}, "ProcessParameterMissing", "'parcels'"),
        ({"process_id": "baresoil_soil", "samples": None}, "ProcessParameterInvalid", "'samples'"),
        (
            {
                "process_id": "reduce_dimension",
                "dimension": "bands",
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
            "ProcessParameterInvalid",
            "'dimension'",
        ),
    ],
)
def test_bad_settings_name_the_node_and_the_parameter(step, code, words):
    with pytest.raises(ApiError) as caught:
        parse_graph(_graph(step), SOURCES)
    assert caught.value.code == code and words in caught.value.message and "'step'" in caught.value.message


def test_netcdf_is_for_composites_only():
    with pytest.raises(ApiError) as caught:
        parse_graph(_graph({"process_id": "baresoil_soilsuite"}, save={"format": "netCDF"}), SOURCES)
    assert caught.value.code == "FormatUnsupported" and "node 'save'" in caught.value.message


def test_limits_count_area_times_days_and_pixels():
    request = parse_graph(
        _graph({"process_id": "baresoil_composite"}), SOURCES
    )  # ~ 7.4 km × 11.1 km, 61 days
    area_km2 = request.area.geometry.area / 1e6
    check_limits(request, ServiceConfig(max_area_period=area_km2 * 61 * 1.01), synchronous=False)
    with pytest.raises(ApiError, match="km²·days"):
        check_limits(request, ServiceConfig(max_area_period=area_km2 * 61 * 0.99), synchronous=False)
    pixels = area_km2 * 1e6 / 20**2
    with pytest.raises(ApiError, match="pixels at 20 m"):
        check_limits(request, ServiceConfig(max_pixels=pixels * 0.99), synchronous=False)
    check_limits(request, ServiceConfig(max_pixels=pixels * 1.01), synchronous=False)
