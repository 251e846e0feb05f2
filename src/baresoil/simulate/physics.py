"""The physics of one simulated world, drawn from its profile's priors.

A product tuned on one world learns that world's constants: its soil line, its
residue spectrum, its calendar, its clouds and its scene-classification errors.
So every seed of a profile draws its own physics from wide, documented priors,
and a product judged on many such worlds is judged on what it reads from the data,
not on the constants of one of them.

:data:`PROFILES` holds the priors: ``demo`` (the fixed physics of the demo world,
every value a constant, so that world stays as it is), ``central`` (central
Europe, HRL climate zone 1), ``south`` (zone 2: earlier calendars, summer crops,
double cropping and irrigation, bright calcareous soils, clear skies),
``atlantic`` (cloudy, grass-rich, no-till common) and ``continental`` (large
fields, cold snowy winters, dark chernozem-like soils, spring cereals).

Each parameter draws from its own generator (seed, profile, parameter name), so
adding a parameter never changes another's draw.  The physics is a pure function
of (profile, seed) and is written to ``truth/world.json`` beside the spec.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import ConfigError
from .fields import rng_for


@dataclass(frozen=True)
class SoilPhysics:
    """How the world's soils look: level, soil line, and the effects of SOC, clay, iron, lime and water."""

    soc_level: float = 15.0
    """Typical topsoil SOC of the world's cropland (g/kg): dark soils carry more."""
    clay_level: float = 24.0
    """Typical clay content (%)."""
    brightness: float = 1.0
    """Multiplier of the reference dry-soil spectrum (parent material, stones)."""
    tilt: float = 0.0
    """Relative change of soil reflectance from blue to SWIR2 (0: the reference soil line)."""
    soc_darkening: float = 1.0
    """Scale of the per-band SOC exponents: how strongly organic matter darkens."""
    clay_absorption: float = 0.875
    """B12/B11 of a soil at the world's typical clay content: the depth of the 2200 nm hydroxyl
    absorption.  Its prior (0.84 … 0.94: NDTI 0.03 … 0.09) and residue's (``residue_cellulose``,
    0.62 … 0.80: NDTI 0.11 … 0.23) keep the gap that soils and cellulose leave in the SWIR."""
    iron: float = 1.0
    """Amplitude of the iron field's red tilt."""
    carbonate: float = 0.0
    """Amplitude of a calcareous brightening field (whiter, flatter in the visible)."""
    moisture_darkening: float = 1.0
    """Scale of the darkening of a saturated topsoil."""
    texture: float = 0.02
    """Standard deviation of the per-pixel log brightness of the soil (roughness, stones, crusts)."""


@dataclass(frozen=True)
class CoverPhysics:
    """Green canopy, standing dry biomass and residue: their spectra and how long residue lasts."""

    green_nir: float = 1.0
    """Scale of green vegetation's red-edge and NIR plateau (B06 … B8A)."""
    green_visible: float = 1.0
    """Scale of green vegetation's visible reflectance (B02 … B05)."""
    green_swir: float = 1.0
    """Scale of green vegetation's SWIR reflectance (leaf water)."""
    crop_variation: float = 0.0
    """Standard deviation of each crop's own NIR and visible scale around the world's."""
    residue_brightness: float = 1.0
    """Scale of the spectrum of residue lying on the soil."""
    residue_cellulose: float | None = None
    """B12/B11 of residue: the lower, the deeper the 2100 nm cellulose absorption (higher NDTI);
    None keeps the demo spectrum's (0.726)."""
    straw_brightness: float = 1.0
    """Scale of standing dry biomass (ripe cereals, dead haulm)."""
    residue_half_life_days: float = 170.0
    """Half-life of residue on the ground."""
    harvest_residue: float = 1.0
    """Scale of the residue cover a harvest leaves."""


