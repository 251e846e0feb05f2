"""The EEA reference grid: tile codes, areas of interest and output GeoBoxes.

Every raster baresoil writes lies on the European Environment Agency's reference
grid: ETRS89-LAEA (EPSG:3035), 100 km tiles named by their lower-left corner
(``E43N32`` is x = 4 300 000, y = 3 200 000), and pixel edges on multiples of the
resolution, so that the outputs of different runs and different tiles align
pixel for pixel.  This module is the one place that knows it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from .errors import AreaError

if TYPE_CHECKING:
    from odc.geo.geobox import GeoBox  # imported where a GeoBox is made: the CLI's start does without it

EEA_CRS = CRS.from_epsg(3035)
EEA_EPSG = 3035
TILE_SIZE = 100_000
"""Side of an EEA reference-grid tile, in metres."""

# The EEA reference grid covers the area of use of EPSG:3035 (Europe, including
# the outermost regions' mainland approximations); anything outside is refused.
_LON_MIN, _LAT_MIN, _LON_MAX, _LAT_MAX = EEA_CRS.area_of_use.bounds  # type: ignore[union-attr]
_TILE_RE = re.compile(r"^E(\d{2,3})N(\d{2,3})$")
_TO_EEA = Transformer.from_crs(4326, EEA_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(EEA_CRS, 4326, always_xy=True)

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True, order=True)
class TileId:
    """One 100 km tile of the EEA reference grid."""

    e: int
    """Easting of the lower-left corner, in units of 100 km."""
    n: int
    """Northing of the lower-left corner, in units of 100 km."""

    @property
    def code(self) -> str:
        return f"E{self.e:02d}N{self.n:02d}"

    @property
    def bounds(self) -> Bounds:
        x0, y0 = self.e * TILE_SIZE, self.n * TILE_SIZE
        return (x0, y0, x0 + TILE_SIZE, y0 + TILE_SIZE)

    def __str__(self) -> str:
        return self.code


def parse_tile(code: str) -> TileId:
    """``"E43N32"`` -> ``TileId(43, 32)``; a malformed code is an :class:`AreaError`."""
    match = _TILE_RE.match(code.strip().upper())
    if not match:
        raise AreaError(f"not an EEA tile code: {code!r} (expected e.g. E43N32)")
    tile = TileId(int(match[1]), int(match[2]))
    _check_inside_grid(box(*tile.bounds), f"tile {tile.code}")
    return tile


def tiles_covering(bounds: Bounds) -> list[TileId]:
    """All EEA tiles that intersect ``bounds`` (EPSG:3035 metres), south-west first."""
    x0, y0, x1, y1 = bounds
    es = range(math.floor(x0 / TILE_SIZE), math.ceil(x1 / TILE_SIZE))
    ns = range(math.floor(y0 / TILE_SIZE), math.ceil(y1 / TILE_SIZE))
    return [TileId(e, n) for n in ns for e in es]


def snap_bounds(bounds: Bounds, resolution: float) -> Bounds:
    """Grow ``bounds`` outwards to the nearest multiples of ``resolution``."""
    x0, y0, x1, y1 = bounds
    r = resolution
    return (
        math.floor(x0 / r) * r,
        math.floor(y0 / r) * r,
        math.ceil(x1 / r) * r,
        math.ceil(y1 / r) * r,
    )


def geobox_for_bounds(bounds: Bounds, resolution: float) -> GeoBox:
    """The GeoBox on the EEA grid that covers ``bounds``, pixel edges snapped."""
    if resolution <= 0:
        raise AreaError(f"resolution must be positive, got {resolution}")
    x0, y0, x1, y1 = snap_bounds(bounds, resolution)
    if x1 <= x0 or y1 <= y0:
        raise AreaError(f"empty area: {bounds}")
    from odc.geo.geobox import GeoBox

    return GeoBox.from_bbox((x0, y0, x1, y1), crs=EEA_CRS, resolution=resolution)


@dataclass(frozen=True)
class Area:
    """An area of interest, held as a polygon in EPSG:3035."""

    geometry: BaseGeometry
    """Polygon in EPSG:3035 metres."""
    label: str
    """How the user gave it, for messages and provenance (``bbox …``, ``tile E43N32``, a path)."""
    tile: TileId | None = None
    """The tile, when the area was given as a tile code."""

    @property
    def bounds(self) -> Bounds:
        return tuple(self.geometry.bounds)  # type: ignore[return-value]

    @cached_property
    def lonlat_bounds(self) -> Bounds:
        """Bounds in WGS84 lon/lat, for STAC searches (densified, so it contains the area)."""
        x0, y0, x1, y1 = self.bounds
        lons, lats = _TO_LONLAT.transform(*_ring(x0, y0, x1, y1))
        return (min(lons), min(lats), max(lons), max(lats))

    @property
    def lonlat_geometry(self) -> BaseGeometry:
        return shapely.transform(self.geometry, _to_lonlat_xy)

    def geobox(self, resolution: float) -> GeoBox:
        return geobox_for_bounds(self.bounds, resolution)

    def intersection(self, other: BaseGeometry, label: str | None = None) -> Area:
        """This area clipped to ``other`` (EPSG:3035); an empty result is an :class:`AreaError`."""
        clipped = self.geometry.intersection(other)
        if clipped.is_empty or clipped.area == 0:
            raise AreaError(f"{self.label}: no overlap with {label or 'the data'}")
        return Area(clipped, self.label, self.tile)

    def split_by_tile(self) -> Iterator[tuple[TileId, Area]]:
        """The parts of this area in each EEA tile it touches."""
        for tile in tiles_covering(self.bounds):
            part = self.geometry.intersection(box(*tile.bounds))
            if not part.is_empty and part.area > 0:
                yield tile, Area(part, self.label, tile)


def area_from_bbox(west: float, south: float, east: float, north: float) -> Area:
    """An area from a lon/lat bounding box (WGS84 degrees)."""
    label = f"bbox {west:g} {south:g} {east:g} {north:g}"
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise AreaError(f"{label}: longitudes must lie in [-180, 180] and latitudes in [-90, 90]")
    if west >= east or south >= north:
        raise AreaError(f"{label}: expected W S E N with W < E and S < N")
    lonlat = box(west, south, east, north)
    _check_inside_grid(lonlat, label, lonlat=True)
    xs, ys = _TO_EEA.transform(*_ring(west, south, east, north))
    return Area(shapely.Polygon(zip(xs, ys, strict=True)), label)


def area_from_tile(code: str) -> Area:
    """The whole of one EEA tile, or of several: codes separated by commas (``E44N27,E45N27``)."""
    tiles = list(dict.fromkeys(parse_tile(part) for part in code.split(",") if part.strip()))
    if not tiles:
        raise AreaError(f"not an EEA tile code: {code!r} (expected e.g. E43N32)")
    if len(tiles) == 1:
        return Area(box(*tiles[0].bounds), f"tile {tiles[0].code}", tiles[0])
    union = shapely.union_all([box(*tile.bounds) for tile in tiles])
    return Area(union, "tiles " + ",".join(tile.code for tile in tiles))


def area_from_file(path: str | Path) -> Area:
    """The union of all geometries of a vector file (any CRS, any format GDAL reads)."""
    import geopandas as gpd  # deferred: only vector AOIs need it

    path = Path(path)
    if not path.exists():
        raise AreaError(f"area file not found: {path}")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:
        raise AreaError(f"cannot read area file {path}: {exc}") from exc
    if frame.empty or frame.crs is None:
        raise AreaError(f"area file {path} has no features or no CRS")
    shape = shapely.make_valid(frame.to_crs(EEA_CRS).union_all())
    _check_inside_grid(shapely.transform(shape, _to_lonlat_xy), str(path), lonlat=True)
    return Area(shape, str(path))


def _check_inside_grid(geom: BaseGeometry, label: str, lonlat: bool = False) -> None:
    lonlat_geom = geom if lonlat else shapely.transform(geom, _to_lonlat_xy)
    grid = box(_LON_MIN, _LAT_MIN, _LON_MAX, _LAT_MAX)
    if not grid.contains(lonlat_geom):
        raise AreaError(
            f"{label} lies outside the EEA reference grid "
            f"(lon {_LON_MIN:.1f}..{_LON_MAX:.1f}, lat {_LAT_MIN:.1f}..{_LAT_MAX:.1f})"
        )


def _ring(x0: float, y0: float, x1: float, y1: float, n: int = 16) -> tuple[list[float], list[float]]:
    """A densified rectangle (counter-clockwise), so that reprojected bounds contain it."""
    t = [i / n for i in range(n)]
    xs = [x0 + f * (x1 - x0) for f in t] + [x1] * n + [x1 - f * (x1 - x0) for f in t] + [x0] * n
    ys = [y0] * n + [y0 + f * (y1 - y0) for f in t] + [y1] * n + [y1 - f * (y1 - y0) for f in t]
    return xs, ys


def _to_lonlat_xy(coords):  # type: ignore[no-untyped-def]
    import numpy as np

    lon, lat = _TO_LONLAT.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


# --- other grids: any CRS and resolution a user asks for ---------------------------------------------


def is_eea_crs(crs: str | CRS | None) -> bool:
    """Whether ``crs`` (empty meaning the default) is the EEA grid's, EPSG:3035."""
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        return True
    return parse_crs(crs) == EEA_CRS


