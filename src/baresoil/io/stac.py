"""The output folder is a STAC catalog: a collection per product family, an item per tile and period.

```
OUT/catalog.json                      root catalog: a child link per collection
OUT/<family>/collection.json          collection ``baresoil-<family>``: extent, license, providers,
                                      item_assets (every layer the family writes), summaries
OUT/<item id>/<item id>.json          item: assets keyed by layer code
```

Items carry the projection (``proj:code``, shape, transform), ``raster:bands``
from the product registry (data type, nodata, scale, offset: any client reads
physical values), ``eo:bands`` with common names for the reflectance bands, the
classes and flags as ``classification:classes``, the period as
``start_datetime``/``end_datetime`` and a ``datetime`` of its own (the middle of
the period, see :func:`nominal_datetime`), and the run's provenance.  Every
extension used is declared.

Runs add to an existing catalog (one written before collections existed is
converted); collections and ``catalog.json`` are rewritten last, atomically, so
they only ever list items whose files are complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox
from shapely.geometry import box, mapping

from .. import __version__
from ..catalog.layouts import BAND_CENTRE_NM, COMMON_NAME
from ..errors import OutputError
from ..grid import EEA_EPSG
from ..products.registry import Layer, class_name, layer, layers
from .atomic import atomic_path

PROJECTION_EXT = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
EO_EXT = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
CLASSIFICATION_EXT = "https://stac-extensions.github.io/classification/v2.0.0/schema.json"
FILE_EXT = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
TABLE_EXT = "https://stac-extensions.github.io/table/v1.2.0/schema.json"
EXTENSION_FIELDS = {
    PROJECTION_EXT: "proj:",
    RASTER_EXT: "raster:",
    EO_EXT: "eo:",
    CLASSIFICATION_EXT: "classification:",
    FILE_EXT: "file:",
    TABLE_EXT: "table:",
}
"""Each extension and the prefix of its fields: an extension is declared where its fields are used."""

CATALOG_ID = "baresoil-outputs"
CATALOG_FILE = "catalog.json"
COLLECTION_FILE = "collection.json"

FAMILIES: dict[str, str] = {
    "observations": "Observation cube",
    "soilsuite": "SoilSuite composites",
    "seasons": "Crop seasons and bare-soil periods",
    "parcels": "Parcel monitoring",
    "soil": "Soil property maps",
}
"""Family -> title (of its collection and its section of the report), in the order of the data flow."""
FAMILY_NOTES: dict[str, str] = {
    "observations": "Scenes, clear-sky and snow observations per pixel: the denominator of every frequency.",
    "soilsuite": "Per-observation bare-surface detection and bare-soil composites, as DLR's SCMaP.",
    "seasons": "The HRL VLCC cropping-pattern layers of a reference year, with confidence in days.",
    "parcels": "Per-parcel markers and analytics as Sen4CAP.",
    "soil": "Soil property maps with uncertainty from samples and the SoilSuite composites.",
}

LICENSE = "other"
"""The outputs derive from Copernicus Sentinel data, free to use under the EU's legal notice (linked)."""
LICENSE_LINK = {
    "rel": "license",
    "href": "https://sentinels.copernicus.eu/documents/247904/690755/Sentinel_Data_Legal_Notice",
    "type": "application/pdf",
    "title": "Legal notice on the use of Copernicus Sentinel Data and Service Information",
}
PROVIDERS = (
    {
        "name": "European Union, Copernicus programme (ESA Sentinel-2, Sentinel-1)",
        "roles": ["producer", "licensor"],
        "url": "https://www.copernicus.eu",
    },
    {
        "name": "baresoil",
        "roles": ["processor"],
        "description": "Bare-soil products from Sentinel-2 time series, on the EEA reference grid.",
    },
)
ITEM_ONLY_FIELDS = (
    "href",
    "file:size",
    "proj:code",
    "proj:wkt2",
    "proj:shape",
    "proj:transform",
    "proj:bbox",
    "table:row_count",
)
"""Asset fields particular to one item, left out of a collection's ``item_assets`` (a family's items may
lie on different grids: soil maps on a grid of the user's, in its CRS)."""


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


def collection_id(family: str) -> str:
    return f"baresoil-{family}"


