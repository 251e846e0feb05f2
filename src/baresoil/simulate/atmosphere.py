"""The sky of one acquisition and what Sen2Cor makes of it.

Clouds are a smooth multi-scale random field over an extended domain (the
world plus a margin wider than the longest shadow), thresholded to the
scene's cloud fraction: opaque bright cores, semi-transparent edges.  Their
shadows are the same field displaced by cloud height × tan(sun zenith) away
from the sun (the morning sun stands in the south-south-east, so shadows fall
to the north-north-west), and clouds outside the world can shade it.  Some
dates add haze (smooth, additive, strongest in blue) or thin cirrus (flat,
streaky); snow comes from the weather, via :mod:`.surface`.

The scene classification (SCL, 20 m) imitates Sen2Cor *including its misses*:
thin cloud edges labelled clear, part of the shadows labelled as vegetation or
soil, haze never flagged, cirrus flagged only where thick enough and not
everywhere, some snow labelled as cloud, a sprinkle of 'unclassified'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .fields import block_mean, multiscale_field, smooth_field
from .physics import SclPhysics, SkyPhysics
from .schedule import Acquisition
from .spec import PIXEL_M, WorldSpec
from .spectra import BANDS

# Truth sky codes (sky.tif).
SKY_CLEAR, SKY_CLOUD, SKY_SHADOW, SKY_HAZE, SKY_CIRRUS, SKY_SNOW, SKY_NODATA = 0, 1, 2, 3, 4, 5, 6
SKY_NAMES = {SKY_CLEAR: "clear", SKY_CLOUD: "cloud", SKY_SHADOW: "shadow", SKY_HAZE: "haze",
             SKY_CIRRUS: "cirrus", SKY_SNOW: "snow", SKY_NODATA: "no data"}  # fmt: skip

# Sen2Cor scene classification codes used here.
SCL_NODATA, SCL_SHADOW, SCL_VEGETATION, SCL_NOT_VEGETATED, SCL_WATER = 0, 3, 4, 5, 6
SCL_UNCLASSIFIED, SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_CIRRUS, SCL_SNOW = 7, 8, 9, 10, 11

# Truth thresholds: low, so that a pixel the truth calls clear is contaminated by less than
# about 0.005 reflectance (Sen2Cor's thresholds, in scene_classification, are much higher).
CLOUD_MIN_OPACITY = 0.01
SHADOW_MIN = 0.05
"""Shadow strength from which a pixel counts as shadowed (3.5 % darker at most below it)."""
HAZE_MIN = 0.005
"""Additive haze reflectance in B02 from which a pixel counts as hazy."""
CIRRUS_MIN = 0.004
SNOW_MIN = 0.1
"""Snow-covered fraction from which a pixel counts as snowy (and can no longer be bare)."""
SCL_SNOW_MIN = 0.4

_COARSE_M = 40
"""Cell size of the cloud and haze fields; they are smooth, then interpolated to 10 m."""
_EDGE_WIDTH = 0.35
"""Field units from transparent to opaque: the width of thin cloud edges."""
_MAX_SHADOW_M = 8000.0
CLOUD_SHAPE = np.array([1.03, 1.02, 1.0, 1.0, 1.0, 0.99, 0.98, 0.98, 0.80, 0.55], np.float32)
"""Spectral shape of water clouds: flat in the VNIR, darker in the SWIR."""
HAZE_SHAPE = np.array([1.0, 0.85, 0.62, 0.56, 0.52, 0.48, 0.44, 0.42, 0.15, 0.08], np.float32)
"""Haze reflectance relative to B02: scattering falls steeply with wavelength."""
CIRRUS_SHAPE = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9], np.float32)
SHADOW_BLUE_LIFT = np.array([1.3, 1.2, 1.1, 1.05, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], np.float32)
"""Shadows keep more blue: what light remains is diffuse skylight."""


@dataclass(frozen=True)
class Sky:
    """The atmosphere over the world for one acquisition (arrays on the 10 m grid)."""

    cloud: np.ndarray
    """Cloud opacity 0 … 1."""
    cloud_brightness: np.ndarray
    """Cloud top reflectance in the visible (per pixel, 0.4 … 0.8)."""
    shadow: np.ndarray
    """Shadow strength 0 … 1 (the displaced cloud opacity)."""
    shadow_light: float
    """Share of light left in a full shadow (0.2 … 0.4)."""
    haze: np.ndarray
    """Additive haze reflectance in B02 (0 when the date has none)."""
    cirrus: np.ndarray
    """Additive, nearly flat cirrus reflectance (0 when the date has none)."""
    target_cloud_fraction: float
    cloud_height_m: float
    shadow_offset_m: tuple[float, float]
    """(east, north) displacement from a cloud to its shadow, metres."""
    detection: np.ndarray
    """A smooth field per scene (mean 0, std 1) deciding where Sen2Cor misses things."""


def draw_cloud_fraction(
    rng: np.random.Generator,
    acq: Acquisition,
    rain_mm: float,
    regime: SkyPhysics = SkyPhysics(),  # noqa: B008
) -> float:
    """The share of the world under cloud: many clear dates, many overcast ones.

    Overcast is likelier in winter and on rainy days.
    """
    doy = acq.date.timetuple().tm_yday
    winter = 0.5 + 0.5 * math.cos(2 * math.pi * (doy - 15) / 365.25)
    rainy = 1.0 if rain_mm > 0.5 else 0.0
    p_clear = max(0.05, regime.clear_chance - 0.18 * winter - 0.20 * rainy)
    p_overcast = min(0.85, regime.overcast_chance + 0.25 * winter + 0.35 * rainy)
    u = rng.random()
    if u < p_clear:
        return float(rng.uniform(0.0, 0.02)) if rng.random() < 0.6 else 0.0
    if u < p_clear + p_overcast:
        return float(min(1.0, rng.uniform(0.8, 1.08)))
    return float(0.03 + 0.77 * rng.beta(0.9, 1.4))


def simulate_sky(spec: WorldSpec, acq: Acquisition, rain_mm: float, rng: np.random.Generator) -> Sky:
    """Clouds, shadows, haze and cirrus of one acquisition."""
    regime = spec.physics.sky
    fraction = draw_cloud_fraction(rng, acq, rain_mm, regime)
    height = float(rng.uniform(*regime.cloud_height_m))
    length = min(height * math.tan(math.radians(acq.sun_zenith)), _MAX_SHADOW_M)
    away = math.radians(acq.sun_azimuth + 180.0)
    offset = (length * math.sin(away), length * math.cos(away))
    domain = _Domain(spec, margin_m=length + 1000.0)
    scale = regime.cloud_scale_m
    field = multiscale_field(
        rng,
        domain.shape,
        (scale / _COARSE_M, 0.32 * scale / _COARSE_M, 0.12 * scale / _COARSE_M),
        (0.6, 0.35, 0.15),
    )
    here = domain.sample(field, spec)
    threshold = _threshold(here, fraction)
    cloud = _opacity(here, threshold)
    shadow = _opacity(domain.sample(field, spec, shift_m=(-offset[0], -offset[1])), threshold)
    thickness = np.clip((here - threshold) / 2.0, 0.0, 1.0)
    brightness = float(rng.uniform(0.42, 0.62)) + 0.18 * thickness
    # haze is a clear-sky phenomenon: likelier the fewer clouds (same mean frequency overall)
    hazy = rng.random() < spec.haze_probability * 2.0 * (1.0 - fraction)
    haze = _haze(rng, spec, domain, regime.haze_strength) if hazy else np.zeros_like(cloud)
    cirrus_date = rng.random() < spec.cirrus_probability
    cirrus = _cirrus(rng, spec, domain, regime.cirrus_strength) if cirrus_date else np.zeros_like(cloud)
    detection = smooth_field(rng, spec.shape, 300 / PIXEL_M)
    return Sky(
        cloud=cloud,
        cloud_brightness=brightness.astype(np.float32),
        shadow=shadow,
        shadow_light=float(rng.uniform(*regime.shadow_light)),
        haze=haze,
        cirrus=cirrus,
        target_cloud_fraction=fraction,
        cloud_height_m=height,
        shadow_offset_m=offset,
        detection=detection,
    )


class _Domain:
    """A coarse grid around the world, wide enough to hold the clouds that cast shadows into it."""

    def __init__(self, spec: WorldSpec, margin_m: float) -> None:
        self.margin = math.ceil(margin_m / _COARSE_M) * _COARSE_M
        side = spec.size_m + 2 * self.margin
        self.shape = (side // _COARSE_M + 1, side // _COARSE_M + 1)

    def sample(
        self, field: np.ndarray, spec: WorldSpec, shift_m: tuple[float, float] = (0.0, 0.0)
    ) -> np.ndarray:
        """``field`` at the world's 10 m pixel centres, displaced by ``shift_m`` (east, north)."""
        n = spec.n_pixels
        centres = (np.arange(n) + 0.5) * PIXEL_M
        cols = (self.margin + centres + shift_m[0]) / _COARSE_M - 0.5
        rows = (self.margin + centres - shift_m[1]) / _COARSE_M - 0.5
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        return ndimage.map_coordinates(field, [rr, cc], order=1, mode="nearest").astype(np.float32)


