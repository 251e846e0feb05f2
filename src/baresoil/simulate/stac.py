"""Static STAC catalogs of the scenes, one per provider layout, as each provider publishes today.

Each layout copies its provider's habits field by field, because those are what a
reader must cope with (sources in ``docs/observations/providers.md``):

* ``earth-search``: Earth Search v1 ``sentinel-2-c1-l2a``, keys ``red``, ``scl`` …, scale and
  offset in ``raster:bands``, ``view:sun_elevation``, ``s2:processing_baseline``;
* ``earth-search-l2a``: Earth Search v1 ``sentinel-2-l2a``, the same keys, but from baseline
  04.00 on the DN are harmonised (BOA_ADD_OFFSET already added) and the item says so with
  ``earthsearch:boa_offset_applied: true`` while ``raster:bands`` still declares offset -0.1;
* ``planetary-computer``: keys ``B04`` …, no scale or offset anywhere, the mean solar zenith
  instead of the elevation, ``Sentinel-2A`` capitalised;
* ``cdse``: keys ``B04_10m`` …, STAC 1.1 fields on the asset (``raster:scale``,
  ``raster:offset``, ``nodata``, ``data_type``, ``bands``) and no ``raster:bands``,
  ``processing:version``.

All layouts point at the same COGs, except the harmonised DN of ``earth-search-l2a`` from
baseline 04.00 on, which are written beside them (``scenes/<scene>/harmonised/``); that catalog
stops 90 days after the world's first 04.00 acquisition.  Asset keys come from the alias table in
:mod:`baresoil.catalog.layouts`, never typed here.

Catalogs are written to a temporary folder beside the final one and renamed into place,
last of all the simulation's outputs.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import rasterio
from pyproj import Transformer

from ..catalog.layouts import (
    BAND_CENTRE_NM,
    CDSE,
    DN_NODATA,
    DN_SCALE,
    EARTH_SEARCH,
    EARTH_SEARCH_L2A,
    PLANETARY_COMPUTER,
    SCL,
    Layout,
    baseline_offset,
    parse_baseline,
)
from .files import write_raster
from .render import BandFile, SceneRecord
from .spec import WorldSpec

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
COMMON_NAMES = {
    "B02": "blue", "B03": "green", "B04": "red", "B05": "rededge", "B06": "rededge", "B07": "rededge",
    "B08": "nir", "B8A": "nir08", "B11": "swir16", "B12": "swir22",
}  # fmt: skip
TILE_TIME_STEP = timedelta(milliseconds=400)
"""Same-day items of neighbouring tiles differ by a fraction of a second, as in a datatake."""
HARMONISED_DIR = "harmonised"
"""Sub-folder of a scene holding the DN Earth Search's ``sentinel-2-l2a`` serves from baseline 04.00."""
SCHEMAS = {
    "view": "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "grid": "https://stac-extensions.github.io/grid/v1.1.0/schema.json",
    "mgrs": "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "eo1": "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "eo2": "https://stac-extensions.github.io/eo/v2.0.0/schema.json",
    "proj1": "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "proj2": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "raster1": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "raster2": "https://stac-extensions.github.io/raster/v2.0.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "s2": "https://stac-extensions.github.io/sentinel-2/v1.0.0/schema.json",
    "product": "https://stac-extensions.github.io/product/v0.1.0/schema.json",
}

SIMULATED_LAYOUTS: tuple[Layout, ...] = (EARTH_SEARCH, EARTH_SEARCH_L2A, PLANETARY_COMPUTER, CDSE)
"""The layouts a simulation is catalogued in (Earth Search v0 is retired: read, not written)."""


HARMONISED_SPAN = timedelta(days=90)
"""How long after its first 04.00 acquisition a world is catalogued in ``earth-search-l2a``."""


def write_catalogs(root: Path, spec: WorldSpec, records: Sequence[SceneRecord]) -> dict[str, Path]:
    """One static catalog per simulated layout under ``root/stac/<layout>/catalog.json``."""
    to_lonlat = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    out = {}
    for layout in SIMULATED_LAYOUTS:
        if layout is EARTH_SEARCH_L2A:
            chosen = harmonised_records(records)
            files = [write_harmonised(record, spec.epsg) for record in chosen]
        else:
            chosen, files = list(records), [record.bands for record in records]
        items = [_item(layout, spec, r, f, to_lonlat) for r, f in zip(chosen, files, strict=True)]
        out[layout.name] = save_catalog(_catalog(layout, spec, items), root / "stac" / layout.name)
    return out


