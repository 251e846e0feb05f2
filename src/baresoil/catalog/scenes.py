"""From provider items to scenes: resolve band aliases and offsets, filter, merge solar days.

A :class:`Scene` is one observation date over the area: the items of one solar
day (neighbouring MGRS tiles of one overpass), with per-band hrefs and the
scale/offset that turn their DN into surface reflectance.  The baseline-04.00
offset is resolved here, per item, by the rules of the alias table
(:func:`baresoil.catalog.layouts.reflectance_scaling`): odc-stac returns raw DN
and applies none of it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

import pystac

from ..config import SceneFilter
from ..errors import AssetError, NoItemsError
from .layouts import (
    DN_NODATA,
    REFLECTANCE_BANDS,
    SCL,
    Layout,
    asset_nodata,
    detect_layout,
    property_names,
    reflectance_scaling,
    scene_property,
)

log = logging.getLogger(__name__)

_LISTED_ITEMS = 5
"""How many item ids a warning names before it says "and N more"."""


@dataclass(frozen=True)
class BandAsset:
    """One band of one item: where it is and how to turn its DN into reflectance."""

    href: str
    scale: float = 1.0
    offset: float = 0.0
    nodata: float = DN_NODATA
    offset_source: str = ""
    """Which metadata decided scale and offset (see ``layouts.OFFSET_SOURCES``); empty for SCL."""


@dataclass(frozen=True)
class SceneItem:
    """A provider item with its bands resolved to canonical names."""

    item: pystac.Item
    layout: Layout
    bands: Mapping[str, BandAsset]
    datetime: datetime
    platform: str | None
    sun_elevation: float | None
    cloud_cover: float | None
    processing_baseline: str | None
    """As the item publishes it; None when it does not (the offset then came from its date)."""

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def offset_source(self) -> str:
        sources = {asset.offset_source for asset in self.bands.values() if asset.offset_source}
        return "+".join(sorted(sources)) or "none"


@dataclass(frozen=True)
class Scene:
    """All items of one solar day: one observation date of the cube."""

    time: datetime
    """Acquisition time of the earliest item (UTC, naive for numpy)."""
    items: tuple[SceneItem, ...]

    @property
    def platform(self) -> str:
        return "+".join(sorted({it.platform or "unknown" for it in self.items}))

    @property
    def sun_elevation(self) -> float:
        values = [it.sun_elevation for it in self.items if it.sun_elevation is not None]
        return sum(values) / len(values) if values else float("nan")

    @property
    def cloud_cover(self) -> float:
        values = [it.cloud_cover for it in self.items if it.cloud_cover is not None]
        return sum(values) / len(values) if values else float("nan")

    @property
    def processing_baseline(self) -> str:
        return "+".join(sorted({it.processing_baseline or "unknown" for it in self.items}))

    @property
    def offset_source(self) -> str:
        """Which metadata decided the scene's offsets (``raster:bands``, ``applied-flag``…)."""
        return "+".join(sorted({it.offset_source for it in self.items}))

    @property
    def layout(self) -> str:
        return "+".join(sorted({it.layout.name for it in self.items}))

    def band_scaling(self, band: str) -> tuple[float, float]:
        """(scale, offset) of ``band``; items of one overpass share the baseline."""
        pairs = {(it.bands[band].scale, it.bands[band].offset) for it in self.items}
        if len(pairs) > 1:
            log.warning("scene %s: items disagree on %s scaling %s; using the first", self.time, band, pairs)
        return (self.items[0].bands[band].scale, self.items[0].bands[band].offset)


def resolve_item(item: pystac.Item, bands: Sequence[str] = (*REFLECTANCE_BANDS, SCL)) -> SceneItem:
    """Translate one provider item into canonical bands; a missing band is an :class:`AssetError`."""
    layout = detect_layout(set(item.assets), item.properties, item.collection_id)
    if layout is None:
        raise AssetError(
            f"item {item.id}: unknown Sentinel-2 L2A asset layout (assets: {', '.join(sorted(item.assets))})"
        )
    props = item.properties
    moment = item.datetime or item.common_metadata.start_datetime
    assert moment is not None  # find_items already refused items without a date
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    resolved = {band: _band_asset(item, layout, band, moment.date()) for band in bands}
    if any(asset.offset_source == "date" for asset in resolved.values()):
        log.info("item %s: no offset metadata and no processing baseline; offset from its date", item.id)
    return SceneItem(
        item=item,
        layout=layout,
        bands=resolved,
        datetime=moment,
        platform=scene_property(props, "platform"),
        sun_elevation=scene_property(props, "sun_elevation"),
        cloud_cover=scene_property(props, "cloud_cover"),
        processing_baseline=scene_property(props, "processing_baseline"),
    )