def collection_path(out_dir: Path, family: str) -> Path:
    return out_dir / family / COLLECTION_FILE


def nominal_datetime(start: date, end: date) -> datetime:
    """An item's ``datetime``: the middle of its period, plus one second per day of the period.

    Clients stack items by ``datetime`` (odc-stac groups items of equal time into one slice), so
    items of different periods need different ones.  The middle alone would not do: a three-year
    period and its middle year share it.  The seconds added (365 for a year, under 12 h for any
    period of a century) tell them apart and leave the day, the month and the year as they are.
    """
    days = (end - start).days + 1
    middle = datetime.combine(start, time.min, tzinfo=UTC) + timedelta(days=days / 2)
    return middle + timedelta(seconds=days)


def period_properties(start: date, end: date) -> dict[str, str]:
    """``datetime``, ``start_datetime`` and ``end_datetime`` of a period of whole days."""
    first = datetime.combine(start, time.min, tzinfo=UTC)
    last = datetime.combine(end, time.max, tzinfo=UTC).replace(microsecond=0)
    return {
        "datetime": _iso(nominal_datetime(start, end)),
        "start_datetime": _iso(first),
        "end_datetime": _iso(last),
    }


def write_item(out_dir: Path, output: OutputItem) -> Path:
    """Write one item JSON next to its assets (atomically)."""
    path = item_path(out_dir, output.id)
    item = _stac_item(output, path.parent)
    _write_json(path, item)
    return path


def update_catalog(out_dir: Path, item_ids: Sequence[str], title: str = "baresoil outputs") -> Path:
    """Add items to ``out_dir``'s catalog (created if needed), keeping the items already there.

    The collections of the new items' families are rewritten with every item they hold; a catalog
    that lists its items directly (written before collections existed) is converted.
    """
    path = out_dir / CATALOG_FILE
    catalog = _read_json(path) if path.exists() else _empty_catalog(title)
    links = catalog.get("links", [])
    direct = [_under(path, ln["href"]) for ln in links if ln["rel"] == "item"]
    children = {_under(path, ln["href"]).parent.name for ln in links if ln["rel"] == "child"}
    arriving = [p for p in [*direct, *(item_path(out_dir, i) for i in item_ids)] if p.exists()]
    family_of = {p: _family(_read_json(p)) for p in arriving}
    for family in sorted(set(family_of.values())):
        members = {p for p in _collection_item_paths(out_dir, family) if p.exists()}
        members |= {p for p, f in family_of.items() if f == family}
        _write_collection(out_dir, family, sorted(members))
        children.add(family)
    catalog["links"] = [
        {"rel": "root", "href": f"./{CATALOG_FILE}", "type": "application/json"},
        *(
            {
                "rel": "child",
                "href": f"./{family}/{COLLECTION_FILE}",
                "type": "application/json",
                "title": FAMILIES.get(family, family),
            }
            for family in sorted(children, key=_family_order)
        ),
    ]
    _write_json(path, catalog)
    return path


def output_item_paths(out_dir: Path) -> list[Path]:
    """The item files of ``out_dir``'s catalog, through its collections (none without a catalog)."""
    path = out_dir / CATALOG_FILE
    if not path.exists():
        return []
    catalog = _read_json(path)
    found: list[Path] = []
    for link in catalog.get("links", []):
        target = _under(path, link["href"])
        if link.get("rel") == "item":  # a catalog written before collections existed
            found.append(target)
        elif link.get("rel") == "child":
            if not target.exists():
                raise OutputError(f"{path}: collection {link['href']} is listed but missing")
            collection = _read_json(target)
            found += [_under(target, ln["href"]) for ln in collection.get("links", []) if ln["rel"] == "item"]
    for item in found:
        if not item.exists():
            raise OutputError(f"{path}: item {os.path.relpath(item, out_dir)} is listed but missing")
    return found


def load_outputs(items: Sequence[pystac.Item], bands: Sequence[str], **load_options: Any) -> xr.Dataset:
    """Output items loaded with ``odc.stac.load``, as physical values: float32, NaN for nodata and flags.

    ``bands`` are layer codes (``BSF``) and bands of multi-band layers (``SRC_MEAN.B04``); items of
    different periods are different time slices.  odc-stac itself returns the stored values (it does not
    apply the ``raster:bands`` scale and offset, opendatacube/odc-stac#55); the registry decodes them.
    """
    import odc.stac

    stored = odc.stac.load(list(items), bands=list(bands), **load_options)
    return stored.map(_decoded, keep_attrs=False)


