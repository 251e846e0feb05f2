"""One field, one year: a "real-like" Sentinel-2 series as a small STAC catalog of COGs, with known answers.

A winter cereal field of 1 ha in a meadow, in ``stac_factory``'s 1 km scene, observed every five
days through 2020 as a catalog that holds that year only (a user's download of one year): the
cereal was sown the autumn before, so the series starts on a crop already up; it greens up in
March, ripens in June and is harvested on ``HARVEST``; the field lies bare until the next cereal
emerges on ``NEXT_EMERGENCE``.  Reflectance mixes ``SOIL`` and ``CANOPY`` by the green cover.  A few
dates are cloudy over the whole scene, and on ``CLOUD_NEAR_FIELD`` a small cloud lies just outside
the field, within the cloud buffer of its pixels.  A second catalog of the same scenes ends on
``BEFORE_HARVEST``, with the cereal still standing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pystac
from pyproj import Transformer

from baresoil.catalog.layouts import EARTH_SEARCH, REFLECTANCE_BANDS

from tests.support.stac_factory import EPSG, ORIGIN, SIZE_M, make_item, write_catalog, write_scene

SOIL = dict(zip(REFLECTANCE_BANDS, (0.08, 0.12, 0.19, 0.21, 0.22, 0.23, 0.24, 0.25, 0.30, 0.26), strict=True))
CANOPY = dict(
    zip(REFLECTANCE_BANDS, (0.03, 0.06, 0.03, 0.09, 0.25, 0.33, 0.38, 0.40, 0.20, 0.10), strict=True)
)
MEADOW_COVER = 0.7

FIELD_PX = (slice(45, 55), slice(45, 55))
"""Rows and columns of the field on the 10 m grid of the scene: 100 m a side, smaller than the 100 m
cloud buffer's neighbourhood."""
CLOUD_PX = (slice(19, 21), slice(19, 21))
"""A small cloud on the 20 m grid, 40 m a side, 30 m north and west of the field's corner."""

FIRST, LAST = date(2020, 1, 3), date(2020, 12, 28)
SOWN = date(2019, 10, 15)
"""Before the series: the cereal's emergence is not in the data."""
GREEN_UP, PEAK, RIPENING, HARVEST = date(2020, 2, 20), date(2020, 5, 1), date(2020, 6, 5), date(2020, 7, 5)
NEXT_EMERGENCE = date(2020, 10, 20)
WINTER_COVER = 0.45
"""Green cover of the cereal over the winter: more than a quarter, so the soil is not bare (a bare view
has at least 75 % exposed soil) until the harvest."""
BEFORE_HARVEST = date(2020, 6, 20)
DATES = tuple(FIRST + timedelta(days=5 * i) for i in range((LAST - FIRST).days // 5 + 1))
"""Every fifth day: 3 January to 28 December."""
CLOUDY = frozenset(DATES[i] for i in (4, 11, 19, 28, 49, 64))
"""Dates cloudy over the whole scene."""
CLOUD_NEAR_FIELD = DATES[43]


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def green_cover(day: date) -> float:
    """The field's green cover on ``day``: the winter cereal, then bare soil, then the next cereal."""
    if day < GREEN_UP:
        return WINTER_COVER
    if day < PEAK:
        return WINTER_COVER + (0.95 - WINTER_COVER) * _smoothstep(
            (day - GREEN_UP).days / (PEAK - GREEN_UP).days
        )
    if day < RIPENING:
        return 0.95
    if day < HARVEST:
        return 0.95 - 0.65 * _smoothstep((day - RIPENING).days / (HARVEST - RIPENING).days)  # straw
    if day < NEXT_EMERGENCE:
        return 0.0
    return 0.2 * _smoothstep((day - NEXT_EMERGENCE).days / 30)


def reflectance(cover: float) -> dict[str, float]:
    return {band: cover * CANOPY[band] + (1 - cover) * SOIL[band] for band in REFLECTANCE_BANDS}


def ndvi(cover: float) -> float:
    r = reflectance(cover)
    return (r["B08"] - r["B04"]) / (r["B08"] + r["B04"])


@dataclass(frozen=True)
class FieldSeries:
    catalog: Path
    """The whole year."""
    before_harvest: Path
    """The same scenes up to ``BEFORE_HARVEST``."""
    parcels: Path
    """The field as a GeoPackage: ``parcel_id`` 'F1', ``crop_2020`` 'winter_common_soft_wheat'."""


def write_field_series(folder: Path) -> FieldSeries:
    """The scenes, their two catalogs and the field's parcel file, in ``folder``."""
    field = np.zeros((SIZE_M // 10, SIZE_M // 10), dtype=bool)
    field[FIELD_PX] = True
    scenes = {}
    for day in DATES:
        surface = {
            band: np.where(field, reflectance(green_cover(day))[band], reflectance(MEADOW_COVER)[band])
            for band in REFLECTANCE_BANDS
        }
        scl = np.full((SIZE_M // 20, SIZE_M // 20), 4)
        if day in CLOUDY:
            scl[:] = 9
        if day == CLOUD_NEAR_FIELD:
            scl[CLOUD_PX] = 9
        scenes[day] = write_scene(
            folder / "scenes" / day.isoformat(), offset_dn=0, scl=scl, reflectance=surface
        )
    catalogs = [
        _catalog(folder / name, scenes, last) for name, last in (("stac", LAST), ("early", BEFORE_HARVEST))
    ]
    return FieldSeries(*catalogs, _write_parcel(folder / "field.gpkg"))


def _catalog(folder: Path, scenes: dict[date, dict[str, Path]], last: date) -> Path:
    items: list[pystac.Item] = []
    for day, paths in scenes.items():
        if day <= last:
            when = datetime(day.year, day.month, day.day, 10, 20)
            items.append(make_item(EARTH_SEARCH, f"S2A_32TPQ_{day:%Y%m%d}_0_L2A", when, paths, "02.14"))
    return write_catalog(folder, items)


def field_bounds_utm(margin_m: float = 0.0) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the field in UTM metres, shrunk by ``margin_m``."""
    rows, cols = FIELD_PX
    x0, y1 = ORIGIN
    west, east = x0 + cols.start * 10 + margin_m, x0 + cols.stop * 10 - margin_m
    north, south = y1 - rows.start * 10 - margin_m, y1 - rows.stop * 10 + margin_m
    return west, south, east, north


def field_bbox(margin_m: float = 10.0) -> tuple[float, float, float, float]:
    """A lon/lat box inside the field (``margin_m`` from its edges), as a user gives ``--bbox``."""
    west, south, east, north = field_bounds_utm(margin_m)
    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    lons, lats = to_ll.transform([west, east, east, west], [south, south, north, north])
    return min(lons), min(lats), max(lons), max(lats)


def scene_bbox(margin_m: float = 100.0) -> tuple[float, float, float, float]:
    """A lon/lat box of the whole scene but ``margin_m`` along its edges: the larger run."""
    from tests.support.stac_factory import lonlat_bbox

    return lonlat_bbox(margin_m)


def _write_parcel(path: Path) -> Path:
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"parcel_id": ["F1"], "crop_2020": ["winter_common_soft_wheat"]},
        geometry=[box(*field_bounds_utm())],
        crs=f"EPSG:{EPSG}",
    )
    frame.to_file(path, driver="GPKG")
    return path