def _threshold(values: np.ndarray, fraction: float) -> float:
    if fraction <= 0.0:
        return float(values.max()) + 10.0
    if fraction >= 1.0:
        return float(values.min()) - 10.0
    return float(np.quantile(values, 1.0 - fraction))


def _opacity(values: np.ndarray, threshold: float) -> np.ndarray:
    """0.5 at the threshold, so that the opaque half of the edge matches the cloud fraction."""
    return np.clip(0.5 + (values - threshold) / _EDGE_WIDTH, 0.0, 1.0).astype(np.float32)


def _haze(
    rng: np.random.Generator, spec: WorldSpec, domain: _Domain, strengths: tuple[float, float]
) -> np.ndarray:
    strength = float(rng.uniform(*strengths))
    field = domain.sample(smooth_field(rng, domain.shape, 1500 / _COARSE_M), spec)
    return (strength * np.clip(0.5 + 0.5 * field, 0.0, 1.0)).astype(np.float32)


def _cirrus(
    rng: np.random.Generator, spec: WorldSpec, domain: _Domain, strengths: tuple[float, float]
) -> np.ndarray:
    """Streaks: a field smooth along one axis and sharper across it, at a random angle."""
    strength = float(rng.uniform(*strengths))
    field = smooth_field(rng, domain.shape, (120 / _COARSE_M, 1500 / _COARSE_M))
    field = ndimage.rotate(field, float(rng.uniform(0, 180)), reshape=False, order=1, mode="wrap")
    return (strength * np.clip(0.5 + 0.5 * domain.sample(field, spec), 0.0, 1.0)).astype(np.float32)