def _decoded(stored: xr.DataArray) -> xr.DataArray:
    code = str(stored.name)
    spec = layer(code if "." not in code else code.rsplit(".", 1)[0])
    values = xr.apply_ufunc(spec.decode, stored, dask="parallelized", output_dtypes=[np.float64])
    return values.astype(np.float32).assign_attrs(units=spec.unit or "1", layer=spec.code)


# --- raster assets, from the registry -------------------------------------------------------------


def raster_asset_fields(spec: Layer) -> dict[str, Any]:
    """What every asset of a layer says, in items and in its collection's ``item_assets``."""
    fields: dict[str, Any] = {
        "type": pystac.MediaType.COG,
        "title": spec.title,
        "description": spec.description,
        "roles": ["data"],
        "raster:bands": spec.raster_bands(),
    }
    if spec.bands:
        fields["eo:bands"] = [_eo_band(spec, name) for name in spec.bands]
    classes = classification_classes(spec)
    if classes:
        fields["classification:classes"] = classes
    return fields


def band_key(spec: Layer, band: str) -> str:
    """The name of one band of a multi-band layer, ``SRC_MEAN.B04``: what odc-stac loads it by."""
    return f"{spec.code}.{band}"


def classification_classes(spec: Layer) -> list[dict[str, Any]]:
    """Classes and flags of a layer, and its nodata, as STAC ``classification:classes``."""
    if not (spec.classes or spec.flags):
        return []
    colours = {**spec.class_colours(), **spec.flag_colours()}
    meanings = {**spec.classes, **spec.flags}
    classes: list[dict[str, Any]] = [
        {
            "value": value,
            "name": class_name(meaning),
            "description": meaning,
            "color_hint": colours[value].lstrip("#").upper(),
        }
        for value, meaning in sorted(meanings.items())
    ]
    classes.append({"value": int(spec.nodata), "name": "nodata", "description": "no data", "nodata": True})
    return classes


