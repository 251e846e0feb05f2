"""An openEO process graph as a baresoil request: which product, on which source, area and period,
with which settings and output format.

The graph is walked from its result node; each node becomes a step of a small plan (a cube's
collection, box and period; a composite or product made of it; the format it is saved in), and what
cannot be planned is refused naming the node: ``ProcessGraphInvalid``, ``ProcessUnsupported``,
``ProcessParameterMissing``, ``ProcessParameterInvalid``, ``CollectionNotFound``.  Nothing is read.
The user's parcels and soil samples come inline as GeoJSON (:mod:`.vectors`), checked here too.

openeo-pg-parser-networkx was not taken: it turns a graph into networkx nodes of callables for an
executor that evaluates them one by one (openeo-processes-dask), whereas here the whole graph must
become one pipeline call, which a walk of a few dozen lines does, with errors that name the node.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from pyproj import Transformer

from ..catalog.layouts import REFLECTANCE_BANDS
from ..catalog.source import TimeRange
from ..config import Config, ServiceConfig, load_config
from ..errors import BaresoilError, ConfigError
from ..grid import Area, area_from_bbox, is_eea_crs
from ..products.soil import SampleColumns, SampleError, parse_property
from .errors import ApiError
from .processes import COMMON_KEYS, PRODUCT_PROCESSES, input_names, product_parameters
from .vectors import (
    GeoJsonError,
    InlineFeatures,
    ParcelInput,
    SampleInput,
    check_column,
    check_ids,
    feature_collection,
    outside,
    shown,
)

PERIODS = {"dekad": "10d", "month": "month", "year": "year"}
"""openEO's calendar periods -> ``composite.every``."""
REDUCERS = ("median", "mean")
FORMATS = {
    "gtiff": "cog",
    "geotiff": "cog",
    "netcdf": "netcdf",
    "geoparquet": "parquet",
    "parquet": "parquet",
}
"""``save_result`` formats (case-insensitive) -> what is written (``composite.format`` for composites)."""
FAMILY_FORMATS = {"composite": ("cog", "netcdf"), "parcels": ("parquet",)}
"""What each family writes (the others: COGs): parcels give GeoParquet tables (and their CSV)."""
FORMAT_NAMES = {"cog": "GTiff", "netcdf": "netCDF", "parquet": "GeoParquet"}