@dataclass(frozen=True)
class CalendarPhysics:
    """When crops grow, relative to the central-European calendars."""

    crop_mix: str = "central"
    """Which crop shares and rotations (``CROP_MIXES`` in :mod:`.crops`)."""
    spring_shift_days: int = 0
    """Shift of spring and summer crops' sowing and peak (negative: earlier)."""
    harvest_shift_days: int = 0
    """Shift of every harvest and senescence window."""
    winter_sowing_shift_days: int = 0
    """Shift of winter crops' sowing (positive: later, as in the south)."""
    greenup_shift_days: int = 0
    """Shift of winter crops' spring green-up."""
    spread: float = 1.0
    """Widening of every calendar window around its centre (field-to-field spread)."""


@dataclass(frozen=True)
class PracticePhysics:
    """How the world's farmers work their fields."""

    no_till_share: float = 0.0
    """Share of cropland parcels under no-till: no tillage, direct drilling, residue left on the surface."""
    reduced_till_share: float = 0.0
    """Share under reduced tillage: shallow stubble tillage that keeps half the residue, no ploughing."""
    volunteers: float = 1.0
    """Scale of volunteer and weed regrowth on stubble."""
    late_sowing_probability: float = 0.0
    """Chance that a winter crop is sown a month late (wet autumn, late harvest of the previous crop)."""
    double_crop_probability: float = 0.0
    """Chance that a second crop is sown right after an early harvest (soybean after barley)."""
    irrigated_share: float = 0.0
    """Share of summer-crop parcels that are irrigated (wet soil under the canopy in summer)."""
    grass_cuts: tuple[int, int] = (3, 4)
    """Range of the number of mowings a year."""


@dataclass(frozen=True)
class WeatherPhysics:
    """The climate: temperature, rain and how fast the topsoil dries."""

    temperature_mean: float = 8.5
    temperature_amplitude: float = 9.5
    wet_after_dry: float = 0.30
    """Chance of a wet day after a dry one (annual mean)."""
    wet_after_wet: float = 0.60
    wet_seasonality: float = 1.0
    """Scale of the cold-season excess of wet days (negative: summer rain, as in continental climates)."""
    rain_scale_mm: float = 6.0
    """Mean rain of a wet day is about 0.8 × this."""
    drying_days: float = 8.5
    """Mean e-folding time of topsoil drying."""


@dataclass(frozen=True)
class SkyPhysics:
    """Cloud regimes and the atmosphere in front of the ground."""

    clear_chance: float = 0.38
    """Chance of a (nearly) cloud-free date in summer on a dry day."""
    overcast_chance: float = 0.18
    """Chance of an overcast date in summer on a dry day."""
    haze_strength: tuple[float, float] = (0.02, 0.07)
    cirrus_strength: tuple[float, float] = (0.01, 0.04)
    cloud_height_m: tuple[float, float] = (800.0, 2500.0)
    shadow_light: tuple[float, float] = (0.2, 0.4)
    cloud_scale_m: float = 1000.0
    """Correlation length of the largest cloud structures."""


@dataclass(frozen=True)
class SclPhysics:
    """What Sen2Cor's scene classification gets wrong in this world.

    Thresholds on the scene's smooth detection field (mean 0, std 1) decide where a
    miss happens, so misses come in patches, as real ones do.
    """

    cloud_opacity: float = 0.25
    """Cloud opacity from which a pixel is flagged cloud: thin edges below it pass as clear."""
    shadow_strength: float = 0.35
    """Shadow strength from which a shadow can be flagged."""
    shadow_miss_z: float = -0.6
    """Shadows are flagged where the detection field exceeds this (−0.6: about 70 % found)."""
    cirrus_found_z: float = 0.8
    """Cirrus is flagged where the detection field is below this."""
    snow_as_cloud_z: float = 1.4
    """Snow is flagged as cloud where the detection field exceeds this."""
    bright_as_cloud: float = 0.0
    """Chance per scene that bright bare surfaces are flagged as cloud (a known Sen2Cor confusion)."""
    unclassified: float = 0.003
    """Share of pixels sprinkled as 'unclassified'."""


