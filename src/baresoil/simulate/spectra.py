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

from ..catalog.layouts import REFLECTANCE_BANDS
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

_B11, _B12 = BANDS.index("B11"), BANDS.index("B12")
_GREEN_BY_CLASS = {GRASSLAND: GREEN_GRASS, GARDEN: GREEN_GRASS, FOREST_DECIDUOUS: GREEN_DECIDUOUS,
                   HEDGE: GREEN_DECIDUOUS, FOREST_CONIFEROUS: GREEN_CONIFER}  # fmt: skip
_DRY_BY_CLASS = {GRASSLAND: DRY_GRASS, GARDEN: DRY_GRASS, FOREST_DECIDUOUS: BARK, HEDGE: BARK,
                 FOREST_CONIFEROUS: BARK}  # fmt: skip
_MATERIALS = {MAT_RED_ROOF: RED_ROOF, MAT_GREY_ROOF: GREY_ROOF, MAT_ASPHALT: ASPHALT, MAT_WATER: WATER,
              MAT_ROCK: ROCK}  # fmt: skip


def dry_soil(soc: np.ndarray, clay: np.ndarray, iron: np.ndarray) -> np.ndarray:
    """Dry soil reflectance (band, ...) from SOC (g/kg), clay (%) and the iron field."""
    soc = np.asarray(soc, np.float32)[None]
    clay = np.asarray(clay, np.float32)[None]
    iron = np.asarray(iron, np.float32)[None]
    shape = (-1,) + (1,) * (soc.ndim - 1)
    brightness = (soc / 15.0) ** (-SOC_EXPONENT.reshape(shape)) * (1.0 - 0.004 * (clay - 24.0))
    spectrum = SOIL_REFERENCE.reshape(shape) * brightness * (1.0 + IRON_SLOPE.reshape(shape) * iron)
    # clay deepens the 2200 nm absorption: B12/B11 from 0.91 (10 % clay) to 0.82 (45 %)
    ratio = 0.875 - 0.0026 * (clay[0] - 24.0)
    spectrum[_B12] = spectrum[_B11] * ratio
    return spectrum.astype(np.float32)


def moist(soil: np.ndarray, moisture: np.ndarray) -> np.ndarray:
    """Soil reflectance darkened by topsoil ``moisture`` (0 dry … 1 saturated)."""
    shape = (-1,) + (1,) * (soil.ndim - 1)
    return soil * (1.0 - MOISTURE_DARKENING.reshape(shape) * np.asarray(moisture, np.float32)[None])


class Endmembers:
    """Per-pixel spectra of the world that do not change with time (built once)."""

    def __init__(self, world: World) -> None:
        lc = world.landcover
        self.green = _by_class(lc, _GREEN_BY_CLASS, GREEN_CROP)
        self.dry = _by_class(lc, _DRY_BY_CLASS, STRAW)
        self.residue = RESIDUE[:, None, None]
        self.soil = dry_soil(world.soil["soc"], world.soil["clay"], world.iron) * world.soil_texture[None]
        self.other = _by_class(world.material, _MATERIALS, np.zeros(len(BANDS), np.float32))


def _by_class(codes: np.ndarray, table: Mapping[int, np.ndarray], default: np.ndarray) -> np.ndarray:
    """(band, y, x) spectra looked up from a per-pixel class code."""
    lut = np.tile(default[:, None], (1, 256))
    for code, spectrum in table.items():
        lut[:, code] = spectrum
    return lut[:, codes]


def mix(
    members: Endmembers,
    fractions: Mapping[str, np.ndarray],
    moisture: np.ndarray,
    snow: np.ndarray,
) -> np.ndarray:
    """Surface reflectance (band, y, x): the linear mixture, then snow on top.

    ``fractions`` holds g, d, r, s (vegetation and soil) and u (static material),
    summing to 1 per pixel; ``snow`` is the snow-covered share of the pixel.
    """
    g, d, r, s, u = (fractions[k][None] for k in ("g", "d", "r", "s", "u"))
    surface = (
        g * members.green
        + d * members.dry
        + r * members.residue
        + s * moist(members.soil, moisture)
        + u * members.other
    )
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
