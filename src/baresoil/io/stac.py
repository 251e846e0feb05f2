"""The output folder is a STAC catalog: one item per tile and period, assets keyed by layer code.

Items carry the projection (``proj:code``, shape, transform), ``raster:bands``
from the product registry (so any client reads physical values), the period as
``start_datetime``/``end_datetime``, and the run's provenance.  Runs add to an
existing catalog; ``catalog.json`` is rewritten last, atomically, so it only
ever lists items whose files are complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pystac
from odc.geo.geobox import GeoBox
from shapely.geometry import box, mapping

from .. import __version__
from ..grid import EEA_EPSG
from ..products.registry import layer
from .atomic import atomic_path

PROJECTION_EXT = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
FILE_EXT = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
CATALOG_ID = "baresoil-outputs"


@dataclass(frozen=True)
class OutputItem:
    """What one tile and period produced."""

    id: str
    tile: str
    """EEA tile code; empty on a grid that is not an EEA tile (e.g. that of a user's raster)."""
    start: date
    end: date
    geobox: GeoBox
    assets: Mapping[str, Path]
    """Layer code -> COG path (inside the output folder)."""
    properties: Mapping[str, Any] = field(default_factory=dict)


def item_path(out_dir: Path, item_id: str) -> Path:
    return out_dir / item_id / f"{item_id}.json"


def write_item(out_dir: Path, output: OutputItem) -> Path:
    """Write one item JSON next to its assets (atomically)."""
    path = item_path(out_dir, output.id)
    item = _stac_item(output, path.parent)
    _write_json(path, item)
    return path


def update_catalog(out_dir: Path, item_ids: Sequence[str], title: str = "baresoil outputs") -> Path:
    """Add items to ``out_dir/catalog.json`` (created if needed), keeping the items already there."""
    path = out_dir / "catalog.json"
    catalog = json.loads(path.read_text()) if path.exists() else _empty_catalog(title)
    links = [ln for ln in catalog["links"] if ln["rel"] != "item"]
    hrefs = {ln["href"] for ln in catalog["links"] if ln["rel"] == "item"}
    hrefs |= {f"./{item_id}/{item_id}.json" for item_id in item_ids}
    links += [
        {"rel": "item", "href": href, "type": "application/geo+json"}
        for href in sorted(hrefs)
        if (out_dir / href).exists()
    ]
    catalog["links"] = links
    _write_json(path, catalog)
    return path


def _empty_catalog(title: str) -> dict[str, Any]:
    return {
        "type": "Catalog",
        "stac_version": pystac.get_stac_version(),
        "id": CATALOG_ID,
        "title": title,
        "description": "Products of baresoil on the EEA reference grid (EPSG:3035).",
        "links": [{"rel": "root", "href": "./catalog.json", "type": "application/json"}],
    }


def _stac_item(output: OutputItem, folder: Path) -> dict[str, Any]:
    gbox = output.geobox
    footprint = gbox.extent.to_crs("EPSG:4326").geom
    start = datetime.combine(output.start, time.min, tzinfo=UTC)
    end = datetime.combine(output.end, time.max, tzinfo=UTC).replace(microsecond=0)
    properties = {
        "datetime": None,
        "start_datetime": start.isoformat().replace("+00:00", "Z"),
        "end_datetime": end.isoformat().replace("+00:00", "Z"),
        **_projection(gbox),
        **({"eea:tile": output.tile} if output.tile else {}),  # none on a grid of the user's own
        "baresoil:version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        **output.properties,
    }
    return {
        "type": "Feature",
        "stac_version": pystac.get_stac_version(),
        "stac_extensions": [PROJECTION_EXT, RASTER_EXT, FILE_EXT],
        "id": output.id,
        "geometry": mapping(footprint),
        "bbox": list(footprint.bounds),
        "properties": properties,
        "assets": {code: _asset(code, Path(p), folder, gbox) for code, p in output.assets.items()},
        "links": [
            {"rel": "root", "href": "../catalog.json", "type": "application/json"},
            {"rel": "parent", "href": "../catalog.json", "type": "application/json"},
        ],
    }


def _projection(gbox: GeoBox) -> dict[str, Any]:
    """``proj:code`` of the grid's CRS (EPSG:3035 for the EEA grid; a user's grid may be in another), or
    its WKT2 when it has no EPSG code."""
    crs = gbox.crs
    if crs is None or crs.epsg:
        return {"proj:code": f"EPSG:{crs.epsg if crs is not None else EEA_EPSG}"}
    return {"proj:code": None, "proj:wkt2": crs.to_wkt()}


def _asset(code: str, path: Path, folder: Path, gbox: GeoBox) -> dict[str, Any]:
    spec = layer(code)
    return {
        "href": os.path.relpath(path, folder),
        "type": pystac.MediaType.COG,
        "title": spec.title,
        "description": spec.description,
        "roles": ["data"],
        **_projection(gbox),
        "proj:shape": [gbox.height, gbox.width],
        "proj:transform": list(gbox.transform)[:6],
        "proj:bbox": list(box(*gbox.boundingbox).bounds),
        "raster:bands": spec.raster_bands(),
        "file:size": path.stat().st_size,
        **(
            {"classification:classes": [{"value": k, "description": v} for k, v in spec.classes.items()]}
            if spec.classes
            else {}
        ),
    }


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(data, indent=2, default=str))


