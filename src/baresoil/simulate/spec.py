"""What world to simulate: the one frozen description every stage reads.

A :class:`WorldSpec` plus its seed determines every array and table the
simulator writes, so a spec is also the recipe stored beside the truth
(``truth/world.json``) to reproduce a run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from affine import Affine

from ..errors import ConfigError
from .physics import PROFILES, Physics, draw_landscape, physics_of

PIXEL_M = 10
"""Side of a simulation pixel in metres: the native grid of the 10 m bands."""

RECIPE = 3
"""Version of the way a spec becomes a world, stored in ``truth/world.json``.  Raised whenever
the same spec and seed give another world, so that a world simulated before is not reused.
2: each random stream is independent of the simulated span (a longer span extends the world).
3: world profiles; the truth follows the scoring contract (bare: soil >= 75 %, no snow)."""


@dataclass(frozen=True)
class WorldSpec:
    """A simulated Sentinel-2 world: where, when, how large and how it varies."""

    seed: int = 42
    """Root of every random draw; the same spec and seed give identical outputs."""
    size_m: int = 3000
    """Side of the square world in metres: a multiple of 20 (so 20 m bands tile it exactly), at least 400."""
    origin: tuple[float, float] = (680_000.0, 5_340_000.0)
    """South-west corner (easting, northing) in ``epsg``; the default lies in Bavaria."""
    epsg: int = 32632
    """CRS of the world and of every scene (UTM zone 32N)."""
    start: date = date(2021, 1, 1)
    """First acquisition day (included)."""
    end: date = date(2023, 6, 30)
    """Last possible acquisition day (included): 30 June after the last full year, so that
    year's bare periods after harvest can be seen to their end, as the HRL's window allows."""
    revisit_days: int = 5
    """Days between acquisitions; Sentinel-2A and -2B alternate."""
    n_samples: int = 150
    """Number of soil samples delivered by the 'lab'."""
    split_tiles: bool = True
    """Publish each date as two MGRS tiles that each cover part of the world (readers must mosaic)."""
    tiles: tuple[str, str] = ("32UPU", "32UQU")
    """MGRS tile codes: the western and the eastern tile (only the first when not split)."""
    tile_overlap: float = 0.2
    """Share of the world's width covered by both tiles when split (0.2: west 60 %, east 60 %)."""
    relative_orbit: int = 65
    """Relative orbit number used in the product ids."""
    overpass_utc: time = time(10, 20, 31)
    """Nominal sensing time of the datatake over the world."""
    parcel_ha: tuple[float, float] = (1.0, 8.0)
    """Range of parcel sizes in hectares (the upper bound shrinks for small worlds)."""
    water_share: float = 0.03
    """Share of the area under permanent water (a pond)."""
    village_share: float = 0.07
    """Share of built-up land (a village: roofs, streets, gardens)."""
    forest_share: float = 0.12
    """Share of forest (deciduous and coniferous stands)."""
    rock_share: float = 0.02
    """Share of permanently bare rock (a quarry)."""
    grassland_share: float = 0.13
    """Share of permanent grassland (mown meadows)."""
    cover_crop_probability: float = 0.6
    """Chance that a field left over winter before a spring crop gets a cover crop."""
    sample_cropland_share: float = 0.9
    """Share of soil samples taken on cropland; the rest on grassland."""
    declared_error_rate: float = 0.02
    """Share of parcel-years whose declared crop differs from the true crop."""
    worldcover_error_rate: float = 0.05
    """Share of agricultural parcels the WorldCover-like input maps with the wrong class."""
    noise_reflectance: float = 0.0025
    """Standard deviation of sensor noise, in reflectance units."""
    haze_probability: float = 0.15
    """Typical chance of a haze layer on a date (× 2 × clear share: haze shows on clear days)."""
    cirrus_probability: float = 0.12
    """Chance that a date has thin cirrus."""
    sentinel1: bool = True
    """Also write Sentinel-1 sigma0 VV/VH every 6 days in its own catalog (``stac/sentinel-1-rtc``)."""
    practices: bool = False
    """Add split parcels (a strip farmed apart) and grassland ploughed up in the last full year, with their
    truth in ``truth/practices.csv`` (see :mod:`.practices`); off, the world is unchanged."""
    profile: str = "demo"
    """Whose priors the world's physics is drawn from (:data:`.physics.PROFILES`); ``demo`` is the fixed
    physics of the demo world.  Build other profiles' specs with :meth:`for_profile`."""

    def __post_init__(self) -> None:
        if self.size_m < 400 or self.size_m % (2 * PIXEL_M):
            raise ConfigError(f"size_m must be a multiple of 20 and at least 400, got {self.size_m}")
        if self.end < self.start:
            raise ConfigError(f"end {self.end} is before start {self.start}")
        if self.revisit_days < 1:
            raise ConfigError(f"revisit_days must be positive, got {self.revisit_days}")
        if not 0.0 < self.tile_overlap < 1.0:
            raise ConfigError(f"tile_overlap must be between 0 and 1, got {self.tile_overlap}")
        if self.n_samples < 0:
            raise ConfigError(f"n_samples must not be negative, got {self.n_samples}")
        if any(o % (2 * PIXEL_M) for o in self.origin):
            raise ConfigError(f"origin must lie on the 20 m grid, got {self.origin}")
        if self.profile not in PROFILES:
            raise ConfigError(f"unknown world profile {self.profile!r}; have {', '.join(PROFILES)}")

    @classmethod
    def for_profile(cls, profile: str, seed: int, **changes: Any) -> WorldSpec:
        """World ``seed`` of ``profile``: its landscape drawn from the profile's priors, then ``changes``."""
        if profile not in PROFILES:
            raise ConfigError(f"unknown world profile {profile!r}; have {', '.join(PROFILES)}")
        drawn = draw_landscape(profile, seed)
        return cls(**{"seed": seed, "profile": profile, **drawn, **changes})

    @property
    def physics(self) -> Physics:
        """The world's physics (soil, cover, calendars, practices, weather, sky, SCL, acquisitions)."""
        return physics_of(self.profile, self.seed)

    @property
    def n_pixels(self) -> int:
        """Pixels along one side of the 10 m grid."""
        return self.size_m // PIXEL_M

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_pixels, self.n_pixels)

    def transform(self, resolution: int = PIXEL_M) -> Affine:
        """The north-up geotransform of the world at ``resolution`` metres."""
        x0, y0 = self.origin
        return Affine(resolution, 0.0, x0, 0.0, -resolution, y0 + self.size_m)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        x0, y0 = self.origin
        return (x0, y0, x0 + self.size_m, y0 + self.size_m)

    @property
    def last_full_year(self) -> int:
        """The last calendar year observed to 31 December (the year of ``start`` at the earliest).

        The default world runs on to June of the next year, as crop-season products need,
        so its last full year is the year before ``end``.
        """
        full = self.end.year if (self.end.month, self.end.day) == (12, 31) else self.end.year - 1
        return max(self.start.year, full)

    @property
    def sim_start(self) -> date:
        """First simulated day: the 1st of July before ``start``, so first-year winter crops exist."""
        year = self.start.year if self.start.month >= 7 else self.start.year - 1
        return date(year, 7, 1)

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON-ready values (dates and times in ISO form)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, date | time):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorldSpec:
        """Inverse of :meth:`to_json` (unknown keys are ignored, missing ones default)."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in ("start", "end"):
                value = date.fromisoformat(value)
            elif f.name == "overpass_utc":
                value = time.fromisoformat(value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[f.name] = value
        return cls(**kwargs)