def harmonised_records(records: Sequence[SceneRecord]) -> list[SceneRecord]:
    """The records ``earth-search-l2a`` catalogues: all before 04.00 and the first 90 days after.

    Its DN differ from the archive's from 04.00 on, so each such item costs ten more COGs; the
    first three months show the switch (both sides, several items) at a fraction of the full span.
    """
    switched = [r.acquisition.date for r in records if r.acquisition.offset_dn > 0]
    if not switched:
        return list(records)
    until = min(switched) + HARMONISED_SPAN
    return [r for r in records if r.acquisition.date <= until]


def write_harmonised(record: SceneRecord, epsg: int) -> Mapping[str, BandFile]:
    """The record's band files as Earth Search ``sentinel-2-l2a`` serves them.

    From baseline 04.00 on, Element 84 added BOA_ADD_OFFSET to the DN (DN − 1000), so they read
    like the archive before 04.00; uint16 cannot hold the negative reflectance of the darkest
    pixels, which stay at 1 (0 is nodata).  Before 04.00, and for SCL, the files are shared.
    """
    offset_dn = record.acquisition.offset_dn
    if offset_dn == 0:
        return record.bands
    out = dict(record.bands)
    for band, file in record.bands.items():
        if band == SCL:
            continue
        with rasterio.open(file.path) as src:
            dn = src.read(1)
        harmonised = np.where(dn == DN_NODATA, DN_NODATA, np.clip(dn.astype(np.int32) - offset_dn, 1, None))
        path = file.path.parent / HARMONISED_DIR / file.path.name
        write_raster(path, harmonised.astype(np.uint16), file.transform, epsg, DN_NODATA, cog=True)
        out[band] = dataclasses.replace(file, path=path)
    return out


def _catalog(layout: Layout, spec: WorldSpec, items: list[pystac.Item]) -> pystac.Catalog:
    catalog = pystac.Catalog(
        id=f"baresoil-simulation-{layout.name}",
        description=f"Simulated Sentinel-2 L2A scenes as published by {layout.title} (seed {spec.seed}).",
        title=f"baresoil simulation ({layout.title} layout)",
    )
    catalog.add_child(
        simulated_collection(layout.collections[0], "Sentinel-2 Level-2A surface reflectance (simulated).",
                             "Sentinel-2 Level-2A", items)
    )  # fmt: skip
    return catalog


def simulated_collection(
    collection_id: str, description: str, title: str, items: Sequence[pystac.Item]
) -> pystac.Collection:
    """A collection of ``items`` whose extent is theirs."""
    bboxes = [item.bbox for item in items if item.bbox]
    spatial = (
        [
            min(b[0] for b in bboxes),
            min(b[1] for b in bboxes),
            max(b[2] for b in bboxes),
            max(b[3] for b in bboxes),
        ]
        if bboxes
        else [-180.0, -90.0, 180.0, 90.0]
    )
    times = [item.datetime for item in items if item.datetime]
    temporal: list[datetime | None] = [min(times), max(times)] if times else [None, None]
    collection = pystac.Collection(
        id=collection_id,
        description=description,
        extent=pystac.Extent(pystac.SpatialExtent([spatial]), pystac.TemporalExtent([temporal])),
        license="proprietary",
        title=title,
    )
    collection.add_items(list(items))
    return collection


def save_catalog(catalog: pystac.Catalog, final: Path) -> Path:
    """Save under a temporary sibling folder, then swap it in (relative hrefs survive the rename)."""
    tmp = final.with_name(".partial-" + final.name)  # no dotted suffix: pystac would take it for a file
    shutil.rmtree(tmp, ignore_errors=True)
    catalog.normalize_hrefs(str(tmp))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final / "catalog.json"