def apply_sky(surface: np.ndarray, sky: Sky) -> np.ndarray:
    """What the L2A product shows: shadow on the ground, then haze, cirrus and cloud in front."""
    shape = (-1, 1, 1)
    light = np.clip(sky.shadow_light * SHADOW_BLUE_LIFT, 0.0, 1.0).reshape(shape)
    out = surface * (1.0 - sky.shadow[None] * (1.0 - light))
    haze = sky.haze[None] * HAZE_SHAPE.reshape(shape)
    out = out * (1.0 - 0.6 * haze) + haze
    out = out + sky.cirrus[None] * CIRRUS_SHAPE.reshape(shape)
    cloud = sky.cloud_brightness[None] * CLOUD_SHAPE.reshape(shape)
    alpha = sky.cloud[None]
    return ((1.0 - alpha) * out + alpha * cloud).astype(np.float32)


def true_sky(sky: Sky, snow: np.ndarray) -> np.ndarray:
    """Truth sky state per 10 m pixel; cloud > shadow > snow > cirrus > haze > clear."""
    state = np.full(sky.cloud.shape, SKY_CLEAR, np.uint8)
    state[sky.haze >= HAZE_MIN] = SKY_HAZE
    state[sky.cirrus >= CIRRUS_MIN] = SKY_CIRRUS
    state[snow >= SNOW_MIN] = SKY_SNOW
    state[sky.shadow >= SHADOW_MIN] = SKY_SHADOW
    state[sky.cloud >= CLOUD_MIN_OPACITY] = SKY_CLOUD
    return state


def scene_classification(
    observed: np.ndarray,
    sky: Sky,
    snow: np.ndarray,
    water: np.ndarray,
    rng: np.random.Generator,
    errors: SclPhysics = SclPhysics(),  # noqa: B008
) -> np.ndarray:
    """A Sen2Cor-like SCL at 20 m from the 10 m observation, sky and surface (all (…, y, x)).

    The rules look at cloud opacity, shadow strength, cirrus, snow and water — never
    at haze, which Sen2Cor does not detect.  ``errors`` sets how often it misses.
    """
    b4 = block_mean(observed[BANDS.index("B04")])
    b8 = block_mean(observed[BANDS.index("B08")])
    ndvi = (b8 - b4) / np.maximum(b8 + b4, 1e-6)
    alpha = block_mean(sky.cloud)
    shadow = block_mean(sky.shadow)
    cirrus = block_mean(sky.cirrus)
    snow20 = block_mean(snow)
    detect = block_mean(sky.detection)
    jitter = np.where(alpha > 0.05, rng.normal(0.0, 0.05, alpha.shape), 0.0)
    scl = np.where(ndvi > 0.4, SCL_VEGETATION, SCL_NOT_VEGETATED).astype(np.uint8)
    is_water = block_mean(water.astype(np.float32)) >= 0.5
    scl[is_water] = SCL_WATER
    is_snow = snow20 >= SCL_SNOW_MIN
    scl[is_snow] = SCL_SNOW
    scl[is_snow & (detect > errors.snow_as_cloud_z)] = SCL_CLOUD_MEDIUM  # bright snow mistaken for cloud
    strong = shadow >= errors.shadow_strength
    scl[strong & (detect > errors.shadow_miss_z) & (alpha < 0.25)] = SCL_SHADOW  # part of the shadows found
    scl[(cirrus >= 0.02) & (detect < errors.cirrus_found_z)] = SCL_CIRRUS
    if errors.bright_as_cloud > 0 and rng.random() < errors.bright_as_cloud:
        b2 = block_mean(observed[BANDS.index("B02")])
        scl[(b2 > 0.13) & (ndvi < 0.25) & ~is_water & (detect > 0.0)] = (
            SCL_CLOUD_MEDIUM  # bright soil as cloud
        )
    scl[alpha + jitter >= errors.cloud_opacity] = SCL_CLOUD_MEDIUM
    scl[alpha + jitter >= 0.6] = SCL_CLOUD_HIGH
    thin_edge = (alpha >= 0.08) & (alpha + jitter < errors.cloud_opacity)
    sprinkle = (rng.random(alpha.shape) < errors.unclassified) | (thin_edge & (rng.random(alpha.shape) < 0.2))
    scl[sprinkle & (scl != SCL_CLOUD_MEDIUM) & (scl != SCL_CLOUD_HIGH)] = SCL_UNCLASSIFIED
    return scl