def parse_crs(crs: str | CRS) -> CRS:
    """A CRS from anything pyproj reads (``EPSG:32632``, a WKT, a PROJ string); else an :class:`AreaError`."""
    try:
        return CRS.from_user_input(crs)
    except (CRSError, TypeError) as exc:
        raise AreaError(f"not a coordinate reference system: {crs!r} ({exc})") from None


def geobox_in_crs(area: Area, crs: str | CRS, resolution: float) -> GeoBox:
    """A GeoBox in ``crs`` covering ``area``, its pixel edges on multiples of ``resolution`` (units of the
    CRS), as the EEA grid's are, so that two runs on overlapping areas align pixel for pixel."""
    if resolution <= 0:
        raise AreaError(f"resolution must be positive, got {resolution}")
    target = parse_crs(crs)
    to_target = Transformer.from_crs(EEA_CRS, target, always_xy=True)
    x0, y0, x1, y1 = area.bounds
    xs, ys = to_target.transform(*_ring(x0, y0, x1, y1))
    x0, y0, x1, y1 = snap_bounds((min(xs), min(ys), max(xs), max(ys)), resolution)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 <= x0 or y1 <= y0:
        raise AreaError(f"{area.label}: cannot be expressed in {target.to_string()}")
    from odc.geo.geobox import GeoBox

    return GeoBox.from_bbox((x0, y0, x1, y1), crs=target, resolution=resolution)


def pixel_size_m(geobox: GeoBox) -> float:
    """The side of one pixel in metres: the resolution of a grid in metres, and for a geographic (or other)
    CRS the geometric mean of a pixel's sides at the centre of the grid, measured on the ellipsoid."""
    crs = CRS.from_user_input(geobox.crs.to_wkt()) if geobox.crs is not None else EEA_CRS
    res_x, res_y = abs(geobox.resolution.x), abs(geobox.resolution.y)
    units = {axis.unit_name for axis in crs.axis_info}
    if crs.is_projected and units <= {"metre", "meter"}:
        return float(math.sqrt(res_x * res_y))
    from pyproj import Geod

    centre = geobox.extent.centroid.to_crs("EPSG:4326").coords[0]
    lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    cx, cy = to_crs.transform(*centre)
    (lon0, lon1), (lat0, lat1) = lonlat.transform([cx, cx + res_x], [cy, cy])
    geod = Geod(ellps="WGS84")
    across = geod.inv(lon0, lat0, lon1, lat1)[2]
    (lon0, lon1), (lat0, lat1) = lonlat.transform([cx, cx], [cy, cy + res_y])
    down = geod.inv(lon0, lat0, lon1, lat1)[2]
    return float(math.sqrt(across * down))