def _item(
    layout: Layout,
    spec: WorldSpec,
    record: SceneRecord,
    files: Mapping[str, BandFile],
    to_lonlat: Transformer,
) -> pystac.Item:
    x0, y0, x1, y1 = record.bounds
    outline = record.footprint or ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    lons, lats = to_lonlat.transform([x for x, _ in outline], [y for _, y in outline])
    ring = [[round(lon, 7), round(lat, 7)] for lon, lat in zip(lons, lats, strict=True)]
    when = (record.acquisition.datetime + record.tile_index * TILE_TIME_STEP).astimezone(UTC)
    provider = PROVIDERS[layout.name]
    item = pystac.Item(
        id=provider.item_id(record, when),
        geometry={"type": "Polygon", "coordinates": [ring]},
        bbox=[min(lons), min(lats), max(lons), max(lats)],
        datetime=when,
        properties={
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "eo:cloud_cover": record.cloud_cover,
        },
        collection=layout.collections[0],
    )
    provider.properties(item, spec, record)
    item.stac_extensions = [SCHEMAS[name] for name in provider.schemas]
    for band, file in files.items():
        asset = pystac.Asset(
            href=str(file.path.resolve()),
            media_type=COG_MEDIA_TYPE,
            roles=["data", "reflectance"],
            title=_title(band, file.resolution),
            extra_fields={"gsd": float(file.resolution), **_projection(provider, file, spec.epsg)},
        )
        asset.extra_fields.update(provider.radiometry(band, file, record.acquisition.baseline))
        item.add_asset(layout.asset_key(band), asset)
    return item


@dataclasses.dataclass(frozen=True)
class _Provider:
    """How one provider writes an item: its id, properties, projection and radiometry fields."""

    item_id: Callable[[SceneRecord, datetime], str]
    properties: Callable[[pystac.Item, WorldSpec, SceneRecord], None]
    radiometry: Callable[[str, BandFile, str], dict[str, Any]]
    schemas: tuple[str, ...]
    projection_v2: bool
    """``proj:code`` (projection extension 2.0, STAC 1.1) rather than ``proj:epsg`` (1.x)."""


def _projection(provider: _Provider, file: BandFile, epsg: int) -> dict[str, Any]:
    """The asset's grid; projection 2.0 (CDSE) names the CRS on the asset, 1.x on the item."""
    height, width = file.shape
    t = file.transform
    fields: dict[str, Any] = {"proj:shape": [height, width], "proj:transform": list(t)[:6]}
    if provider.projection_v2:
        fields["proj:code"] = f"EPSG:{epsg}"
        fields["proj:bbox"] = [t.c, t.f + t.e * height, t.c + t.a * width, t.f]
    return fields


# --- Earth Search v1 ---------------------------------------------------------------------------


def _earth_search_c1_id(record: SceneRecord, when: datetime) -> str:
    """``S2B_T32UPU_20220125T102321_L2A``: the tile with its T and the sensing time."""
    return f"{record.acquisition.unit}_T{record.tile.code}_{when:%Y%m%dT%H%M%S}_L2A"


def _earth_search_properties(item: pystac.Item, spec: WorldSpec, record: SceneRecord) -> None:
    acq = record.acquisition
    item.properties.update(
        {
            "platform": acq.platform,
            "proj:epsg": spec.epsg,
            "mgrs:utm_zone": int(record.tile.code[:2]),
            "mgrs:latitude_band": record.tile.code[2],
            "mgrs:grid_square": record.tile.code[3:],
            "grid:code": record.tile.grid_code,
            "view:sun_azimuth": acq.sun_azimuth,
            "view:sun_elevation": acq.sun_elevation,
            "s2:product_type": "S2MSI2A",
            "s2:processing_baseline": acq.baseline,
            "s2:product_uri": record.ids.cdse + ".SAFE",
        }
    )


def _earth_search_l2a_properties(item: pystac.Item, spec: WorldSpec, record: SceneRecord) -> None:
    _earth_search_properties(item, spec, record)
    item.properties["earthsearch:boa_offset_applied"] = record.acquisition.offset_dn > 0


def _raster_bands(band: str, file: BandFile, baseline: str) -> dict[str, Any]:
    """Earth Search: one ``raster:bands`` entry; the offset is the baseline's even where the DN
    were harmonised (the flag, not this entry, tells those apart)."""
    if band == SCL:
        entry: dict[str, Any] = {"nodata": 0, "data_type": "uint8", "spatial_resolution": file.resolution}
    else:
        entry = {
            "nodata": 0,
            "data_type": "uint16",
            "bits_per_sample": 15,
            "spatial_resolution": file.resolution,
            "scale": DN_SCALE,
            "offset": baseline_offset(parse_baseline(baseline)),
        }
    return {"raster:bands": [entry], **_eo_bands(band)}