# --- tables (parcel products): an item per run, its assets Parquet/CSV files ------------------

TABLE_EXT = "https://stac-extensions.github.io/table/v1.2.0/schema.json"


@dataclass(frozen=True)
class TableAsset:
    """One table file of an item."""

    path: Path
    title: str
    description: str
    media_type: str
    columns: Sequence[Mapping[str, Any]] = ()
    """STAC ``table:columns`` (see :func:`baresoil.io.tables.table_columns`)."""
    row_count: int | None = None
    primary_geometry: str | None = None
    """Name of the geometry column of a GeoParquet table."""


def write_table_item(
    out_dir: Path,
    item_id: str,
    footprint: Any,
    start: date,
    end: date,
    assets: Mapping[str, TableAsset],
    properties: Mapping[str, Any] | None = None,
) -> Path:
    """Write an item of table assets (``footprint``: a lon/lat shapely geometry) next to its files."""
    path = item_path(out_dir, item_id)
    start_dt = datetime.combine(start, time.min, tzinfo=UTC)
    end_dt = datetime.combine(end, time.max, tzinfo=UTC).replace(microsecond=0)
    item = {
        "type": "Feature",
        "stac_version": pystac.get_stac_version(),
        "stac_extensions": [TABLE_EXT, FILE_EXT],
        "id": item_id,
        "geometry": mapping(footprint),
        "bbox": list(footprint.bounds),
        "properties": {
            "datetime": None,
            "start_datetime": start_dt.isoformat().replace("+00:00", "Z"),
            "end_datetime": end_dt.isoformat().replace("+00:00", "Z"),
            "baresoil:version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            **(properties or {}),
        },
        "assets": {key: _table_asset(asset, path.parent) for key, asset in assets.items()},
        "links": [
            {"rel": "root", "href": "../catalog.json", "type": "application/json"},
            {"rel": "parent", "href": "../catalog.json", "type": "application/json"},
        ],
    }
    _write_json(path, item)
    return path


def _table_asset(asset: TableAsset, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "href": os.path.relpath(asset.path, folder),
        "type": asset.media_type,
        "title": asset.title,
        "description": asset.description,
        "roles": ["data"],
        "file:size": asset.path.stat().st_size,
    }
    if asset.columns:
        out["table:columns"] = [dict(c) for c in asset.columns]
    if asset.row_count is not None:
        out["table:row_count"] = int(asset.row_count)
    if asset.primary_geometry:
        out["table:primary_geometry"] = asset.primary_geometry
    return out