def _eo_band(spec: Layer, band: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": band_key(spec, band), "description": f"{band}, {spec.title.lower()}"}
    if band in COMMON_NAME:
        entry["common_name"] = COMMON_NAME[band]
    if band in BAND_CENTRE_NM:
        entry["center_wavelength"] = BAND_CENTRE_NM[band] / 1000
    return entry


def _projection(gbox: GeoBox) -> dict[str, Any]:
    """``proj:code`` of the grid's CRS (EPSG:3035 for the EEA grid; a user's grid may be in another), or
    its WKT2 when it has no EPSG code."""
    crs = gbox.crs
    if crs is None or crs.epsg:
        return {"proj:code": f"EPSG:{crs.epsg if crs is not None else EEA_EPSG}"}
    return {"proj:code": None, "proj:wkt2": crs.to_wkt()}


def _asset(code: str, path: Path, folder: Path, gbox: GeoBox) -> dict[str, Any]:
    return {
        "href": os.path.relpath(path, folder),
        **raster_asset_fields(layer(code)),
        **_projection(gbox),
        "proj:shape": [gbox.height, gbox.width],
        "proj:transform": list(gbox.transform)[:6],
        "proj:bbox": list(box(*gbox.boundingbox).bounds),
        "file:size": path.stat().st_size,
    }


def _stac_item(output: OutputItem, folder: Path) -> dict[str, Any]:
    gbox = output.geobox
    footprint = gbox.extent.to_crs("EPSG:4326").geom
    properties = {
        **period_properties(output.start, output.end),
        **_projection(gbox),
        **({"eea:tile": output.tile} if output.tile else {}),  # none on a grid of the user's own
        "baresoil:version": __version__,
        "created": _iso(datetime.now(UTC).replace(microsecond=0)),
        **output.properties,
    }
    family = str(properties.get("baresoil:family") or layer(next(iter(output.assets))).family)
    assets = {code: _asset(code, Path(p), folder, gbox) for code, p in output.assets.items()}
    return _item(output.id, family, footprint, properties, assets)


def _item(
    item_id: str, family: str, footprint: Any, properties: Mapping[str, Any], assets: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": pystac.get_stac_version(),
        "stac_extensions": _extensions_used([properties, *assets.values()]),
        "id": item_id,
        "collection": collection_id(family),
        "geometry": mapping(footprint),
        "bbox": list(footprint.bounds),
        "properties": dict(properties),
        "assets": dict(assets),
        "links": _item_links(family),
    }


def _item_links(family: str) -> list[dict[str, str]]:
    collection = f"../{family}/{COLLECTION_FILE}"
    return [
        {"rel": "root", "href": f"../{CATALOG_FILE}", "type": "application/json"},
        {"rel": "parent", "href": collection, "type": "application/json"},
        {"rel": "collection", "href": collection, "type": "application/json"},
    ]


# --- collections ----------------------------------------------------------------------------------


def _write_collection(out_dir: Path, family: str, members: Sequence[Path]) -> None:
    path = collection_path(out_dir, family)
    items = [_read_json(p) for p in members]
    for member, item in zip(members, items, strict=True):
        _adopt(member, item, family)
    previous = _read_json(path).get("item_assets", {}) if path.exists() else {}
    collection = _collection(family, items, _item_assets(family, items, previous))
    collection["links"] += [
        {"rel": "item", "href": os.path.relpath(p, path.parent), "type": "application/geo+json"}
        for p in members
    ]
    _write_json(path, collection)


def _collection(
    family: str, items: Sequence[Mapping[str, Any]], item_assets: dict[str, Any]
) -> dict[str, Any]:
    starts = [datetime.fromisoformat(it["properties"]["start_datetime"]) for it in items]
    ends = [datetime.fromisoformat(it["properties"]["end_datetime"]) for it in items]
    boxes = [it["bbox"] for it in items]
    years = sorted({s.year for s in starts} | {e.year for e in ends})
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
    collection = pystac.Collection(
        id=collection_id(family),
        title=f"baresoil: {FAMILIES.get(family, family)}",
        description=(
            f"{FAMILY_NOTES.get(family, family)} {_grid_note(items)} "
            f"Contains modified Copernicus Sentinel data [{span}] processed by baresoil."
        ),
        extent=pystac.Extent(
            pystac.SpatialExtent(
                [
                    [
                        min(b[0] for b in boxes),
                        min(b[1] for b in boxes),
                        max(b[2] for b in boxes),
                        max(b[3] for b in boxes),
                    ]
                ]
            ),
            pystac.TemporalExtent([[min(starts), max(ends)]]),
        ),
        license=LICENSE,
        providers=[pystac.Provider.from_dict(dict(p)) for p in PROVIDERS],
        summaries=pystac.Summaries(_summaries(items)),
    )
    collection.item_assets = {key: pystac.ItemAssetDefinition(value) for key, value in item_assets.items()}
    data = collection.to_dict(include_self_link=False, transform_hrefs=False)
    data["stac_extensions"] = _extensions_used([data.get("summaries", {}), *item_assets.values()])
    data["links"] = [
        {"rel": "root", "href": f"../{CATALOG_FILE}", "type": "application/json"},
        {"rel": "parent", "href": f"../{CATALOG_FILE}", "type": "application/json"},
        dict(LICENSE_LINK),
    ]
    return data


def _grid_note(items: Sequence[Mapping[str, Any]]) -> str:
    """Which grids the family's items are on: the EEA reference grid, or that of a raster of the user's
    (``--grid``, a soil map's) in its own CRS.  Items of tables (parcels) carry no projection: the
    parcels are rasterised on the EEA grid."""
    rasters = [it["properties"] for it in items if "proj:code" in it["properties"]]
    on_tiles = ["eea:tile" in props for props in rasters]
    if all(on_tiles):
        return f"On the EEA reference grid (EPSG:{EEA_EPSG})."
    crs = sorted({str(props["proj:code"] or "a CRS without EPSG code") for props in rasters})
    grids = "the EEA reference grid and the grid" if any(on_tiles) else "the grid"
    return f"On {grids} of a raster given by the user ({', '.join(crs)})."


def _item_assets(
    family: str, items: Sequence[Mapping[str, Any]], previous: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Every asset the family's items may hold: the registry's layers of the family (those made at run
    time, such as a soil property's, included once an item holds them), and the other assets (tables)
    as the items and the collection so far describe them."""
    found: dict[str, dict[str, Any]] = {key: dict(value) for key, value in previous.items()}
    for item in items:
        for key, asset in item.get("assets", {}).items():
            found[key] = {
                k: v for k, v in asset.items() if k not in ITEM_ONLY_FIELDS and k != "table:columns"
            }
    specs = [spec for spec in map(_registered, found) if spec is not None and spec.family == family]
    for spec in [*(spec for spec in layers(family) if spec.listed), *specs]:
        found[spec.code] = raster_asset_fields(spec)
    return found


def _registered(code: str) -> Layer | None:
    """The registry's layer of an asset key (a run-time layer's registered on first use), or None (tables)."""
    try:
        return layer(code)
    except KeyError:
        return None


def _summaries(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    summaries: dict[str, Any] = {}
    gsd = sorted({it["properties"]["gsd"] for it in items if "gsd" in it["properties"]})
    if gsd:
        summaries["gsd"] = gsd
    codes = sorted({str(it["properties"]["proj:code"]) for it in items if it["properties"].get("proj:code")})
    if codes:
        summaries["proj:code"] = codes
    return summaries


def _adopt(path: Path, item: dict[str, Any], family: str) -> None:
    """Point an item at its collection (rewriting one written before collections existed)."""
    if item.get("collection") == collection_id(family) and item.get("links") == _item_links(family):
        return
    item["collection"] = collection_id(family)
    item["links"] = _item_links(family)
    if "datetime" in item["properties"] and item["properties"]["datetime"] is None:
        start = date.fromisoformat(item["properties"]["start_datetime"][:10])
        end = date.fromisoformat(item["properties"]["end_datetime"][:10])
        item["properties"]["datetime"] = period_properties(start, end)["datetime"]
    item["stac_extensions"] = _extensions_used([item["properties"], *item["assets"].values()])
    _write_json(path, item)


def _collection_item_paths(out_dir: Path, family: str) -> list[Path]:
    path = collection_path(out_dir, family)
    if not path.exists():
        return []
    links = _read_json(path).get("links", [])
    return [_under(path, ln["href"]) for ln in links if ln["rel"] == "item"]


def _under(document: Path, href: str) -> Path:
    """The file a relative link of ``document`` points to."""
    return Path(os.path.normpath(document.parent / href))


def _family(item: Mapping[str, Any]) -> str:
    family = item.get("properties", {}).get("baresoil:family")
    if family:
        return str(family)
    for code in item.get("assets", {}):
        spec = _registered(code)
        if spec is not None:
            return spec.family
    return str(item["id"]).split("_", 1)[0]


def _family_order(family: str) -> tuple[int, str]:
    order = list(FAMILIES)
    return (order.index(family) if family in order else len(order), family)


def _empty_catalog(title: str) -> dict[str, Any]:
    return {
        "type": "Catalog",
        "stac_version": pystac.get_stac_version(),
        "id": CATALOG_ID,
        "title": title,
        "description": (
            "Products of baresoil on the EEA reference grid (EPSG:3035), or on a grid of the user's for soil "
            "maps, a collection per family."
        ),
        "links": [],
    }


def _extensions_used(parts: Iterable[Mapping[str, Any]]) -> list[str]:
    keys = {key for part in parts for key in _keys(part)}
    return [uri for uri, prefix in EXTENSION_FIELDS.items() if any(k.startswith(prefix) for k in keys)]


def _keys(value: Any) -> Iterable[str]:
    """Every key of a JSON value, nested ones included (the fields of bands and classes)."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc
    return data


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(data, indent=2, default=str))


# --- tables (parcel products): an item per run, its assets Parquet/CSV files ------------------


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
    props = {
        **period_properties(start, end),
        "baresoil:version": __version__,
        "created": _iso(datetime.now(UTC).replace(microsecond=0)),
        **(properties or {}),
    }
    family = str(props.get("baresoil:family") or item_id.split("_", 1)[0])
    table_assets = {key: _table_asset(asset, path.parent) for key, asset in assets.items()}
    _write_json(path, _item(item_id, family, footprint, props, table_assets))
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
