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


def _square(lon: float, lat: float, side: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _fields(*corners: tuple[float, float]) -> dict:
    features = [
        {"type": "Feature", "geometry": _square(*c), "properties": {"fid": f"F{i}", "crop": "maize"}}
        for i, c in enumerate(corners)
    ]
    return {"type": "FeatureCollection", "features": features}


def _parcels(parcels: dict, load: dict | None = None, **settings) -> dict:
    step = {"process_id": "baresoil_parcels", "parcels": parcels, "id_column": "fid", **settings}
    return _graph(step, load=load, save={"format": "GeoParquet"})


def test_parcels_bring_their_own_extent_and_their_content_makes_the_key():
    fields = _fields((11.02, 48.02), (11.05, 48.04))
    request = parse_graph(_parcels(fields, {"spatial_extent": None}, min_pixels=5), SOURCES)
    assert request.bbox == pytest.approx((11.02, 48.02, 11.06, 48.05))
    assert request.parcels is not None and request.parcels.category_column is None
    assert request.config().parcels.min_pixels == 5 and request.config().cube.resolution == 10.0
    # inside a given extent: the same request, whatever the extent and the JSON's key order
    reordered = {"features": [dict(reversed(list(f.items()))) for f in fields["features"]],
                 "type": "FeatureCollection"}  # fmt: skip
    inside = parse_graph(_parcels(reordered, min_pixels=5), SOURCES)
    assert inside.bbox == request.bbox and inside.key() == request.key()
    moved = _fields((11.02, 48.02), (11.05, 48.05))
    assert parse_graph(_parcels(moved, min_pixels=5), SOURCES).key() != request.key()


def test_soil_takes_the_settings_of_its_soilsuite_node():
    samples = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [11.01 + i / 1000, 48.05]},
             "properties": {"sample_id": i, "soc": 12.5 + i, "SOC_gkg": None}}
            for i in range(30)
        ],
    }  # fmt: skip
    graph = _graph({"process_id": "baresoil_soilsuite", "rule": "geos3", "resolution": 10.0})
    graph["soil"] = {
        "process_id": "baresoil_soil",
        "arguments": {"data": {"from_node": "step"}, "samples": samples, "properties": ["soc"], "trees": 50},
    }
    graph["save"]["arguments"]["data"] = {"from_node": "soil"}
    request = parse_graph(graph, SOURCES)
    config = request.config()
    assert request.family == "soil" and request.bbox == (11.0, 48.0, 11.1, 48.1)
    assert config.soilsuite.rule == "geos3" and config.cube.resolution == 10.0 and config.soil.trees == 50
    assert request.samples is not None and request.samples.id_column == "sample_id"
    graph["soil"]["arguments"]["resolution"] = 20.0
    with pytest.raises(ApiError, match=r"node 'soil' \(baresoil_soil\): 'resolution': 20.0, while the "):
        parse_graph(graph, SOURCES)
    graph["soil"]["arguments"].pop("resolution")
    graph["soil"]["arguments"]["properties"] = ["soc=SOC_gkg"]  # a column without a single value is fine
    assert parse_graph(graph, SOURCES).samples.properties == ("soc=SOC_gkg",)


def test_a_cube_without_spatial_extent_serves_parcels_only():
    graph = _graph({"process_id": "baresoil_composite"}, load={"spatial_extent": None})
    with pytest.raises(ApiError) as caught:
        parse_graph(graph, SOURCES)
    assert "node 'step'" in caught.value.message and "node 'load'" in caught.value.message
    assert "spatial_extent" in caught.value.message


def test_inline_features_over_the_limit_are_refused_naming_the_node():
    request = parse_graph(_parcels(_fields((11.02, 48.02), (11.05, 48.04), (11.07, 48.06))), SOURCES)
    check_limits(request, ServiceConfig(max_features=3), synchronous=False)
    with pytest.raises(ApiError) as caught:
        check_limits(request, ServiceConfig(max_features=2), synchronous=False)
    assert caught.value.code == "ProcessParameterInvalid"
    assert "node 'step' (baresoil_parcels): 'parcels': 3 features" in caught.value.message
    assert "service.max_features" in caught.value.message
