"""When the satellites pass, which tiles they deliver, and how the products are named.

One acquisition every ``revisit_days`` from ``start``, Sentinel-2A and -2B
alternating (Sentinel-2C in place of 2A from 21 January 2025), at the datatake's
sensing time; the processing baseline follows ESA's history (04.00 from 25 January
2022, when L2A DN gained BOA_ADD_OFFSET = −1000).  Sun angles come from a
low-precision solar ephemeris for the world's centre, so winter scenes get the
low sun that makes the cube drop them.

A world's physics may add a neighbouring relative orbit, two or three days after
the first, whose swath edge crosses the world (pixels beyond it have no data), and
may lose some acquisitions altogether.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from pyproj import Transformer

from ..catalog.layouts import BASELINE_OFFSET_FROM, BOA_ADD_OFFSET_DN, parse_baseline
from .fields import rng_for
from .spec import WorldSpec

BASELINES: tuple[tuple[date, str], ...] = (
    (date(2015, 6, 1), "02.09"),
    (date(2021, 6, 30), "03.00"),
    (date(2022, 1, 25), "04.00"),
)
"""(first sensing day, processing baseline) in force from then on."""


@dataclass(frozen=True)
class Tile:
    """One MGRS tile's part of the world: the columns [col_start, col_stop) of the 10 m grid."""

    code: str
    col_start: int
    col_stop: int

    @property
    def grid_code(self) -> str:
        return f"MGRS-{self.code}"


S2C_FROM = date(2025, 1, 21)
"""Sentinel-2C took over from Sentinel-2A's place in the constellation."""


@dataclass(frozen=True)
class Acquisition:
    """One date's datatake over the world."""

    index: int
    """Position in the time series (band index − 1 of the truth stacks)."""
    datetime: datetime
    platform: str
    """``sentinel-2a``, ``sentinel-2b`` or ``sentinel-2c``."""
    baseline: str
    sun_elevation: float
    sun_azimuth: float
    stream: int = -1
    """Key of the acquisition's random generators (−1: its ``index``)."""
    relative_orbit: int = 0
    """Relative orbit number (0: the spec's)."""
    swath_cover: float = 1.0
    """Share of the world's width inside the swath (1: all of it; the swath's edge crosses it else)."""

    @property
    def key(self) -> int:
        return self.index if self.stream < 0 else self.stream

    @property
    def date(self) -> date:
        return self.datetime.date()

    @property
    def offset_dn(self) -> int:
        """DN added to every valid pixel: 1000 from baseline 04.00 on, else 0."""
        version = parse_baseline(self.baseline)
        return -BOA_ADD_OFFSET_DN if version is not None and version >= BASELINE_OFFSET_FROM else 0

    @property
    def sun_zenith(self) -> float:
        return 90.0 - self.sun_elevation

    @property
    def unit(self) -> str:
        """``S2A`` or ``S2B``."""
        return "S2" + self.platform[-1].upper()


def tiles(spec: WorldSpec) -> tuple[Tile, ...]:
    """The tiles publishing the world: one, or a western and an eastern one that overlap."""
    n = spec.n_pixels
    if not spec.split_tiles:
        return (Tile(spec.tiles[0], 0, n),)
    width = math.ceil(n * (1 + spec.tile_overlap) / 2 / 2) * 2  # even: 20 m pixels stay whole
    width = min(width, n - 2)
    return (Tile(spec.tiles[0], 0, width), Tile(spec.tiles[1], n - width, n))


SECOND_ORBIT_STREAM = 100_000
"""Generator keys of the second orbit's acquisitions start here (the first orbit's are 0, 1, …)."""


def acquisitions(spec: WorldSpec) -> tuple[Acquisition, ...]:
    """Every acquisition from ``spec.start`` to ``spec.end`` that reaches the archive, in time order."""
    lon, lat = world_centre_lonlat(spec)
    physics = spec.physics.acquisition
    passes = _passes(spec, spec.start, 0, spec.relative_orbit, 1.0, rng_for(spec.seed, "schedule"))
    if physics.second_orbit:
        rng = rng_for(spec.seed, "schedule", "second-orbit")
        lag = int(rng.integers(2, 4))
        orbit = (spec.relative_orbit + 42) % 143 + 1
        first = spec.start + timedelta(days=lag)
        passes += _passes(spec, first, SECOND_ORBIT_STREAM, orbit, physics.second_orbit_cover, rng)
    if physics.missing_share > 0:
        lost = rng_for(spec.seed, "schedule", "missing")
        passes = [p for p in sorted(passes, key=lambda p: p[1]) if lost.random() >= physics.missing_share]
    out = []
    for i, (when, stream, orbit, cover, platform) in enumerate(sorted(passes, key=lambda p: p[0])):
        elevation, azimuth = solar_position(when, lat, lon)
        out.append(
            Acquisition(
                index=i,
                datetime=when,
                platform=platform,
                baseline=baseline_on(when.date()),
                sun_elevation=round(elevation, 4),
                sun_azimuth=round(azimuth, 4),
                stream=stream,
                relative_orbit=orbit,
                swath_cover=cover,
            )
        )
    return tuple(out)


