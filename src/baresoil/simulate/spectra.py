"""Surface reflectance in the ten Sentinel-2 bands: endmembers, soil spectra, mixing.

A pixel is a linear mixture of green canopy, standing dry biomass, residue on
the ground, exposed soil and a static material (roof, asphalt, water, rock),
with snow laid over it.  The soil spectrum is where the soil information lives:

* brightness falls with SOC (a power law, i.e. linear in log SOC), and more in
  the visible than in the SWIR, as organic matter flattens the spectrum;
* clay deepens the 2200 nm hydroxyl absorption (B12 falls relative to B11);
* iron oxides tilt the red slope (B04 up, B02 down);
* moisture darkens every band, the SWIR most.

With these numbers a pure dry soil has NDTI < 0.1 (residue > 0.1) and
PVIR2 = NDVI + NBR mostly between about −0.05 and 0.2, shifting with the soil,
so no single threshold separates soil from everything else everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..catalog.layouts import BAND_CENTRE_NM, REFLECTANCE_BANDS
from .fields import rng_for, smooth_field
from .physics import CoverPhysics, SoilPhysics
from .world import (
    FOREST_CONIFEROUS,
    FOREST_DECIDUOUS,
    GARDEN,
    GRASSLAND,
    HEDGE,
    MAT_ASPHALT,
    MAT_GREY_ROOF,
    MAT_RED_ROOF,
    MAT_ROCK,
    MAT_WATER,
    World,
)

BANDS = REFLECTANCE_BANDS
"""Band order of every spectrum array here (B02 … B12)."""


def _spectrum(*values: float) -> np.ndarray:
    if len(values) != len(BANDS):
        raise ValueError(f"a spectrum needs {len(BANDS)} values, got {len(values)}")
    return np.array(values, np.float32)


#                          B02   B03   B04   B05   B06   B07   B08   B8A   B11   B12
GREEN_CROP = _spectrum(0.030, 0.060, 0.030, 0.090, 0.250, 0.330, 0.380, 0.400, 0.200, 0.100)
GREEN_GRASS = _spectrum(0.035, 0.070, 0.040, 0.100, 0.260, 0.330, 0.370, 0.390, 0.220, 0.120)
GREEN_DECIDUOUS = _spectrum(0.025, 0.050, 0.025, 0.080, 0.230, 0.310, 0.350, 0.370, 0.180, 0.080)
GREEN_CONIFER = _spectrum(0.020, 0.035, 0.018, 0.050, 0.140, 0.190, 0.210, 0.220, 0.100, 0.050)
STRAW = _spectrum(0.080, 0.110, 0.140, 0.170, 0.210, 0.240, 0.270, 0.290, 0.380, 0.280)
DRY_GRASS = _spectrum(0.070, 0.100, 0.120, 0.150, 0.200, 0.230, 0.260, 0.280, 0.350, 0.250)
BARK = _spectrum(0.040, 0.050, 0.060, 0.075, 0.090, 0.110, 0.120, 0.130, 0.170, 0.120)
RESIDUE = _spectrum(0.070, 0.095, 0.120, 0.145, 0.175, 0.200, 0.220, 0.235, 0.310, 0.225)
"""Weathered residue lying on the soil: darker and greyer than fresh straw, NDTI still > 0.1."""
SOIL_REFERENCE = _spectrum(0.075, 0.105, 0.140, 0.165, 0.185, 0.195, 0.205, 0.215, 0.300, 0.262)
"""Dry loam with SOC 15 g/kg and 24 % clay."""
RED_ROOF = _spectrum(0.070, 0.080, 0.140, 0.170, 0.190, 0.200, 0.210, 0.220, 0.300, 0.260)
GREY_ROOF = _spectrum(0.120, 0.130, 0.140, 0.150, 0.160, 0.160, 0.170, 0.170, 0.200, 0.180)
ASPHALT = _spectrum(0.060, 0.070, 0.080, 0.090, 0.100, 0.110, 0.120, 0.120, 0.150, 0.140)
WATER = _spectrum(0.045, 0.055, 0.035, 0.030, 0.022, 0.018, 0.015, 0.014, 0.006, 0.004)
ROCK = _spectrum(0.320, 0.350, 0.380, 0.400, 0.410, 0.420, 0.430, 0.430, 0.460, 0.430)
"""Limestone quarry floor: bright, nearly flat, permanently bare."""
SNOW = _spectrum(0.850, 0.850, 0.830, 0.800, 0.780, 0.760, 0.720, 0.700, 0.100, 0.080)

SOC_EXPONENT = _spectrum(0.62, 0.60, 0.56, 0.54, 0.52, 0.50, 0.49, 0.48, 0.44, 0.44)
"""Brightness ∝ (SOC / 15)^-k per band: organic matter darkens the visible most."""
MOISTURE_DARKENING = _spectrum(0.40, 0.40, 0.40, 0.41, 0.41, 0.42, 0.42, 0.42, 0.50, 0.52)
"""Fraction of reflectance lost by a saturated topsoil, per band (water absorbs most in the SWIR)."""
IRON_SLOPE = _spectrum(-0.05, -0.01, 0.07, 0.05, 0.02, 0.0, 0.0, 0.0, 0.0, 0.0)
"""Relative change per unit of the iron field: redder soils."""

CARBONATE_GAIN = _spectrum(0.9, 0.8, 0.65, 0.6, 0.55, 0.5, 0.5, 0.5, 0.45, 0.3)
"""Relative brightening per unit of lime: calcareous soils are whiter, most in the visible."""

_B11, _B12 = BANDS.index("B11"), BANDS.index("B12")
_POSITION = np.array(
    [
        (BAND_CENTRE_NM[b] - BAND_CENTRE_NM["B02"]) / (BAND_CENTRE_NM["B12"] - BAND_CENTRE_NM["B02"])
        for b in BANDS
    ],
    np.float32,
)
"""Each band's place between B02 (0) and B12 (1), for the soil line's tilt."""
_VISIBLE = np.isin(BANDS, ("B02", "B03", "B04", "B05"))
_NIR = np.isin(BANDS, ("B06", "B07", "B08", "B8A"))
_SWIR = np.isin(BANDS, ("B11", "B12"))
_GREEN = {"crop": GREEN_CROP, "grass": GREEN_GRASS, "deciduous": GREEN_DECIDUOUS, "conifer": GREEN_CONIFER}
_GREEN_BY_CLASS = {GRASSLAND: "grass", GARDEN: "grass", FOREST_DECIDUOUS: "deciduous", HEDGE: "deciduous",
                   FOREST_CONIFEROUS: "conifer"}  # fmt: skip
_DRY_BY_CLASS = {GRASSLAND: DRY_GRASS, GARDEN: DRY_GRASS, FOREST_DECIDUOUS: BARK, HEDGE: BARK,
                 FOREST_CONIFEROUS: BARK}  # fmt: skip
_MATERIALS = {MAT_RED_ROOF: RED_ROOF, MAT_GREY_ROOF: GREY_ROOF, MAT_ASPHALT: ASPHALT, MAT_WATER: WATER,
              MAT_ROCK: ROCK}  # fmt: skip


def dry_soil(
    soc: np.ndarray,
    clay: np.ndarray,
    iron: np.ndarray,
    soil: SoilPhysics = SoilPhysics(),  # noqa: B008
) -> np.ndarray:
    """Dry soil reflectance (band, ...) from SOC (g/kg), clay (%) and the iron field, in ``soil``'s world."""
    soc = np.asarray(soc, np.float32)[None]
    clay = np.asarray(clay, np.float32)[None]
    iron = np.asarray(iron, np.float32)[None]
    shape = (-1,) + (1,) * (soc.ndim - 1)
    exponent = (soil.soc_darkening * SOC_EXPONENT).reshape(shape)
    brightness = (soc / soil.soc_level) ** (-exponent) * (1.0 - 0.004 * (clay - soil.clay_level))
    iron_tilt = 1.0 + soil.iron * IRON_SLOPE.reshape(shape) * iron
    spectrum = SOIL_REFERENCE.reshape(shape) * brightness * iron_tilt
    if soil.brightness != 1.0 or soil.tilt != 0.0:
        spectrum = spectrum * (soil.brightness * (1.0 + soil.tilt * (_POSITION - 0.5))).reshape(shape)
    # clay deepens the 2200 nm absorption: B12/B11 from 0.91 (10 % clay) to 0.82 (45 %) in the demo world
    ratio = soil.clay_absorption - 0.0026 * (clay[0] - soil.clay_level)
    spectrum[_B12] = spectrum[_B11] * ratio
    return spectrum.astype(np.float32)