@dataclass(frozen=True)
class Request:
    """What a graph asks for, in the terms of the pipeline."""

    family: str
    """``composite``, ``soilsuite``, ``seasons``, ``parcels`` or ``soil``."""
    collection: str
    bbox: tuple[float, float, float, float]
    """West, south, east, north (WGS84): the loaded extent, or the parcels' own."""
    period: TimeRange
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Config keys set by the graph (``composite.every`` …), as flags are by the command line; for
    ``soil``, those of the SoilSuite covariates as well."""
    output_format: str = "cog"
    parcels: ParcelInput | None = None
    """``parcels``: the user's parcels and their columns."""
    samples: SampleInput | None = None
    """``soil``: the user's soil samples, the properties to map and the id column."""

    @property
    def area(self) -> Area:
        return area_from_bbox(*self.bbox)

    def config(self) -> Config:
        product = self.family if self.family in ("seasons", "parcels") else None
        base = load_config(None, product)
        overrides = dict(self.overrides)
        if self.family == "composite":
            overrides["composite.format"] = self.output_format
            resolution = overrides.pop("cube.resolution", None)
            if resolution is not None:
                crs = str(overrides.get("composite.crs", ""))
                overrides["cube.resolution" if is_eea_crs(crs) else "composite.resolution"] = resolution
        return base.override(**overrides)

    def key(self) -> str:
        """The same for identical requests, whatever the node names: where the result is kept."""
        text = json.dumps(
            {
                "family": self.family,
                "collection": self.collection,
                "bbox": self.bbox,
                "period": str(self.period),
                "overrides": dict(sorted(self.overrides.items())),
                "format": self.output_format,
                **({"parcels": self.parcels.key()} if self.parcels else {}),
                **({"samples": self.samples.key()} if self.samples else {}),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Cube:
    collection: str
    bbox: tuple[float, float, float, float] | None
    """None: no ``spatial_extent`` (only parcels, which bring their own, may do without)."""
    period: TimeRange
    bands: tuple[str, ...] | None = None
    origin: str = ""
    """The ``load_collection`` node."""


@dataclass(frozen=True)
class _Vector:
    """``load_geojson``'s vector cube: the GeoJSON as given, checked by the process that takes it."""

    geojson: object
    origin: str


@dataclass(frozen=True)
class _Product:
    cube: _Cube
    family: str
    overrides: Mapping[str, Any]
    parcels: ParcelInput | None = None
    samples: SampleInput | None = None


@dataclass(frozen=True)
class _Saved:
    product: _Product
    output_format: str


def _invalid(node: str, pid: str, message: str, code: str = "ProcessGraphInvalid") -> ApiError:
    return ApiError(400, code, f"node '{node}' ({pid}): {message}")


class _Walker:
    def __init__(self, graph: Mapping[str, Any], collections: Mapping[str, object]) -> None:
        self.graph = graph
        self.collections = collections
        self.values: dict[str, object] = {}
        self.visiting: set[str] = set()

    def node(self, name: str) -> object:
        if name in self.values:
            return self.values[name]
        if name in self.visiting:
            raise ApiError(400, "ProcessGraphInvalid", f"node '{name}': the graph has a cycle")
        spec = self.graph.get(name)
        if not isinstance(spec, Mapping) or not isinstance(spec.get("process_id"), str):
            raise ApiError(400, "ProcessGraphInvalid", f"node '{name}': not a node with a process_id")
        self.visiting.add(name)
        pid = spec["process_id"]
        args = spec.get("arguments") or {}
        if not isinstance(args, Mapping):
            raise _invalid(name, pid, "arguments must be an object")
        step = _STEPS.get(pid)
        if step is None:
            if pid in PRODUCT_PROCESSES:
                step = _product_step
            else:
                raise _invalid(
                    name,
                    pid,
                    "process not supported by this server (see GET /processes)",
                    "ProcessUnsupported",
                )
        value = step(self, name, pid, args)
        self.visiting.discard(name)
        self.values[name] = value
        return value

    def arg(self, node: str, pid: str, args: Mapping[str, Any], name: str, required: bool = True) -> Any:
        if name not in args:
            if required:
                raise _invalid(node, pid, f"parameter '{name}' missing", "ProcessParameterMissing")
            return None
        value = args[name]
        if isinstance(value, Mapping) and "from_node" in value:
            source = value["from_node"]
            if source not in self.graph:
                raise _invalid(node, pid, f"'{name}' refers to node '{source}', which the graph lacks")
            return self.node(source)
        if isinstance(value, Mapping) and "from_parameter" in value:
            raise _invalid(node, pid, f"'{name}': parameter '{value['from_parameter']}' is not defined here")
        return value


def _bad(node: str, pid: str, message: str) -> ApiError:
    return _invalid(node, pid, message, "ProcessParameterInvalid")


def _expect(value: object, kind: type, node: str, pid: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise _bad(
            node, pid, f"'{what}' must be a {kind.__name__.replace('_', ' ')} (got {type(value).__name__})"
        )
    return value


def _bbox(value: object, node: str, pid: str, what: str) -> tuple[float, float, float, float]:
    if not isinstance(value, Mapping) or not all(k in value for k in ("west", "south", "east", "north")):
        raise _bad(node, pid, f"'{what}' must be a bounding box {{west, south, east, north}}")
    try:
        west, south, east, north = (float(value[k]) for k in ("west", "south", "east", "north"))
    except (TypeError, ValueError):
        raise _bad(node, pid, f"'{what}': west, south, east, north must be numbers") from None
    crs = value.get("crs") or 4326
    if str(crs) not in ("4326", "EPSG:4326"):
        try:
            to_ll = Transformer.from_crs(f"EPSG:{crs}" if isinstance(crs, int) else crs, 4326, always_xy=True)
            west, south, east, north = to_ll.transform_bounds(west, south, east, north, densify_pts=21)
        except Exception as exc:  # noqa: BLE001  (pyproj raises several kinds for a bad CRS)
            raise _bad(node, pid, f"'{what}': cannot read crs {crs!r}: {exc}") from None
    if not (west < east and south < north):
        raise _bad(
            node, pid, f"'{what}': west < east and south < north, got {west}, {south}, {east}, {north}"
        )
    return (west, south, east, north)


def _day(value: object, node: str, pid: str, what: str) -> date:
    if not isinstance(value, str):
        raise _bad(node, pid, f"'{what}': dates as 'YYYY-MM-DD' (got {value!r})")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise _bad(node, pid, f"'{what}': not a date: {value!r}") from None


def _interval(value: object, node: str, pid: str, what: str) -> TimeRange:
    """openEO's left-closed interval [start, end) as baresoil's closed range of days."""
    if not isinstance(value, list) or len(value) != 2 or value[0] is None or value[1] is None:
        raise _bad(node, pid, f"'{what}' must be [start, end], both given")
    start, end = _day(value[0], node, pid, what), _day(value[1], node, pid, what)
    if end <= start:
        raise _bad(node, pid, f"'{what}': the end {end} must come after the start {start} (it is excluded)")
    return TimeRange(start, end - timedelta(days=1))


def _intersect(a: TimeRange, b: TimeRange, node: str, pid: str) -> TimeRange:
    start, end = max(a.start, b.start), min(a.end, b.end)
    if end < start:
        raise _bad(node, pid, f"the interval {b} does not overlap the loaded one {a}")
    return TimeRange(start, end)


def _cube(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Cube:
    value = walker.arg(node, pid, args, "data")
    if not isinstance(value, _Cube):
        raise _bad(node, pid, "'data' must be a cube from load_collection (or a filter of one)")
    return value


def _load_collection(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Cube:
    cid = _expect(walker.arg(node, pid, args, "id"), str, node, pid, "id")
    if cid not in walker.collections:
        known = ", ".join(walker.collections) or "none"
        raise ApiError(
            404, "CollectionNotFound", f"node '{node}' ({pid}): no collection '{cid}' (known: {known})"
        )
    extent = walker.arg(node, pid, args, "spatial_extent")
    bbox = None if extent is None else _bbox(extent, node, pid, "spatial_extent")
    period = _interval(walker.arg(node, pid, args, "temporal_extent"), node, pid, "temporal_extent")
    bands = walker.arg(node, pid, args, "bands", required=False)
    if bands is not None:
        bands = tuple(str(b).upper() for b in _expect(bands, list, node, pid, "bands"))
        unknown = [b for b in bands if b not in REFLECTANCE_BANDS]
        if unknown or not bands:
            raise _bad(
                node,
                pid,
                f"'bands': unknown {', '.join(unknown) or '(none given)'}; "
                f"known: {', '.join(REFLECTANCE_BANDS)}",
            )
    if walker.arg(node, pid, args, "properties", required=False):
        raise _bad(node, pid, "'properties' filters are not supported")
    return _Cube(cid, bbox, period, bands, node)


def _bounded(cube: _Cube, node: str, pid: str) -> tuple[float, float, float, float]:
    """The cube's box; a cube loaded without one is refused (the whole collection is not served)."""
    if cube.bbox is None:
        raise _bad(
            node,
            pid,
            f"'data' has no spatial extent: give load_collection (node '{cube.origin}') a 'spatial_extent' "
            "bounding box (the whole collection is not served)",
        )
    return cube.bbox


def _filter_bbox(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Cube:
    cube = _cube(walker, node, pid, args)
    west, south, east, north = _bbox(walker.arg(node, pid, args, "extent"), node, pid, "extent")
    if cube.bbox is None:
        return replace(cube, bbox=(west, south, east, north))
    w0, s0, e0, n0 = cube.bbox
    box = (max(west, w0), max(south, s0), min(east, e0), min(north, n0))
    if not (box[0] < box[2] and box[1] < box[3]):
        raise _bad(node, pid, "'extent' does not overlap the loaded spatial extent")
    return replace(cube, bbox=box)


def _filter_temporal(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Cube:
    cube = _cube(walker, node, pid, args)
    period = _interval(walker.arg(node, pid, args, "extent"), node, pid, "extent")
    return replace(cube, period=_intersect(cube.period, period, node, pid))


def _reducer(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> str:
    """``median`` or ``mean``: the one node of the reducer's graph, applied to the parameter ``data``."""
    value = args.get("reducer")
    if value is None:
        raise _invalid(node, pid, "parameter 'reducer' missing", "ProcessParameterMissing")
    graph = value.get("process_graph") if isinstance(value, Mapping) else None
    if not isinstance(graph, Mapping) or len(graph) != 1:
        raise _bad(node, pid, "'reducer' must be a graph of one node, median or mean")
    (inner,) = graph.values()
    rid = inner.get("process_id") if isinstance(inner, Mapping) else None
    if rid not in REDUCERS:
        raise _bad(node, pid, f"'reducer': {rid!r} not supported; median or mean")
    data = (inner.get("arguments") or {}).get("data")
    if data != {"from_parameter": "data"}:
        raise _bad(node, pid, f"'reducer': {rid} must take the parameter 'data'")
    return str(rid)


def _time_dimension(walker: _Walker, node: str, pid: str, args: Mapping[str, Any], required: bool) -> None:
    dimension = walker.arg(node, pid, args, "dimension", required=required)
    if dimension not in (None, "t", "time"):
        raise _bad(node, pid, f"'dimension': only the temporal dimension 't' is supported, got {dimension!r}")


def _aggregate_temporal_period(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Product:
    cube = _cube(walker, node, pid, args)
    period = walker.arg(node, pid, args, "period")
    if period not in PERIODS:
        raise _bad(node, pid, f"'period': {period!r} not supported; {', '.join(PERIODS)}")
    _time_dimension(walker, node, pid, args, required=False)
    stat = _reducer(walker, node, pid, args)
    _bounded(cube, node, pid)
    return _Product(cube, "composite", _composite_keys(cube, PERIODS[period], stat))


def _reduce_dimension(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Product:
    cube = _cube(walker, node, pid, args)
    _time_dimension(walker, node, pid, args, required=True)
    stat = _reducer(walker, node, pid, args)
    _bounded(cube, node, pid)
    if cube.period.start.year != cube.period.end.year:
        raise _bad(
            node,
            pid,
            f"reducing 't' over {cube.period}, which spans calendar years, is not supported; "
            "use aggregate_temporal_period(period='year')",
        )
    # one calendar period holding the whole (clipped) temporal extent: the year's, clipped to it
    return _Product(cube, "composite", _composite_keys(cube, "year", stat))


def _composite_keys(cube: _Cube, every: str, stat: str) -> dict[str, Any]:
    keys: dict[str, Any] = {"composite.every": every, "composite.stat": stat}
    if cube.bands:
        keys["composite.bands"] = list(cube.bands)
    return keys


def _product_step(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Product:
    process = PRODUCT_PROCESSES[pid]
    names = product_parameters(process)
    inputs = input_names(process)
    inherited: dict[str, Any] = {}
    if process.family == "soil":
        cube, inherited = _soil_data(walker, node, pid, args)
    else:
        cube = _cube(walker, node, pid, args)
    keys = _composite_keys(cube, "month", "median") if process.family == "composite" else dict(inherited)
    for name in args:
        if name == "data" or name in inputs:
            continue
        if name not in names:
            raise _bad(
                node, pid, f"unknown parameter '{name}'; known: {', '.join(['data', *inputs, *names])}"
            )
        value = walker.arg(node, pid, args, name)
        if value is None:
            continue
        if inherited.get(names[name], value) != value:
            raise _bad(
                node,
                pid,
                f"'{name}': {value!r}, while the baresoil_soilsuite of 'data' has {inherited[names[name]]!r}",
            )
        keys[names[name]] = value
    threshold = keys.get("soilsuite.threshold")
    if threshold is not None and not (threshold == "auto" or isinstance(threshold, int | float)):
        raise _bad(node, pid, "'threshold': a number or 'auto' (rasters on the server are not offered)")
    try:
        _check_keys(keys, process.family)
    except ConfigError as exc:
        raise _bad(node, pid, _parameter_message(str(exc), names)) from None
    if process.family == "parcels":
        return _Product(cube, "parcels", keys, parcels=_parcels(walker, node, pid, args, cube))
    _bounded(cube, node, pid)
    if process.family == "soil":
        return _Product(cube, "soil", keys, samples=_samples(walker, node, pid, args))
    return _Product(cube, process.family, keys)


def _soil_data(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> tuple[_Cube, dict[str, Any]]:
    """The covariates' cube and settings: SoilSuite of the loaded cube as the command's defaults make it,
    or as a ``baresoil_soilsuite`` node sets it."""
    data = walker.arg(node, pid, args, "data")
    if isinstance(data, _Cube):
        return data, {}
    if isinstance(data, _Product) and data.family == "soilsuite":
        return data.cube, dict(data.overrides)
    raise _bad(node, pid, "'data' must be a cube from load_collection or the output of baresoil_soilsuite")


def _geojson(
    walker: _Walker, node: str, pid: str, args: Mapping[str, Any], name: str, types: tuple[str, ...]
) -> InlineFeatures:
    """A GeoJSON FeatureCollection given inline or by a ``load_geojson`` node."""
    value = walker.arg(node, pid, args, name)
    where = f"'{name}'"
    if isinstance(value, _Vector):
        where = f"'{name}' (the GeoJSON of node '{value.origin}')"
        value = value.geojson
    elif isinstance(value, _Cube | _Product | _Saved):
        raise _bad(node, pid, f"'{name}' must be GeoJSON (inline, or from load_geojson), not a raster cube")
    try:
        return feature_collection(value, types)
    except GeoJsonError as exc:
        raise _bad(node, pid, f"{where}: {exc}") from None


def _column(
    walker: _Walker,
    node: str,
    pid: str,
    args: Mapping[str, Any],
    name: str,
    required: bool,
    default: Any = None,
) -> Any:
    """A property's name (``id_column`` …), or ``default`` when not given."""
    value = walker.arg(node, pid, args, name, required=required)
    if value is None:
        if required:
            raise _bad(node, pid, f"'{name}' must be the name of a property (got null)")
        return default
    if not isinstance(value, str) or not value.strip():
        raise _bad(node, pid, f"'{name}' must be the name of a property (got {value!r})")
    return value


def _parcels(walker: _Walker, node: str, pid: str, args: Mapping[str, Any], cube: _Cube) -> ParcelInput:
    features = _geojson(walker, node, pid, args, "parcels", ("Polygon", "MultiPolygon"))
    id_column = _column(walker, node, pid, args, "id_column", required=True)
    category = _column(walker, node, pid, args, "category_column", required=False)
    try:
        check_ids(features, id_column)
        if category is not None:
            check_column(features, category, numbers=False)
    except GeoJsonError as exc:
        raise _bad(node, pid, f"'parcels': {exc}") from None
    if cube.bbox is not None:
        beyond = outside(features, cube.bbox, id_column)
        if beyond:
            raise _bad(
                node,
                pid,
                f"'parcels': {shown(beyond)} not inside the spatial extent of node '{cube.origin}' "
                f"{tuple(round(v, 6) for v in cube.bbox)}; widen it, or give none (null): the parcels' "
                "own extent is read",
            )
    return ParcelInput(features, id_column, category, node)


def _samples(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> SampleInput:
    features = _geojson(walker, node, pid, args, "samples", ("Point",))
    specs = walker.arg(node, pid, args, "properties")
    if not isinstance(specs, list) or not specs or not all(isinstance(p, str) and p.strip() for p in specs):
        raise _bad(node, pid, f"'properties' must be a non-empty array of property names (got {specs!r})")
    try:
        columns = [parse_property(spec) for spec in specs]
    except SampleError as exc:
        raise _bad(node, pid, f"'properties': {exc}") from None
    names = [c.prop.name for c in columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _bad(node, pid, f"'properties': given more than once: {', '.join(twice)}")
    id_column = _column(walker, node, pid, args, "id_column", required=False, default=SampleColumns().id)
    try:
        check_ids(features, id_column)
        for column in columns:
            check_column(features, column.column, numbers=True)
    except GeoJsonError as exc:
        raise _bad(node, pid, f"'samples': {exc}") from None
    return SampleInput(features, tuple(specs), id_column, node)


def _load_geojson(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Vector:
    data = walker.arg(node, pid, args, "data")
    if not isinstance(data, Mapping):
        raise _bad(node, pid, f"'data' must be GeoJSON (got {type(data).__name__})")
    properties = walker.arg(node, pid, args, "properties", required=False)
    if properties is not None and (
        not isinstance(properties, list) or not all(isinstance(p, str) for p in properties)
    ):
        raise _bad(node, pid, "'properties' must be an array of property names")
    return _Vector(data, node)


def _check_keys(keys: Mapping[str, Any], family: str) -> None:
    """Values of the wrong type or range are refused now, not when the job runs."""
    product = family if family in ("seasons", "parcels") else None
    rest = {k: v for k, v in keys.items() if k != "cube.resolution" or family != "composite"}
    load_config(None, product).override(**rest)


def _parameter_message(message: str, names: Mapping[str, str]) -> str:
    """``flags: composite.stat = "x": expected …`` in the words of the process's parameters."""
    text = message.removeprefix("flags: ")
    for name, key in names.items():
        if text.startswith(key + " "):
            return f"'{name}'" + text[len(key) :]
    return text


def _save_result(walker: _Walker, node: str, pid: str, args: Mapping[str, Any]) -> _Saved:
    data = walker.arg(node, pid, args, "data")
    if isinstance(data, _Cube):
        raise _bad(node, pid, "'data' must be a composite or a baresoil product, not the raw collection")
    if not isinstance(data, _Product):
        raise _bad(node, pid, "'data' must be the output of a process")
    fmt = _expect(walker.arg(node, pid, args, "format"), str, node, pid, "format")
    output = FORMATS.get(fmt.lower())
    formats = FAMILY_FORMATS.get(data.family, ("cog",))
    if output not in formats:
        allowed = ", ".join(FORMAT_NAMES[f] for f in formats)
        raise _invalid(
            node, pid, f"format {fmt!r} not supported for {data.family}; {allowed}", "FormatUnsupported"
        )
    return _Saved(data, output)


_STEPS = {
    "load_collection": _load_collection,
    "filter_bbox": _filter_bbox,
    "filter_temporal": _filter_temporal,
    "aggregate_temporal_period": _aggregate_temporal_period,
    "reduce_dimension": _reduce_dimension,
    "save_result": _save_result,
    "load_geojson": _load_geojson,
}


def parse_graph(body: object, collections: Mapping[str, object]) -> Request:
    """The request of a process graph (``{"process_graph": …}`` or the graph itself)."""
    graph = body.get("process_graph", body) if isinstance(body, Mapping) else None
    if not isinstance(graph, Mapping) or not graph:
        raise ApiError(400, "ProcessGraphMissing", "no process graph given")
    results = [name for name, spec in graph.items() if isinstance(spec, Mapping) and spec.get("result")]
    if len(results) != 1:
        raise ApiError(
            400,
            "ProcessGraphInvalid",
            f"the graph needs exactly one result node, found {len(results)}"
            + (f": {', '.join(results)}" if results else ""),
        )
    walker = _Walker(graph, collections)
    saved = walker.node(results[0])
    if not isinstance(saved, _Saved):
        spec = graph[results[0]]
        raise _invalid(results[0], str(spec.get("process_id")), "the result node must be save_result")
    product = saved.product
    cube = product.cube
    period = cube.period
    bbox = product.parcels.features.bounds() if product.parcels else _bounded(cube, results[0], "save_result")
    if product.family == "seasons":
        from ..products.seasons import analysis_window

        year = product.overrides.get("seasons.year") or (period.start + (period.end - period.start) / 2).year
        period = analysis_window(int(year))
    return Request(
        product.family,
        cube.collection,
        bbox,
        period,
        dict(product.overrides),
        saved.output_format,
        product.parcels,
        product.samples,
    )


def check_limits(request: Request, limits: ServiceConfig, synchronous: bool) -> None:
    """Refuse a request over the server's limits (area × period, pixels, inline features) before any
    work starts."""
    for name, given in (("parcels", request.parcels), ("samples", request.samples)):
        if given is not None and len(given.features) > limits.max_features:
            raise ApiError(
                400,
                "ProcessParameterInvalid",
                f"node '{given.node}' (baresoil_{request.family}): '{name}': {len(given.features):,} "
                f"features is over the server's limit of {limits.max_features:,} (service.max_features)",
            )
    try:
        area_km2 = request.area.geometry.area / 1e6
        resolution = request.config().cube.resolution
    except BaresoilError as exc:
        raise ApiError(400, "ProcessParameterInvalid", str(exc)) from None
    days = (request.period.end - request.period.start).days + 1
    pixels = area_km2 * 1e6 / resolution**2
    max_product = limits.sync_max_area_period if synchronous else limits.max_area_period
    max_pixels = limits.sync_max_pixels if synchronous else limits.max_pixels
    what = "a synchronous request (POST /result; use a batch job)" if synchronous else "a batch job"
    if area_km2 * days > max_product:
        raise ApiError(
            400,
            "ExtentTooLarge",
            f"{area_km2:,.1f} km² × {days} days = {area_km2 * days:,.0f} km²·days is over the limit of "
            f"{what}, {max_product:,.0f}",
        )
    if pixels > max_pixels:
        raise ApiError(
            400,
            "ExtentTooLarge",
            f"{pixels:,.0f} pixels at {resolution:g} m is over the limit of {what}, {max_pixels:,.0f}",
        )


__all__ = ["COMMON_KEYS", "Request", "check_limits", "parse_graph"]