@dataclass(frozen=True)
class AcquisitionPhysics:
    """What reaches the archive: orbits, footprints, missing dates and data losses."""

    second_orbit: bool = False
    """A neighbouring relative orbit also sees part of the world, two or three days after the first."""
    second_orbit_cover: float = 0.5
    """Share of the world's width inside the second orbit's swath (its edge crosses the world)."""
    missing_share: float = 0.0
    """Share of acquisitions that never reach the archive."""
    strip_probability: float = 0.0
    """Chance that a scene has a data-loss strip (rows of nodata in every band)."""


@dataclass(frozen=True)
class Physics:
    """Everything about a world's physics that its spec does not say."""

    profile: str = "demo"
    soil: SoilPhysics = field(default_factory=SoilPhysics)
    cover: CoverPhysics = field(default_factory=CoverPhysics)
    calendar: CalendarPhysics = field(default_factory=CalendarPhysics)
    practices: PracticePhysics = field(default_factory=PracticePhysics)
    weather: WeatherPhysics = field(default_factory=WeatherPhysics)
    sky: SkyPhysics = field(default_factory=SkyPhysics)
    scl: SclPhysics = field(default_factory=SclPhysics)
    acquisition: AcquisitionPhysics = field(default_factory=AcquisitionPhysics)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- priors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uniform:
    lo: float
    hi: float

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.lo, self.hi))


@dataclass(frozen=True)
class LogUniform:
    lo: float
    hi: float

    def draw(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.lo), math.log(self.hi))))


@dataclass(frozen=True)
class Days:
    """A whole number of days, uniform over [lo, hi]."""

    lo: int
    hi: int

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.lo, self.hi + 1))


@dataclass(frozen=True)
class Chance:
    """True with probability ``p``."""

    p: float

    def draw(self, rng: np.random.Generator) -> bool:
        return bool(rng.random() < self.p)


@dataclass(frozen=True)
class Range:
    """A (low, high) pair: low uniform over ``lo``, width uniform over ``width``."""

    lo: tuple[float, float]
    width: tuple[float, float]

    def draw(self, rng: np.random.Generator) -> tuple[float, float]:
        low = float(rng.uniform(*self.lo))
        return (low, low + float(rng.uniform(*self.width)))


@dataclass(frozen=True)
class Cuts:
    lo: tuple[int, int]

    def draw(self, rng: np.random.Generator) -> tuple[int, int]:
        low = int(rng.integers(self.lo[0], self.lo[1] + 1))
        return (low, low + int(rng.integers(0, 2)))


Prior = Uniform | LogUniform | Days | Chance | Range | Cuts
Priors = Mapping[str, Any]
"""``"group.parameter"`` -> a prior or a fixed value."""

