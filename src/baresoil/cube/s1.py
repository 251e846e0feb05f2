"""Sentinel-1 backscatter on the EEA grid: VV and VH in dB as a lazy cube beside the Sentinel-2 one.

Items from any STAC source whose assets match a Sentinel-1 layout of the alias
table (:data:`baresoil.catalog.layouts.S1_LAYOUTS`) are grouped into passes (one
date and relative orbit: the slices of one datatake are mosaicked), loaded in
linear power with *average* resampling (averaging dB would bias low), and turned
into dB.  Chunks are those of the Sentinel-2 cube (all dates of a spatial block),
so the two cubes can be reduced over the same parcel raster block by block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import odc.stac
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox
from shapely.geometry import box

from ..catalog.layouts import S1_BANDS, S1_NODATA, S1Layout, detect_s1_layout, scene_property
from ..catalog.source import StacSource, TimeRange, find_items
from ..config import Config, ReadConfig
from ..errors import AssetError, NoItemsError
from ..grid import EEA_CRS, Area
from .load import add_canonical_asset, canonical_item, chunk_side, data_footprint
from .reader import AssetRef, FailureJournal, GuardedDriver


@dataclass(frozen=True)
class S1Pass:
    """The items of one Sentinel-1 pass over the area: one date of the S1 cube."""

    time: datetime
    """Start of the earliest item (UTC, naive for numpy)."""
    items: tuple[pystac.Item, ...]
    layout: S1Layout
    orbit_state: str
    relative_orbit: int


def open_s1_cube(
    source: StacSource | str,
    area: Area,
    period: TimeRange,
    config: Config | None = None,
) -> xr.Dataset:
    """The Sentinel-1 cube of ``area`` over ``period`` on the EEA grid at the configured resolution."""
    config = config or Config()
    source = source if isinstance(source, StacSource) else StacSource(source)
    items = find_items(source, area, period)
    area = area.intersection(data_footprint(items), "the footprint of the Sentinel-1 items")
    return load_s1(source, area.geobox(config.cube.resolution), period, chunk_side(config.cube, 0), items)


def load_s1(
    source: StacSource | str,
    geobox: GeoBox,
    period: TimeRange,
    chunk: int = 512,
    items: Sequence[pystac.Item] | None = None,
) -> xr.Dataset:
    """VV and VH (float32 dB, NaN = no data) of ``source`` on ``geobox``, chunked ``chunk`` pixels a side.

    Coordinates per date: ``orbit_state``, ``relative_orbit``, ``platform``, ``items``.
    An :class:`~baresoil.errors.AssetError` names the source when none of its items
    has Sentinel-1 VV and VH assets.
    """
    source = source if isinstance(source, StacSource) else StacSource(source)
    if items is None:
        area = Area(box(*geobox.boundingbox), f"grid of {geobox.shape.x} x {geobox.shape.y} pixels")
        try:
            items = find_items(source, area, period)
        except NoItemsError as exc:
            raise NoItemsError(f"Sentinel-1 source {source}: {exc}") from exc
    passes = s1_passes(items, str(source))
    side = chunk
    odc_items = [item for p in passes for item in _odc_items(p)]
    refs = {item.assets[band].href: AssetRef(item.id, band) for item in odc_items for band in S1_BANDS}
    raw = odc.stac.load(
        odc_items,
        bands=list(S1_BANDS),
        geobox=geobox,
        groupby="time",
        chunks={"time": len(passes), "y": side, "x": side},
        resampling="average",
        dtype="float32",
        fail_on_error=True,
        # retried as the optical reads are; an asset that cannot be read ends the run, naming it
        driver=GuardedDriver(refs, ReadConfig(strict=True), FailureJournal()),
    )
    cube = xr.Dataset(coords=raw.coords)
    for band in S1_BANDS:
        data = raw[band].data.map_blocks(_to_db, decibels=passes[0].layout.decibels, dtype=np.float32)
        cube[band] = xr.DataArray(
            data, coords=raw[band].coords, dims=raw[band].dims, name=band,
            attrs={"long_name": f"Sentinel-1 backscatter {band}", "units": "dB"},
        )  # fmt: skip
    return cube.assign_coords(
        orbit_state=("time", np.array([p.orbit_state for p in passes])),
        relative_orbit=("time", np.array([p.relative_orbit for p in passes], dtype=np.int32)),
        platform=("time", np.array(["+".join(sorted({str(it.properties.get("platform", "")).lower()
                                                      for it in p.items})) for p in passes])),
        items=("time", np.array([",".join(it.id for it in p.items) for p in passes])),
    ).assign_attrs(crs=str(EEA_CRS), n_passes=len(passes), source=str(source))  # fmt: skip


def s1_passes(items: Sequence[pystac.Item], label: str = "the source") -> list[S1Pass]:
    """Group Sentinel-1 items by day and relative orbit; refuse a source without VV/VH assets."""
    groups: dict[tuple[date, int, str], list[tuple[pystac.Item, S1Layout]]] = {}
    skipped: set[str] = set()
    for item in items:
        layout = detect_s1_layout(set(item.assets))
        if layout is None:
            skipped |= set(item.assets)
            continue
        when = _item_time(item)
        orbit = scene_property(item.properties, "relative_orbit") or 0
        state = scene_property(item.properties, "orbit_state") or "unknown"
        groups.setdefault((when.date(), int(orbit), str(state)), []).append((item, layout))
    if not groups:
        keys = ", ".join(sorted(skipped)) or "none"
        raise AssetError(
            f"{label}: no Sentinel-1 items with VV and VH backscatter assets among {len(items)} item(s) "
            f"(asset keys found: {keys})"
        )
    passes = []
    for (_, orbit, state), members in sorted(
        groups.items(), key=lambda kv: min(_item_time(m[0]) for m in kv[1])
    ):
        members.sort(key=lambda m: (_item_time(m[0]), m[0].id))
        start = _item_time(members[0][0]).astimezone(UTC).replace(tzinfo=None)
        passes.append(S1Pass(start, tuple(m[0] for m in members), members[0][1], state, orbit))
    return _unique_times(passes)


def _unique_times(passes: list[S1Pass]) -> list[S1Pass]:
    """Two passes starting in the same second (never in practice) would merge in odc-stac's groupby."""
    out: list[S1Pass] = []
    for p in passes:
        if out and p.time <= out[-1].time:
            p = S1Pass(
                out[-1].time + timedelta(seconds=1), p.items, p.layout, p.orbit_state, p.relative_orbit
            )
        out.append(p)
    return out


def _item_time(item: pystac.Item) -> datetime:
    moment = item.datetime or item.common_metadata.start_datetime
    if moment is None:
        raise AssetError(f"item {item.id} has no datetime")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _odc_items(p: S1Pass) -> Iterator[pystac.Item]:
    """Copies with canonical asset keys and the pass's time (so odc-stac mosaics one pass)."""
    for source in p.items:
        item = canonical_item(source, p.time)
        for band in S1_BANDS:
            original = source.assets[p.layout.asset_key(band)]
            declared = (original.extra_fields.get("raster:bands") or [{}])[0]
            href = original.get_absolute_href() or original.href
            add_canonical_asset(item, band, original, href, "float32", declared.get("nodata", S1_NODATA))
        yield item


def _to_db(block: np.ndarray, decibels: bool) -> np.ndarray:
    """Linear power (or dB) with nodata to dB with NaN; non-positive power is no data."""
    values = block.astype(np.float32)
    missing = ~np.isfinite(values) | (values == S1_NODATA)
    if decibels:
        return np.where(missing, np.nan, values).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(missing | (values <= 0), np.nan, 10.0 * np.log10(values)).astype(np.float32)
