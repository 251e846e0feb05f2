"""The processes the API offers (``GET /processes``): the standard ones a composite needs and one
``baresoil_*`` process per product family.

A baresoil process's parameters are its config section's keys (``config.py``: name, JSON schema from
the pydantic field, the family's default, and the docstring under the field), plus the keys every
cube-based command shares, plus the user's own data the command takes as files (parcels, soil samples:
GeoJSON here, see :mod:`.vectors`); what it returns lists its layers from the product registry.  So the
API, the command line and the documentation describe the same settings in the same words.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from .. import config as config_module
from ..config import PRODUCT_DEFAULTS, Config, load_config
from ..products import composite as _composite  # noqa: F401  (registers the composite layers)
from ..products import seasons as _seasons  # noqa: F401
from ..products import soilsuite as _soilsuite  # noqa: F401
from ..products.parcels.tables import table_products
from ..products.soil import SampleColumns
from ..products.soil.properties import PROPERTIES
from ..registry import layers

DATACUBE = {"type": "object", "subtype": "datacube"}
VECTOR_CUBE = {"type": "object", "subtype": "datacube", "dimensions": [{"type": "geometry"}]}
GEOJSON = {"type": "object", "subtype": "geojson"}

COMMON_KEYS: Mapping[str, str] = {
    "resolution": "cube.resolution",
    "cloud_buffer_m": "cube.cloud_buffer_m",
    "max_cloud_cover": "scenes.max_cloud_cover",
    "min_sun_elevation": "scenes.min_sun_elevation",
}
"""Parameters of every cube-based baresoil process -> their config key (the commands' shared flags)."""


@dataclass(frozen=True)
class ProductProcess:
    """One ``baresoil_*`` process: which config section it exposes, without which keys."""

    process_id: str
    family: str
    """Product family (layer registry) and config section."""
    summary: str
    left_out: tuple[str, ...] = ()
    """Keys not offered: paths on the server (a client must not name the server's files), keys of inputs
    not offered and keys that other nodes set (``save_result`` gives the format)."""
    inputs: tuple[dict[str, Any], ...] = ()
    """Parameters besides ``data`` and the config's: the user's own data and the names of its columns."""
    data: str = "Sentinel-2 L2A data from `load_collection`."
    returns: str = ""
    """What the process gives, when not a list of registry layers."""


def _input(
    name: str, description: str, schema: Any, optional: bool = False, default: Any = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "description": description, "schema": schema}
    if optional:
        entry.update(optional=True, default=default)
    return entry


_WGS84 = (
    "longitude, latitude on WGS84 (RFC 7946; a `crs` member, if any, must say so). Given inline, or "
    "as the vector cube of `load_geojson`; the server has no file uploads."
)
PARCEL_INPUTS = (
    _input(
        "parcels",
        "The declared parcels (as `--parcels FILE`): a GeoJSON FeatureCollection of Polygon or "
        f"MultiPolygon features whose properties hold `id_column` (and `category_column`), {_WGS84} "
        "Invalid geometries are repaired, and parcels too small or overlapping kept, as the command "
        "does, and listed in the `parcel_report` table.",
        [GEOJSON, VECTOR_CUBE],
    ),
    _input(
        "id_column",
        "Property holding the parcel id, in every feature, unique: text or an integer (as `--id-column`).",
        {"type": "string"},
    ),
    _input(
        "category_column",
        "Property holding the declared crop or agricultural category (as `--category-column`).",
        [{"type": "string"}, {"type": "null"}],
        optional=True,
    ),
)
SAMPLE_INPUTS = (
    _input(
        "samples",
        "The soil samples (as `--samples FILE`): a GeoJSON FeatureCollection of Point features whose "
        f"properties hold `id_column` and the properties' values (numbers or null), {_WGS84} Samples "
        "outside the covariates or without a value are left out, as the command does, and listed in "
        "`cv_report.json`.",
        [GEOJSON, VECTOR_CUBE],
    ),
    _input(
        "properties",
        "Properties to map (as `--property`, repeated): a property of the samples, in its own unit "
        f"(e.g. `om`); {', '.join(f'`{name}`' for name in PROPERTIES)} with SoilGrids' units and scaling; "
        "`NAME=COLUMN` when the column is named otherwise.",
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    ),
    _input(
        "id_column",
        "Property holding the sample id, in every feature, unique (as `--id-column`).",
        {"type": "string"},
        optional=True,
        default=SampleColumns().id,
    ),
)


def _parcel_tables() -> str:
    products = ", ".join(p.title.lower() for p in table_products())
    return (
        "Tables as `baresoil parcels` writes them, GeoParquet (with the parcel geometry where it "
        "applies) and CSV, in one STAC item: the markers database per parcel, date and feature, long "
        "(`markers`) and in Sen4CAP's wide layout (`markers_wide`), the parcels as used (`parcels`), what "
        f"happened to each (`parcel_report`), and the tables of the parcel products: {products}."
    )


PRODUCT_PROCESSES: Mapping[str, ProductProcess] = {
    p.process_id: p
    for p in (
        ProductProcess(
            "baresoil_composite",
            "composite",
            "Clear-sky surface-reflectance composites per calendar period (as `baresoil composite`)",
            ("format", "resolution"),
        ),
        ProductProcess(
            "baresoil_soilsuite",
            "soilsuite",
            "SoilSuite bare-surface mask, frequency and bare-soil composites (as `baresoil soilsuite`)",
            ("landcover",),
        ),
        ProductProcess(
            "baresoil_seasons",
            "seasons",
            "Crop seasons and bare-soil periods of a year, the HRL VLCC layers (as `baresoil seasons`)",
            ("landcover",),
        ),
        ProductProcess(
            "baresoil_parcels",
            "parcels",
            "Per-parcel markers and parcel tables as Sen4CAP (as `baresoil parcels`)",
            inputs=PARCEL_INPUTS,
            data="Sentinel-2 L2A data from `load_collection`: its period is the markers' period; its "
            "`spatial_extent` may be null (the parcels' own extent is read) or must hold every parcel.",
            returns=_parcel_tables(),
        ),
        ProductProcess(
            "baresoil_soil",
            "soil",
            "Soil property maps with uncertainty from soil samples (as `baresoil soil`)",
            ("tpi_radii_m",),
            inputs=SAMPLE_INPUTS,
            data="The covariates: Sentinel-2 L2A data from `load_collection`, of which SoilSuite is made "
            "with its defaults (as `baresoil soilsuite` without options), or the output of "
            "`baresoil_soilsuite` (with its settings); the soil maps are made on its grid, as "
            "`baresoil soil --covariates` on a SoilSuite output folder.",
        ),
    )
}
"""``baresoil_soil`` leaves out ``tpi_radii_m``: terrain covariates come from a DEM, which the API does not
take (``--dem`` names a file)."""


def _section_class(section: str) -> type:
    for f in dataclasses.fields(Config):
        if f.name == section:
            return type(getattr(Config(), section))
    raise KeyError(section)


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def config_parameter(dotted: str, name: str | None = None, family: str | None = None) -> dict[str, Any]:
    """An openEO parameter for one config key: its schema, default (``family``'s own where it has one,
    as ``PRODUCT_DEFAULTS``) and meaning."""
    section, _, key = dotted.partition(".")
    cls = _section_class(section)
    schema = dict(TypeAdapter(cls).json_schema()["properties"][key])
    schema.pop("title", None)
    config = load_config(None, family if family in PRODUCT_DEFAULTS else None)
    default = _json_default(getattr(getattr(config, section), key))
    schema.pop("default", None)
    description = config_module.field_docs().get(cls.__name__, {}).get(key, "")
    return {
        "name": name or key,
        "description": f"{description} (config key `{dotted}`)".strip(),
        "schema": schema,
        "optional": True,
        "default": default,
    }


def product_parameters(process: ProductProcess) -> dict[str, str]:
    """Parameter name -> config key, ``data`` aside."""
    section = getattr(Config(), process.family)
    keys = {
        f.name: f"{process.family}.{f.name}"
        for f in dataclasses.fields(section)
        if f.name not in process.left_out
    }
    return {**keys, **COMMON_KEYS}


def input_names(process: ProductProcess) -> list[str]:
    return [p["name"] for p in process.inputs]


def _returns(process: ProductProcess) -> dict[str, Any]:
    if process.returns:
        return {"description": process.returns, "schema": VECTOR_CUBE}
    codes = ", ".join(f"`{lay.code}` ({lay.title})" for lay in layers(process.family) if lay.listed)
    return {"description": f"The product's layers: {codes}.", "schema": DATACUBE}


def product_process(process: ProductProcess) -> dict[str, Any]:
    section_doc = (_section_class(process.family).__doc__ or "").strip()
    data = {"name": "data", "description": process.data, "schema": DATACUBE}
    params = [
        config_parameter(key, name, process.family) for name, key in product_parameters(process).items()
    ]
    return {
        "id": process.process_id,
        "summary": process.summary,
        "description": " ".join(section_doc.split()),
        "categories": ["cubes", "baresoil"],
        "parameters": [data, *process.inputs, *params],
        "returns": _returns(process),
    }


def _param(
    name: str,
    description: str,
    schema: dict[str, Any] | list[Any],
    optional: bool = False,
    default: Any = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "description": description, "schema": schema}
    if optional:
        entry.update(optional=True, default=default)
    return entry


_REDUCER = {
    "type": "object",
    "subtype": "process-graph",
    "parameters": [{"name": "data", "schema": {"type": "array"}, "description": "The values to reduce."}],
}
_BBOX = {"type": "object", "subtype": "bounding-box", "required": ["west", "south", "east", "north"]}
_INTERVAL = {"type": "array", "subtype": "temporal-interval", "minItems": 2, "maxItems": 2}


def _standard(
    pid: str, summary: str, params: list[dict[str, Any]], returns: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": pid,
        "summary": summary,
        "description": summary + ".",
        "categories": ["cubes"],
        "parameters": params,
        "returns": {"description": returns.get("description", ""), "schema": returns},
    }


def standard_processes() -> list[dict[str, Any]]:
    """The openEO processes a graph may use, with the subset of their parameters this server honours."""
    data = _param("data", "A data cube.", DATACUBE)
    numbers = _param("data", "An array of numbers.", {"type": "array", "items": {"type": ["number", "null"]}})
    ignore = _param(
        "ignore_nodata",
        "Whether no-data values are left out (always, here).",
        {"type": "boolean"},
        True,
        True,
    )
    number = {"type": ["number", "null"]}
    return [
        _standard(
            "load_collection",
            "Load a collection",
            [
                _param(
                    "id",
                    "The collection id (`GET /collections`).",
                    {"type": "string", "subtype": "collection-id"},
                ),
                _param(
                    "spatial_extent",
                    "Bounding box (WGS84 unless `crs` given); null only for `baresoil_parcels`, which "
                    "reads the parcels' own extent.",
                    [_BBOX, {"type": "null"}],
                ),
                _param(
                    "temporal_extent", "Left-closed interval: [first day, day after the last).", _INTERVAL
                ),
                _param(
                    "bands",
                    "Bands to load (composites of these bands only).",
                    [{"type": "array"}, {"type": "null"}],
                    True,
                ),
                _param(
                    "properties",
                    "Not supported (must be absent or null).",
                    [{"type": "object"}, {"type": "null"}],
                    True,
                ),
            ],
            DATACUBE,
        ),
        _standard(
            "filter_bbox",
            "Spatial filter using a bounding box",
            [data, _param("extent", "Bounding box.", _BBOX)],
            DATACUBE,
        ),
        _standard(
            "filter_temporal",
            "Temporal filter based on temporal intervals",
            [
                data,
                _param("extent", "Left-closed interval.", _INTERVAL),
                _param("dimension", "Only `t`.", [{"type": "string"}, {"type": "null"}], True),
            ],
            DATACUBE,
        ),
        _standard(
            "aggregate_temporal_period",
            "Temporal aggregations based on calendar hierarchies",
            [
                data,
                _param("period", "Calendar period.", {"type": "string", "enum": ["dekad", "month", "year"]}),
                _param("reducer", "`median` or `mean`.", _REDUCER),
                _param("dimension", "Only `t`.", [{"type": "string"}, {"type": "null"}], True),
                _param("context", "Not used.", {"description": "Any data type."}, True),
            ],
            DATACUBE,
        ),
        _standard(
            "reduce_dimension",
            "Reduce dimensions",
            [
                data,
                _param("reducer", "`median` or `mean`.", _REDUCER),
                _param(
                    "dimension",
                    "`t`: one composite over the whole period (within one calendar year).",
                    {"type": "string"},
                ),
                _param("context", "Not used.", {"description": "Any data type."}, True),
            ],
            DATACUBE,
        ),
        _standard(
            "load_geojson",
            "Converts GeoJSON into a vector data cube",
            [
                _param(
                    "data",
                    "A GeoJSON FeatureCollection (longitude, latitude on WGS84): parcels for "
                    "`baresoil_parcels`, soil samples for `baresoil_soil`.",
                    GEOJSON,
                ),
                _param(
                    "properties",
                    "Not needed: the baresoil process that takes the cube names the columns it reads.",
                    {"type": "array", "items": {"type": "string"}},
                    True,
                    [],
                ),
            ],
            VECTOR_CUBE,
        ),
        _standard("median", "Statistical median", [numbers, ignore], number),
        _standard("mean", "Arithmetic mean (average)", [numbers, ignore], number),
        _standard(
            "save_result",
            "Save processed data",
            [
                data,
                _param(
                    "format",
                    "An output format of `GET /file_formats` (case-insensitive).",
                    {"type": "string", "subtype": "output-format"},
                ),
                _param("options", "Not used.", {"type": "object"}, True, {}),
            ],
            {"type": "boolean"},
        ),
    ]


@cache
def all_processes() -> list[dict[str, Any]]:
    return [*standard_processes(), *(product_process(p) for p in PRODUCT_PROCESSES.values())]
