"""From provider items to scenes: resolve band aliases and offsets, filter, merge solar days.

A :class:`Scene` is one observation date over the area: the items of one solar
day (neighbouring MGRS tiles of one overpass), with per-band hrefs and the
scale/offset that turn their DN into surface reflectance.  The baseline-04.00
offset is resolved here, per item, from ``raster:bands`` where the catalog
declares it and from the processing baseline where it does not: odc-stac
returns raw DN and applies neither.
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
    DN_SCALE,
    REFLECTANCE_BANDS,
    SCL,
    Layout,
    baseline_offset,
    detect_layout,
    parse_baseline,
    scene_property,
)

log = logging.getLogger(__name__)

BASELINE_04_DATE = date(2022, 1, 25)
"""First acquisitions processed with baseline 04.00 (used only when an item says nothing)."""


@dataclass(frozen=True)
class BandAsset:
    """One band of one item: where it is and how to turn its DN into reflectance."""

    href: str
    scale: float = 1.0
    offset: float = 0.0
    nodata: float = DN_NODATA


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

    @property
    def id(self) -> str:
        return self.item.id


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

    def band_scaling(self, band: str) -> tuple[float, float]:
        """(scale, offset) of ``band``; items of one overpass share the baseline."""
        pairs = {(it.bands[band].scale, it.bands[band].offset) for it in self.items}
        if len(pairs) > 1:
            log.warning("scene %s: items disagree on %s scaling %s; using the first", self.time, band, pairs)
        return (self.items[0].bands[band].scale, self.items[0].bands[band].offset)


def resolve_item(item: pystac.Item, bands: Sequence[str] = (*REFLECTANCE_BANDS, SCL)) -> SceneItem:
    """Translate one provider item into canonical bands; a missing band is an :class:`AssetError`."""
    layout = detect_layout(set(item.assets))
    if layout is None:
        raise AssetError(
            f"item {item.id}: unknown Sentinel-2 L2A asset layout (assets: {', '.join(sorted(item.assets))})"
        )
    props = item.properties
    baseline = scene_property(props, "processing_baseline")
    moment = item.datetime or item.common_metadata.start_datetime
    assert moment is not None  # find_items already refused items without a date
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if baseline is None and not layout.offset_in_metadata:
        # No metadata at all: the archive switched to baseline 04.00 on 25 Jan 2022.
        baseline = "04.00" if moment.date() >= BASELINE_04_DATE else "03.01"
        log.info("item %s: no processing baseline; assuming %s from its date", item.id, baseline)
    resolved = {band: _band_asset(item, layout, band, baseline) for band in bands}
    return SceneItem(
        item=item,
        layout=layout,
        bands=resolved,
        datetime=moment,
        platform=scene_property(props, "platform"),
        sun_elevation=scene_property(props, "sun_elevation"),
        cloud_cover=scene_property(props, "cloud_cover"),
        processing_baseline=baseline,
    )


def _band_asset(item: pystac.Item, layout: Layout, band: str, baseline: str | None) -> BandAsset:
    key = layout.asset_key(band)
    asset = item.assets.get(key)
    if asset is None:
        raise AssetError(f"item {item.id}: band {band} (asset '{key}') is missing")
    href = asset.get_absolute_href() or asset.href
    _check_local_file(href, item.id, band)
    raster = (asset.extra_fields.get("raster:bands") or [{}])[0]
    nodata = raster.get("nodata", DN_NODATA)
    if band == SCL:
        return BandAsset(href, 1.0, 0.0, nodata)
    if "scale" in raster or "offset" in raster:
        return BandAsset(href, float(raster.get("scale", 1.0)), float(raster.get("offset", 0.0)), nodata)
    return BandAsset(href, DN_SCALE, baseline_offset(parse_baseline(baseline)), nodata)


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
    kept = []
    for item in items:
        resolved = resolve_item(item, bands)
        if _passes(resolved, filters):
            kept.append(resolved)
    if not kept:
        raise NoItemsError(
            f"no scene passes the filters (cloud cover <= {filters.max_cloud_cover} %, "
            f"sun elevation >= {filters.min_sun_elevation} deg)"
        )
    return group_solar_days(kept)


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