_COMMON: Priors = {
    "soil.brightness": LogUniform(0.7, 1.45),
    "soil.tilt": Uniform(-0.2, 0.25),
    "soil.soc_darkening": Uniform(0.6, 1.4),
    "soil.clay_absorption": Uniform(0.84, 0.94),
    "soil.iron": Uniform(0.3, 2.5),
    "soil.carbonate": Uniform(0.0, 0.1),
    "soil.moisture_darkening": Uniform(0.7, 1.3),
    "soil.texture": Uniform(0.015, 0.06),
    "cover.green_nir": Uniform(0.8, 1.2),
    "cover.green_visible": Uniform(0.7, 1.4),
    "cover.green_swir": Uniform(0.8, 1.25),
    "cover.crop_variation": Uniform(0.0, 0.1),
    "cover.residue_brightness": Uniform(0.65, 1.35),
    "cover.residue_cellulose": Uniform(0.62, 0.8),
    "cover.straw_brightness": Uniform(0.8, 1.25),
    "cover.residue_half_life_days": LogUniform(70.0, 320.0),
    "cover.harvest_residue": Uniform(0.6, 1.4),
    "calendar.spread": Uniform(1.0, 2.0),
    "practices.no_till_share": Uniform(0.0, 0.25),
    "practices.reduced_till_share": Uniform(0.0, 0.4),
    "practices.volunteers": Uniform(0.4, 2.0),
    "practices.late_sowing_probability": Uniform(0.0, 0.15),
    "practices.grass_cuts": Cuts((2, 4)),
    "sky.haze_strength": Range((0.01, 0.03), (0.02, 0.06)),
    "sky.cirrus_strength": Range((0.005, 0.015), (0.015, 0.04)),
    "sky.cloud_height_m": Range((500.0, 1200.0), (800.0, 3000.0)),
    "sky.shadow_light": Range((0.12, 0.3), (0.1, 0.25)),
    "sky.cloud_scale_m": Uniform(600.0, 1800.0),
    "scl.cloud_opacity": Uniform(0.15, 0.4),
    "scl.shadow_strength": Uniform(0.25, 0.5),
    "scl.shadow_miss_z": Uniform(-1.3, 0.2),
    "scl.cirrus_found_z": Uniform(0.0, 1.5),
    "scl.snow_as_cloud_z": Uniform(0.8, 2.0),
    "scl.bright_as_cloud": Uniform(0.0, 0.15),
    "scl.unclassified": Uniform(0.001, 0.01),
    "acquisition.second_orbit": Chance(0.5),
    "acquisition.second_orbit_cover": Uniform(0.3, 0.9),
    "acquisition.missing_share": Uniform(0.0, 0.08),
    "acquisition.strip_probability": Uniform(0.0, 0.05),
}