def calcareous(soil: np.ndarray, lime: np.ndarray) -> np.ndarray:
    """Soil spectra (band, ...) whitened by a lime field (0 … 1 × the world's carbonate amplitude)."""
    shape = (-1,) + (1,) * (soil.ndim - 1)
    return (soil * (1.0 + CARBONATE_GAIN.reshape(shape) * lime[None])).astype(np.float32)


def moist(soil: np.ndarray, moisture: np.ndarray, darkening: float = 1.0) -> np.ndarray:
    """Soil reflectance darkened by topsoil ``moisture`` (0 dry … 1 saturated)."""
    shape = (-1,) + (1,) * (soil.ndim - 1)
    loss = np.minimum(darkening * MOISTURE_DARKENING, 0.9).reshape(shape)
    return soil * (1.0 - loss * np.asarray(moisture, np.float32)[None])


class Endmembers:
    """Per-pixel spectra of the world that do not change with time (built once)."""

    def __init__(self, world: World) -> None:
        physics = world.spec.physics
        lc = world.landcover
        green = green_spectra(physics.cover)
        self.green = _by_class(lc, {k: green[v] for k, v in _GREEN_BY_CLASS.items()}, green["crop"])
        if physics.cover.crop_variation > 0:
            self.green = self.green * _field_variation(world, physics.cover)
        self.dry = _by_class(lc, {k: v * physics.cover.straw_brightness for k, v in _DRY_BY_CLASS.items()},
                             STRAW * physics.cover.straw_brightness)  # fmt: skip
        self.residue = residue_spectrum(physics.cover)[:, None, None]
        soil = dry_soil(world.soil["soc"], world.soil["clay"], world.iron, physics.soil)
        if physics.soil.carbonate > 0:
            lime_field = smooth_field(rng_for(world.spec.seed, "soil", "lime"), world.shape, 40.0)
            lime = np.clip(0.5 + 0.5 * lime_field, 0.0, 1.0)
            soil = calcareous(soil, physics.soil.carbonate * lime)
        self.soil = soil * world.soil_texture[None]
        self.other = _by_class(world.material, _MATERIALS, np.zeros(len(BANDS), np.float32))
        self.moisture_darkening = physics.soil.moisture_darkening