def _eo_bands(band: str) -> dict[str, Any]:
    if band == SCL:
        return {}
    wavelength = BAND_CENTRE_NM[band] / 1000
    return {"eo:bands": [{"name": band, "common_name": COMMON_NAMES[band], "center_wavelength": wavelength}]}


# --- Planetary Computer ------------------------------------------------------------------------


def _planetary_computer_properties(item: pystac.Item, spec: WorldSpec, record: SceneRecord) -> None:
    acq = record.acquisition
    item.properties.update(
        {
            "platform": "Sentinel-2" + acq.platform[-1].upper(),
            "constellation": "Sentinel 2",
            "proj:epsg": spec.epsg,
            "s2:mgrs_tile": record.tile.code,
            "s2:product_type": "S2MSI2A",
            "s2:processing_baseline": acq.baseline,
            "s2:mean_solar_zenith": round(acq.sun_zenith, 4),
            "s2:mean_solar_azimuth": acq.sun_azimuth,
            "sat:relative_orbit": spec.relative_orbit,
            "sat:orbit_state": "descending",
        }
    )


def _no_radiometry(band: str, file: BandFile, baseline: str) -> dict[str, Any]:
    """Planetary Computer declares neither scale nor offset: readers must know the baseline."""
    return _eo_bands(band)


# --- Copernicus Data Space Ecosystem -----------------------------------------------------------


def _cdse_properties(item: pystac.Item, spec: WorldSpec, record: SceneRecord) -> None:
    acq = record.acquisition
    item.properties.update(
        {
            "platform": acq.platform,
            "processing:version": acq.baseline,
            "processing:level": "L2",
            "product:type": "S2MSI2A",
            "grid:code": record.tile.grid_code,
            "view:sun_azimuth": acq.sun_azimuth,
            "view:sun_elevation": acq.sun_elevation,
            "sat:relative_orbit": spec.relative_orbit,
            "sat:orbit_state": "descending",
        }
    )


def _stac11_fields(band: str, file: BandFile, baseline: str) -> dict[str, Any]:
    """CDSE: STAC 1.1 fields on the asset and a common ``bands`` entry; no ``raster:bands``."""
    if band == SCL:
        return {"data_type": "uint8", "nodata": 0, "bands": [{"name": SCL}]}
    return {
        "data_type": "uint16",
        "nodata": 0,
        "raster:scale": DN_SCALE,
        "raster:offset": baseline_offset(parse_baseline(baseline)),
        "raster:spatial_resolution": file.resolution,
        "bands": [
            {
                "name": band,
                "eo:common_name": COMMON_NAMES[band],
                "eo:center_wavelength": BAND_CENTRE_NM[band] / 1000,
            }
        ],
    }


PROVIDERS: dict[str, _Provider] = {
    EARTH_SEARCH.name: _Provider(
        _earth_search_c1_id, _earth_search_properties, _raster_bands,
        ("eo1", "grid", "mgrs", "processing", "proj1", "raster1", "s2", "view"), projection_v2=False,
    ),
    EARTH_SEARCH_L2A.name: _Provider(
        lambda record, when: record.ids.earth_search, _earth_search_l2a_properties, _raster_bands,
        ("eo1", "grid", "mgrs", "processing", "proj1", "raster1", "s2", "view"), projection_v2=False,
    ),
    PLANETARY_COMPUTER.name: _Provider(
        lambda record, when: record.ids.planetary_computer, _planetary_computer_properties, _no_radiometry,
        ("eo1", "proj1", "sat", "s2"), projection_v2=False,
    ),
    CDSE.name: _Provider(
        lambda record, when: record.ids.cdse, _cdse_properties, _stac11_fields,
        ("eo2", "grid", "processing", "product", "proj2", "raster2", "sat", "view"), projection_v2=True,
    ),
}  # fmt: skip


def _title(band: str, resolution: int) -> str:
    if band == SCL:
        return f"Scene classification map (SCL) - {resolution}m"
    name = COMMON_NAMES[band]
    return f"{name.capitalize()} ({band}) - {resolution}m"
