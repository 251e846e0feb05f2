"""Static STAC catalogs of the scenes, one per provider layout, all pointing at the same COGs.

Each layout copies its provider's habits, because those are what a reader
must cope with: Earth Search (``red``, ``scl`` … with ``raster:bands``
scale/offset), Planetary Computer (``B04`` …, no scale/offset, sun zenith
instead of elevation, ``Sentinel-2A`` capitalised) and CDSE (``B04_10m`` …,
``processing:version``).  Asset keys come from the alias table in
:mod:`baresoil.catalog.layouts`, never typed here.

Catalogs are written to a temporary folder beside the final one and renamed
into place, last of all the simulation's outputs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pystac
from pyproj import Transformer
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.grid import GridExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension
from pystac.extensions.view import ViewExtension

from ..catalog.layouts import (
    BAND_CENTRE_NM,
    CDSE,
    DN_SCALE,
    EARTH_SEARCH,
    LAYOUTS,
    PLANETARY_COMPUTER,
    SCL,
    Layout,
    baseline_offset,
    parse_baseline,
)
from .render import BandFile, SceneRecord
from .spec import WorldSpec

COLLECTION_ID = "sentinel-2-l2a"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
PROCESSING_SCHEMA = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
COMMON_NAMES = {
    "B02": "blue", "B03": "green", "B04": "red", "B05": "rededge", "B06": "rededge", "B07": "rededge",
    "B08": "nir", "B8A": "nir08", "B11": "swir16", "B12": "swir22",
}  # fmt: skip
TILE_TIME_STEP = timedelta(milliseconds=400)
"""Same-day items of neighbouring tiles differ by a fraction of a second, as in a datatake."""


def write_catalogs(root: Path, spec: WorldSpec, records: Sequence[SceneRecord]) -> dict[str, Path]:
    """One static catalog per layout under ``root/stac/<layout>/catalog.json``."""
    to_lonlat = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    out = {}
    for layout in LAYOUTS:
        catalog = _catalog(layout, spec, [_item(layout, spec, r, to_lonlat) for r in records])
        out[layout.name] = save_catalog(catalog, root / "stac" / layout.name)
    return out


def _catalog(layout: Layout, spec: WorldSpec, items: list[pystac.Item]) -> pystac.Catalog:
    catalog = pystac.Catalog(
        id=f"baresoil-simulation-{layout.name}",
        description=f"Simulated Sentinel-2 L2A scenes as published by {layout.title} (seed {spec.seed}).",
        title=f"baresoil simulation ({layout.title} layout)",
    )
    catalog.add_child(
        simulated_collection(COLLECTION_ID, "Sentinel-2 Level-2A surface reflectance (simulated).",
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


def _item(layout: Layout, spec: WorldSpec, record: SceneRecord, to_lonlat: Transformer) -> pystac.Item:
    acq = record.acquisition
    x0, y0, x1, y1 = record.bounds
    outline = record.footprint or ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    lons, lats = to_lonlat.transform([x for x, _ in outline], [y for _, y in outline])
    ring = [[round(lon, 7), round(lat, 7)] for lon, lat in zip(lons, lats, strict=True)]
    when = (acq.datetime + record.tile_index * TILE_TIME_STEP).astimezone(UTC)
    item = pystac.Item(
        id=record.ids.for_layout(layout.name),
        geometry={"type": "Polygon", "coordinates": [ring]},
        bbox=[min(lons), min(lats), max(lons), max(lats)],
        datetime=when,
        properties={"constellation": "sentinel-2", "instruments": ["msi"]},
        collection=COLLECTION_ID,
    )
    ProjectionExtension.ext(item, add_if_missing=True).code = f"EPSG:{spec.epsg}"
    EOExtension.ext(item, add_if_missing=True).cloud_cover = record.cloud_cover
    PROPERTIES[layout.name](item, spec, record)
    for band, file in record.bands.items():
        key = layout.asset_key(band)
        item.add_asset(key, _asset(band, file))
        _describe_asset(item.assets[key], layout, band, file, spec.epsg, acq.baseline)
    return item


def _earth_search_properties(item: pystac.Item, spec: WorldSpec, record: SceneRecord) -> None:
    acq = record.acquisition
    item.properties["platform"] = acq.platform
    item.properties["s2:processing_baseline"] = acq.baseline
    view = ViewExtension.ext(item, add_if_missing=True)
    view.sun_elevation = acq.sun_elevation
    view.sun_azimuth = acq.sun_azimuth
    GridExtension.ext(item, add_if_missing=True).code = record.tile.grid_code
    item.properties["mgrs:utm_zone"] = int(record.tile.code[:2])
    item.properties["mgrs:latitude_band"] = record.tile.code[2]
    item.properties["mgrs:grid_square"] = record.tile.code[3:]
    item.properties["s2:product_uri"] = record.ids.cdse + ".SAFE"


def _planetary_computer_properties(item: pystac.Item, spec: WorldSpec, record: SceneRecord) -> None:
    acq = record.acquisition
    item.properties["platform"] = "Sentinel-" + acq.platform[-2:].upper()
    item.properties["s2:processing_baseline"] = acq.baseline
    item.properties["s2:mean_solar_zenith"] = round(acq.sun_zenith, 4)
    item.properties["s2:mean_solar_azimuth"] = acq.sun_azimuth
    item.properties["s2:mgrs_tile"] = record.tile.code
    item.properties["s2:product_type"] = "S2MSI2A"
    item.properties["sat:relative_orbit"] = spec.relative_orbit


def _cdse_properties(item: pystac.Item, spec: WorldSpec, record: SceneRecord) -> None:
    acq = record.acquisition
    item.properties["platform"] = acq.platform
    item.properties["processing:version"] = acq.baseline
    ViewExtension.ext(item, add_if_missing=True).sun_elevation = acq.sun_elevation
    GridExtension.ext(item, add_if_missing=True).code = record.tile.grid_code
    if PROCESSING_SCHEMA not in item.stac_extensions:
        item.stac_extensions.append(PROCESSING_SCHEMA)


PROPERTIES: dict[str, Callable[[pystac.Item, WorldSpec, SceneRecord], None]] = {
    EARTH_SEARCH.name: _earth_search_properties,
    PLANETARY_COMPUTER.name: _planetary_computer_properties,
    CDSE.name: _cdse_properties,
}


def _asset(band: str, file: BandFile) -> pystac.Asset:
    return pystac.Asset(
        href=str(file.path.resolve()),
        media_type=COG_MEDIA_TYPE,
        roles=["data"],
        title=_title(band, file.resolution),
        extra_fields={"gsd": float(file.resolution)},
    )


def _describe_asset(
    asset: pystac.Asset, layout: Layout, band: str, file: BandFile, epsg: int, baseline: str
) -> None:
    """Projection (code, shape, transform, bbox), eo:bands and, where the provider has them, raster:bands."""
    proj = ProjectionExtension.ext(asset, add_if_missing=True)
    proj.code = f"EPSG:{epsg}"
    proj.shape = list(file.shape)
    proj.transform = list(file.transform)[:6]
    height, width = file.shape
    t = file.transform
    proj.bbox = [t.c, t.f + t.e * height, t.c + t.a * width, t.f]
    if band != SCL:
        EOExtension.ext(asset, add_if_missing=True).bands = [
            Band.create(
                name=band, common_name=COMMON_NAMES[band], center_wavelength=BAND_CENTRE_NM[band] / 1000
            )
        ]
    if layout.offset_in_metadata:
        RasterExtension.ext(asset, add_if_missing=True).bands = [_raster_band(band, file, baseline)]


def _raster_band(band: str, file: BandFile, baseline: str) -> RasterBand:
    if band == SCL:
        return RasterBand.create(data_type=DataType.UINT8, nodata=0, spatial_resolution=file.resolution)
    return RasterBand.create(
        data_type=DataType.UINT16,
        nodata=0,
        spatial_resolution=file.resolution,
        scale=DN_SCALE,
        offset=baseline_offset(parse_baseline(baseline)),
    )


def _title(band: str, resolution: int) -> str:
    if band == SCL:
        return f"Scene classification map (SCL) - {resolution}m"
    name = COMMON_NAMES[band]
    return f"{name.capitalize()} ({band}) - {resolution}m"