def green_spectra(cover: CoverPhysics) -> dict[str, np.ndarray]:
    """The world's green canopies: the demo spectra scaled in the visible, NIR and SWIR."""
    gain = np.where(_VISIBLE, cover.green_visible, np.where(_NIR, cover.green_nir, cover.green_swir))
    gain = gain.astype(np.float32)
    return {name: spectrum * gain for name, spectrum in _GREEN.items()}


def residue_spectrum(cover: CoverPhysics) -> np.ndarray:
    """Residue on the ground: the demo spectrum scaled, its cellulose absorption set by the world."""
    spectrum = RESIDUE * cover.residue_brightness
    if cover.residue_cellulose is not None:
        spectrum[_B12] = spectrum[_B11] * cover.residue_cellulose
    return spectrum.astype(np.float32)


def _field_variation(world: World, cover: CoverPhysics) -> np.ndarray:
    """(band, y, x) gain of each parcel's canopy around the world's: crops and varieties differ."""
    rng = rng_for(world.spec.seed, "cover", "variation")
    n = int(world.parcel_id.max()) + 1
    nir = 1.0 + cover.crop_variation * rng.standard_normal(n)
    visible = 1.0 + cover.crop_variation * rng.standard_normal(n)
    gain = np.where(_NIR[:, None], nir[None], np.where(_VISIBLE[:, None], visible[None], 1.0))
    return np.clip(gain, 0.6, 1.4).astype(np.float32)[:, world.parcel_id]


def _by_class(codes: np.ndarray, table: Mapping[int, np.ndarray], default: np.ndarray) -> np.ndarray:
    """(band, y, x) spectra looked up from a per-pixel class code."""
    lut = np.tile(default[:, None], (1, 256))
    for code, spectrum in table.items():
        lut[:, code] = spectrum
    return lut[:, codes]


def mix(
    members: Endmembers,
    fractions: Mapping[str, np.ndarray],
    wet_soil: np.ndarray,
    snow: np.ndarray,
) -> np.ndarray:
    """Surface reflectance (band, y, x): the linear mixture, then snow on top.

    ``fractions`` holds g, d, r, s (vegetation and soil) and u (static material),
    summing to 1 per pixel; ``wet_soil`` is the soil's spectrum with its moisture of the day
    (:func:`moist`); ``snow`` is the snow-covered share of the pixel.
    """
    g, d, r, s, u = (fractions[k][None] for k in ("g", "d", "r", "s", "u"))
    surface = g * members.green + d * members.dry + r * members.residue + s * wet_soil + u * members.other
    phi = snow[None]
    return ((1.0 - phi) * surface + phi * SNOW[:, None, None]).astype(np.float32)


def ndvi(spectrum: np.ndarray) -> np.ndarray:
    b4, b8 = spectrum[BANDS.index("B04")], spectrum[BANDS.index("B08")]
    return (b8 - b4) / (b8 + b4)


def nbr(spectrum: np.ndarray) -> np.ndarray:
    b8, b12 = spectrum[BANDS.index("B08")], spectrum[_B12]
    return (b8 - b12) / (b8 + b12)


def ndti(spectrum: np.ndarray) -> np.ndarray:
    return (spectrum[_B11] - spectrum[_B12]) / (spectrum[_B11] + spectrum[_B12])
