"""One acquisition end to end: surface, sky, sensor noise, DN encoding, SCL and the truth labels.

The 10 m bands get their noise at 10 m; the 20 m bands are the 2 × 2 mean of
the noiseless 10 m reflectance plus their own noise, as a coarser detector
would see it.  DN follow the L2A convention of the acquisition's baseline:
``DN = round(reflectance · 10000) + offset`` (offset 1000 from baseline 04.00),
clipped to 1 … 65535 so that 0 stays reserved for nodata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..catalog.layouts import DN_SCALE, NATIVE_RESOLUTION
from .atmosphere import SKY_CLOUD, SKY_NODATA, Sky, apply_sky, scene_classification, simulate_sky, true_sky
from .fields import block_mean, rng_for, upsample
from .schedule import Acquisition, Tile
from .spec import PIXEL_M, WorldSpec
from .spectra import BANDS
from .surface import Surface
from .world import WATER


@dataclass(frozen=True)
class Observation:
    """Everything one acquisition produces, over the whole world."""

    acquisition: Acquisition
    dn: Mapping[str, np.ndarray]
    """Band -> uint16 DN at the band's native resolution."""
    scl: np.ndarray
    """Scene classification (uint8, 20 m)."""
    sky_state: np.ndarray
    """Truth sky code per 10 m pixel."""
    bare: np.ndarray
    green: np.ndarray
    """Green cover, uint8 percent."""
    soil: np.ndarray
    """Exposed soil, uint8 percent."""
    sky: Sky
    surface: np.ndarray
    """Noise-free surface reflectance (band, y, x) under a clear sky."""
    soil_reflectance: np.ndarray
    """Reflectance (band, y, x) of the exposed soil itself with its moisture of the day (rock where rock):
    the truth a bare-soil composite estimates."""
    covered: np.ndarray | None = None
    """Pixels with data (10 m); None when the whole world has data."""

    @property
    def cloud_fraction(self) -> float:
        """True share of cloudy pixels over the world (0 … 1)."""
        return float((self.sky_state == SKY_CLOUD).mean())


def observe(spec: WorldSpec, surface: Surface, acq: Acquisition) -> Observation:
    """Simulate acquisition ``acq``; every random draw comes from its own generator."""
    rng = rng_for(spec.seed, "acquisition", acq.key)
    state = surface.on(acq.date)
    rain = float(surface.weather.rain_mm[surface.weather.index(acq.date)])
    sky = simulate_sky(spec, acq, rain, rng)
    clean = apply_sky(state.reflectance, sky)
    dn = _encode_bands(clean, spec.noise_reflectance, acq.offset_dn, rng)
    water = surface.world.landcover == WATER
    scl = scene_classification(clean, sky, state.snow, water, rng, spec.physics.scl)
    sky_state = true_sky(sky, state.snow)
    covered = data_mask(spec, acq)
    if covered is not None:
        for band, values in dn.items():
            factor = NATIVE_RESOLUTION[band] // PIXEL_M
            has_data = covered if factor == 1 else block_mean(covered, factor) == 1
            values[~has_data] = 0
        scl[block_mean(covered) < 1] = 0
        sky_state[~covered] = SKY_NODATA
    return Observation(
        acquisition=acq,
        dn=dn,
        scl=scl,
        sky_state=sky_state,
        bare=state.bare.astype(np.uint8),
        green=_percent(state.green),
        soil=_percent(state.soil),
        sky=sky,
        surface=state.reflectance,
        soil_reflectance=state.soil_reflectance,
        covered=covered,
    )


SWATH_EDGE_SLOPE = 0.18
"""Columns the swath's edge moves per row: orbits run about 10° off north."""


def data_mask(spec: WorldSpec, acq: Acquisition) -> np.ndarray | None:
    """Pixels (10 m) an acquisition has data for: inside the swath, off any data-loss strip.

    Built on the 20 m grid and repeated, so the 10 m and 20 m bands lose the same ground.
    None when every pixel has data.
    """
    n = spec.n_pixels // 2
    rows, cols = np.indices((n, n))
    covered = np.ones((n, n), bool)
    if acq.swath_cover < 1.0:
        edge = acq.swath_cover * n + SWATH_EDGE_SLOPE * (rows - n / 2)
        covered &= cols < edge
    chance = spec.physics.acquisition.strip_probability
    if chance > 0:
        rng = rng_for(spec.seed, "data-loss", acq.key)
        if rng.random() < chance:
            first = int(rng.integers(0, n))
            covered[first : first + int(rng.integers(3, 16))] = False
    return None if covered.all() else upsample(covered)


def _encode_bands(
    reflectance: np.ndarray, noise: float, offset_dn: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    out = {}
    for i, band in enumerate(BANDS):
        values = reflectance[i]
        if NATIVE_RESOLUTION[band] != PIXEL_M:
            values = block_mean(values, NATIVE_RESOLUTION[band] // PIXEL_M)
        values = values + rng.normal(0.0, noise, values.shape).astype(np.float32)
        out[band] = encode_dn(values, offset_dn)
    return out


def encode_dn(reflectance: np.ndarray, offset_dn: int) -> np.ndarray:
    """L2A DN: round(reflectance / 1e-4) + offset, clipped to 1 … 65535 (0 is nodata)."""
    dn = np.rint(reflectance / DN_SCALE) + offset_dn
    return np.clip(dn, 1, 65535).astype(np.uint16)


def _percent(fraction: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(fraction * 100.0), 0, 100).astype(np.uint8)


def tile_cloud_cover(spec: WorldSpec, obs: Observation, tile: Tile) -> float:
    """The item's ``eo:cloud_cover``: the tile part's cloudy share in percent, plus a little noise,
    as the real tile-level value is computed over a much larger area."""
    rng = rng_for(spec.seed, "cloud-cover", obs.acquisition.key, tile.code)
    part = obs.sky_state[:, tile.col_start : tile.col_stop]
    cloudy = float((part == SKY_CLOUD).mean())
    if obs.covered is not None:
        seen = part[part != SKY_NODATA]
        cloudy = float((seen == SKY_CLOUD).mean()) if seen.size else 0.0
    value = 100.0 * cloudy + float(rng.normal(0.0, 2.0))
    return round(float(np.clip(value, 0.0, 100.0)), 4)