PROFILES: Mapping[str, Priors] = {
    "demo": {},
    "central": {
        **_COMMON,
        "soil.soc_level": LogUniform(10.0, 25.0),
        "soil.clay_level": Uniform(14.0, 32.0),
        "calendar.crop_mix": "central",
        "calendar.spring_shift_days": Days(-10, 10),
        "calendar.harvest_shift_days": Days(-10, 10),
        "calendar.winter_sowing_shift_days": Days(-7, 10),
        "calendar.greenup_shift_days": Days(-10, 10),
        "practices.double_crop_probability": Uniform(0.0, 0.05),
        "practices.irrigated_share": Uniform(0.0, 0.1),
        "weather.temperature_mean": Uniform(7.5, 10.5),
        "weather.temperature_amplitude": Uniform(8.5, 10.5),
        "weather.wet_after_dry": Uniform(0.25, 0.35),
        "weather.wet_after_wet": Uniform(0.55, 0.68),
        "weather.wet_seasonality": Uniform(-0.5, 1.2),
        "weather.rain_scale_mm": Uniform(4.5, 8.0),
        "weather.drying_days": Uniform(6.0, 11.0),
        "sky.clear_chance": Uniform(0.28, 0.45),
        "sky.overcast_chance": Uniform(0.12, 0.25),
    },
    "south": {
        **_COMMON,
        "soil.soc_level": LogUniform(6.0, 14.0),
        "soil.clay_level": Uniform(18.0, 40.0),
        "soil.brightness": LogUniform(1.0, 1.7),
        "soil.carbonate": Uniform(0.05, 0.35),
        "soil.iron": Uniform(0.8, 3.0),
        "calendar.crop_mix": "south",
        "calendar.spring_shift_days": Days(-30, -10),
        "calendar.harvest_shift_days": Days(-30, -12),
        "calendar.winter_sowing_shift_days": Days(10, 40),
        "calendar.greenup_shift_days": Days(-35, -15),
        "practices.double_crop_probability": Uniform(0.1, 0.35),
        "practices.irrigated_share": Uniform(0.2, 0.6),
        "practices.grass_cuts": Cuts((2, 3)),
        "weather.temperature_mean": Uniform(13.0, 16.0),
        "weather.temperature_amplitude": Uniform(7.5, 10.0),
        "weather.wet_after_dry": Uniform(0.12, 0.22),
        "weather.wet_after_wet": Uniform(0.45, 0.6),
        "weather.wet_seasonality": Uniform(1.5, 2.5),
        "weather.rain_scale_mm": Uniform(6.0, 11.0),
        "weather.drying_days": Uniform(4.0, 7.0),
        "sky.clear_chance": Uniform(0.5, 0.7),
        "sky.overcast_chance": Uniform(0.05, 0.12),
        "scl.bright_as_cloud": Uniform(0.03, 0.25),
    },
    "atlantic": {
        **_COMMON,
        "soil.soc_level": LogUniform(15.0, 35.0),
        "soil.clay_level": Uniform(12.0, 30.0),
        "calendar.crop_mix": "atlantic",
        "calendar.spring_shift_days": Days(-7, 15),
        "calendar.harvest_shift_days": Days(-5, 15),
        "calendar.winter_sowing_shift_days": Days(0, 20),
        "calendar.greenup_shift_days": Days(-25, -5),
        "practices.no_till_share": Uniform(0.05, 0.4),
        "practices.double_crop_probability": Uniform(0.0, 0.05),
        "practices.grass_cuts": Cuts((3, 5)),
        "weather.temperature_mean": Uniform(9.5, 12.0),
        "weather.temperature_amplitude": Uniform(5.0, 7.5),
        "weather.wet_after_dry": Uniform(0.35, 0.48),
        "weather.wet_after_wet": Uniform(0.65, 0.78),
        "weather.wet_seasonality": Uniform(0.5, 1.5),
        "weather.rain_scale_mm": Uniform(4.0, 7.0),
        "weather.drying_days": Uniform(9.0, 15.0),
        "sky.clear_chance": Uniform(0.12, 0.25),
        "sky.overcast_chance": Uniform(0.25, 0.4),
    },
    "continental": {
        **_COMMON,
        "soil.soc_level": LogUniform(18.0, 40.0),
        "soil.clay_level": Uniform(20.0, 38.0),
        "soil.brightness": LogUniform(0.6, 1.1),
        "calendar.crop_mix": "continental",
        "calendar.spring_shift_days": Days(0, 20),
        "calendar.harvest_shift_days": Days(-5, 10),
        "calendar.winter_sowing_shift_days": Days(-15, 0),
        "calendar.greenup_shift_days": Days(5, 25),
        "practices.double_crop_probability": Uniform(0.0, 0.03),
        "practices.grass_cuts": Cuts((2, 3)),
        "weather.temperature_mean": Uniform(6.0, 9.0),
        "weather.temperature_amplitude": Uniform(11.0, 14.0),
        "weather.wet_after_dry": Uniform(0.2, 0.3),
        "weather.wet_after_wet": Uniform(0.5, 0.62),
        "weather.wet_seasonality": Uniform(-1.5, 0.0),
        "weather.rain_scale_mm": Uniform(5.0, 9.0),
        "weather.drying_days": Uniform(5.0, 9.0),
        "sky.clear_chance": Uniform(0.35, 0.5),
        "sky.overcast_chance": Uniform(0.12, 0.22),
    },
}
"""Priors per profile; parameters not named keep the demo world's value."""

_GROUPS = {f.name: f.type for f in dataclasses.fields(Physics) if f.name != "profile"}


def draw_physics(profile: str, seed: int) -> Physics:
    """The physics of world ``seed`` of ``profile``: each parameter from its own generator."""
    try:
        priors = PROFILES[profile]
    except KeyError:
        raise ConfigError(f"unknown world profile {profile!r}; have {', '.join(PROFILES)}") from None
    groups: dict[str, dict[str, Any]] = {name: {} for name in _GROUPS}
    for key, prior in priors.items():
        group, name = key.split(".")
        value = prior.draw(rng_for(seed, "physics", profile, key)) if hasattr(prior, "draw") else prior
        groups[group][name] = value
    base = Physics()
    parts = {name: dataclasses.replace(getattr(base, name), **values) for name, values in groups.items()}
    return Physics(profile=profile, **parts)