def _band_asset(item: pystac.Item, layout: Layout, band: str, acquired: date) -> BandAsset:
    key = layout.asset_key(band)
    asset = item.assets.get(key)
    if asset is None:
        raise AssetError(f"item {item.id}: band {band} (asset '{key}') is missing")
    href = asset.get_absolute_href() or asset.href
    _check_local_file(href, item.id, band)
    fields = asset.extra_fields
    nodata = asset_nodata(fields)
    if band == SCL:
        return BandAsset(href, 1.0, 0.0, nodata)
    scaling = reflectance_scaling(fields, item.properties, acquired)
    return BandAsset(href, scaling.scale, scaling.offset, nodata, scaling.source)


def _check_local_file(href: str, item_id: str, band: str) -> None:
    parsed = urlparse(href)
    if parsed.scheme in ("", "file"):
        path = parsed.path if parsed.scheme == "file" else href
        if not os.path.isfile(path):
            raise AssetError(f"item {item_id}: band {band} file not found: {path}")


def select_scenes(
    items: Iterable[pystac.Item],
    filters: SceneFilter = SceneFilter(),
    bands: Sequence[str] = (*REFLECTANCE_BANDS, SCL),
) -> list[Scene]:
    """Resolve, filter (cloud cover, sun elevation) and group items into solar-day scenes."""
    resolved = [resolve_item(item, bands) for item in items]
    _warn_without_sun_elevation(resolved, filters)
    kept = [item for item in resolved if _passes(item, filters)]
    if not kept:
        raise NoItemsError(
            f"no scene passes the filters (cloud cover <= {filters.max_cloud_cover} %, "
            f"sun elevation >= {filters.min_sun_elevation} deg)"
        )
    return group_solar_days(kept)


def _warn_without_sun_elevation(items: Sequence[SceneItem], filters: SceneFilter) -> None:
    """Say once which items the sun filter cannot judge (Earth Search v0 publishes no sun angle)."""
    blind = [item for item in items if item.sun_elevation is None]
    if not blind:
        return
    collections = sorted({item.item.collection_id or "no collection" for item in blind})
    named = ", ".join(item.id for item in blind[:_LISTED_ITEMS])
    more = f" and {len(blind) - _LISTED_ITEMS} more" if len(blind) > _LISTED_ITEMS else ""
    log.warning(
        "%d of %d items (collection %s: %s%s) carry no sun elevation (%s): the filter "
        "scenes.min_sun_elevation = %g deg cannot apply to them and they are kept",
        len(blind),
        len(items),
        ", ".join(collections),
        named,
        more,
        ", ".join(property_names("sun_elevation")),
        filters.min_sun_elevation,
    )


def _passes(item: SceneItem, filters: SceneFilter) -> bool:
    if item.cloud_cover is not None and item.cloud_cover > filters.max_cloud_cover:
        return False
    return item.sun_elevation is None or item.sun_elevation >= filters.min_sun_elevation


def group_solar_days(items: Iterable[SceneItem]) -> list[Scene]:
    """Merge items of the same solar day (local solar time from the item's longitude)."""
    groups: dict[date, list[SceneItem]] = {}
    for item in items:
        groups.setdefault(_solar_day(item), []).append(item)
    scenes = []
    for day in sorted(groups):
        members = tuple(sorted(groups[day], key=lambda it: (it.datetime, it.id)))
        scenes.append(Scene(time=members[0].datetime.astimezone(UTC).replace(tzinfo=None), items=members))
    return scenes


def _solar_day(item: SceneItem) -> date:
    bbox = item.item.bbox
    lon = (bbox[0] + bbox[2]) / 2 if bbox else 0.0
    return (item.datetime.astimezone(UTC) + timedelta(hours=lon / 15.0)).date()