def _passes(
    spec: WorldSpec, first: date, stream0: int, orbit: int, cover: float, rng: np.random.Generator
) -> list[tuple[datetime, int, int, float, str]]:
    """(time, generator key, relative orbit, swath cover, platform) of one orbit's passes."""
    out = []
    day, i = first, 0
    while day <= spec.end:
        when = datetime.combine(day, spec.overpass_utc, tzinfo=UTC)
        when += timedelta(seconds=float(rng.uniform(-3, 3)))
        out.append((when, stream0 + i, orbit, cover, platform_on(day, i)))
        day += timedelta(days=spec.revisit_days)
        i += 1
    return out


def platform_on(day: date, i: int) -> str:
    """Sentinel-2A and -2B alternate; Sentinel-2C flies in 2A's place from :data:`S2C_FROM`."""
    if i % 2:
        return "sentinel-2b"
    return "sentinel-2c" if day >= S2C_FROM else "sentinel-2a"


def baseline_on(day: date) -> str:
    current = BASELINES[0][1]
    for since, version in BASELINES:
        if day >= since:
            current = version
    return current


def world_centre_lonlat(spec: WorldSpec) -> tuple[float, float]:
    x0, y0, x1, y1 = spec.bounds
    to_ll = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    lon, lat = to_ll.transform((x0 + x1) / 2, (y0 + y1) / 2)
    return float(lon), float(lat)


def solar_position(when: datetime, lat: float, lon: float) -> tuple[float, float]:
    """Sun elevation and azimuth (degrees, azimuth clockwise from north) at ``when`` (UTC).

    The Astronomical Almanac's low-precision formulae: better than 0.1°, plenty
    for shadow directions and the low-sun filter.
    """
    days = (when - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds() / 86400.0
    mean_lon = math.radians((280.460 + 0.9856474 * days) % 360)
    anomaly = math.radians((357.528 + 0.9856003 * days) % 360)
    ecl_lon = mean_lon + math.radians(1.915) * math.sin(anomaly) + math.radians(0.020) * math.sin(2 * anomaly)
    obliquity = math.radians(23.439 - 4e-7 * days)
    ra = math.atan2(math.cos(obliquity) * math.sin(ecl_lon), math.cos(ecl_lon))
    dec = math.asin(math.sin(obliquity) * math.sin(ecl_lon))
    gmst_hours = (18.697374558 + 24.06570982441908 * days) % 24
    hour_angle = math.radians(gmst_hours * 15 + lon) - ra
    phi = math.radians(lat)
    elevation = math.asin(
        math.sin(phi) * math.sin(dec) + math.cos(phi) * math.cos(dec) * math.cos(hour_angle)
    )
    azimuth = math.atan2(
        -math.sin(hour_angle), math.tan(dec) * math.cos(phi) - math.sin(phi) * math.cos(hour_angle)
    )
    return math.degrees(elevation), math.degrees(azimuth) % 360


@dataclass(frozen=True)
class ProductIds:
    """How each provider names one tile of one acquisition."""

    scene: str
    """Folder name under ``scenes/`` (Earth Search style)."""
    earth_search: str
    """Earth Search v1 ``sentinel-2-l2a`` (``S2A_32UPU_20220125_0_L2A``)."""
    planetary_computer: str
    cdse: str


def product_ids(spec: WorldSpec, acq: Acquisition, tile: Tile) -> ProductIds:
    """Provider-style ids; the processing timestamps are drawn (a few hours to a day later)."""
    rng = rng_for(spec.seed, "ids", acq.key, tile.code)
    sensed = acq.datetime.strftime("%Y%m%dT%H%M%S")
    es = f"{acq.unit}_{tile.code}_{acq.date:%Y%m%d}_0_L2A"
    pc_processed = acq.datetime + timedelta(hours=float(rng.uniform(12, 30)))
    cdse_processed = acq.datetime + timedelta(hours=float(rng.uniform(1, 5)))
    orbit = f"R{acq.relative_orbit or spec.relative_orbit:03d}"
    n_code = "N" + acq.baseline.replace(".", "")
    return ProductIds(
        scene=es,
        earth_search=es,
        planetary_computer=f"{acq.unit}_MSIL2A_{sensed}_{orbit}_T{tile.code}_{pc_processed:%Y%m%dT%H%M%S}",
        cdse=f"{acq.unit}_MSIL2A_{sensed}_{n_code}_{orbit}_T{tile.code}_{cdse_processed:%Y%m%dT%H%M%S}",
    )