@lru_cache(maxsize=16)
def physics_of(profile: str, seed: int) -> Physics:
    """:func:`draw_physics`, computed once per world."""
    return draw_physics(profile, seed)


# --- landscapes: the spec's fields a profile draws -----------------------------------------------

_LANDSCAPE_COMMON: Priors = {
    "noise_reflectance": Uniform(0.0018, 0.004),
    "worldcover_error_rate": Uniform(0.03, 0.1),
    "declared_error_rate": Uniform(0.0, 0.04),
    "tile_overlap": Uniform(0.1, 0.4),
    "practices": True,
}
LANDSCAPES: Mapping[str, Priors] = {
    "demo": {},
    "central": {
        **_LANDSCAPE_COMMON,
        "parcel_ha": Range((0.6, 2.0), (3.0, 10.0)),
        "village_share": Uniform(0.03, 0.1),
        "forest_share": Uniform(0.05, 0.2),
        "water_share": Uniform(0.0, 0.04),
        "rock_share": Uniform(0.0, 0.03),
        "grassland_share": Uniform(0.05, 0.2),
        "cover_crop_probability": Uniform(0.3, 0.8),
        "haze_probability": Uniform(0.05, 0.25),
        "cirrus_probability": Uniform(0.05, 0.2),
    },
    "south": {
        **_LANDSCAPE_COMMON,
        "parcel_ha": Range((0.4, 1.5), (2.0, 8.0)),
        "village_share": Uniform(0.04, 0.12),
        "forest_share": Uniform(0.02, 0.1),
        "water_share": Uniform(0.0, 0.03),
        "rock_share": Uniform(0.01, 0.05),
        "grassland_share": Uniform(0.02, 0.08),
        "cover_crop_probability": Uniform(0.05, 0.3),
        "haze_probability": Uniform(0.15, 0.35),
        "cirrus_probability": Uniform(0.05, 0.15),
    },
    "atlantic": {
        **_LANDSCAPE_COMMON,
        "parcel_ha": Range((0.8, 2.0), (3.0, 8.0)),
        "village_share": Uniform(0.03, 0.08),
        "forest_share": Uniform(0.05, 0.15),
        "water_share": Uniform(0.0, 0.04),
        "rock_share": Uniform(0.0, 0.02),
        "grassland_share": Uniform(0.25, 0.45),
        "cover_crop_probability": Uniform(0.4, 0.9),
        "haze_probability": Uniform(0.05, 0.15),
        "cirrus_probability": Uniform(0.1, 0.25),
    },
    "continental": {
        **_LANDSCAPE_COMMON,
        "parcel_ha": Range((3.0, 8.0), (15.0, 40.0)),
        "village_share": Uniform(0.02, 0.06),
        "forest_share": Uniform(0.03, 0.12),
        "water_share": Uniform(0.0, 0.03),
        "rock_share": Uniform(0.0, 0.02),
        "grassland_share": Uniform(0.03, 0.12),
        "cover_crop_probability": Uniform(0.1, 0.5),
        "haze_probability": Uniform(0.05, 0.2),
        "cirrus_probability": Uniform(0.05, 0.15),
    },
}
"""Priors of the spec fields a profile sets (landscape, sensor noise, input errors)."""


def draw_landscape(profile: str, seed: int) -> dict[str, Any]:
    """The spec fields of world ``seed`` of ``profile``, each from its own generator."""
    return {
        key: prior.draw(rng_for(seed, "landscape", profile, key)) if hasattr(prior, "draw") else prior
        for key, prior in LANDSCAPES[profile].items()
    }
