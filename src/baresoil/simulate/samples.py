"""Soil samples as a lab delivers them: points in WGS84 with measured, noisy values.

Samplers take cores inside fields, away from field edges, mostly on cropland;
the lab's results carry analytical error (a few percent for SOC and N, a point
or two for texture, 0.1 for pH) and are rounded as labs report them, with
clay + silt + sand = 100.  The true values at the same points go to the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy import ndimage

from .fields import rng_for
from .spec import PIXEL_M, WorldSpec
from .world import CROPLAND, GRASSLAND, SOIL_PROPERTIES, World

LAB_NOISE = {
    "soc": ("relative", 0.05), "n": ("relative", 0.06), "clay": ("absolute", 1.5),
    "silt": ("absolute", 1.5), "ph": ("absolute", 0.1), "bulk_density": ("absolute", 0.03),
}  # fmt: skip
"""Analytical error per property: relative (share of the value) or absolute (in its unit)."""


@dataclass(frozen=True)
class SoilSamples:
    true: pd.DataFrame
    """sample_id, x, y (world CRS), lon, lat, parcel_id, landcover and the true properties."""
    measured: pd.DataFrame
    """sample_id, lon, lat and the lab's values (what ``inputs/soil_samples.csv`` holds)."""


def draw_samples(world: World) -> SoilSamples:
    spec = world.spec
    rng = rng_for(spec.seed, "samples")
    rows, cols = _sample_pixels(rng, world, spec)
    x0, _, _, y1 = spec.bounds
    x = x0 + (cols + 0.5) * PIXEL_M + rng.uniform(-3.5, 3.5, cols.size)
    y = y1 - (rows + 0.5) * PIXEL_M + rng.uniform(-3.5, 3.5, rows.size)
    lon, lat = Transformer.from_crs(spec.epsg, 4326, always_xy=True).transform(x, y)
    ids = [f"S{i + 1:04d}" for i in range(rows.size)]
    true = pd.DataFrame(
        {
            "sample_id": ids,
            "x": x,
            "y": y,
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "parcel_id": world.parcel_id[rows, cols],
            "landcover": world.landcover[rows, cols],
        }
    )
    for prop in SOIL_PROPERTIES:
        true[prop] = world.soil[prop][rows, cols].astype(np.float64)
    return SoilSamples(true=true, measured=_measure(rng, true))


def _sample_pixels(rng: np.random.Generator, world: World, spec: WorldSpec) -> tuple[np.ndarray, np.ndarray]:
    """Pixels at least one pixel inside a cropland (or grassland) parcel, drawn without replacement."""
    interior = ndimage.minimum_filter(world.parcel_id, size=3) == ndimage.maximum_filter(
        world.parcel_id, size=3
    )
    interior &= world.parcel_id > 0
    n_crop = round(spec.n_samples * spec.sample_cropland_share)
    picks = []
    for code, count in ((CROPLAND, n_crop), (GRASSLAND, spec.n_samples - n_crop)):
        candidates = np.flatnonzero(interior & (world.landcover == code))
        if count and candidates.size:
            picks.append(rng.choice(candidates, size=min(count, candidates.size), replace=False))
    flat = np.concatenate(picks) if picks else np.zeros(0, np.int64)
    rows, cols = np.unravel_index(flat, world.shape)
    return rows, cols


def _measure(rng: np.random.Generator, true: pd.DataFrame) -> pd.DataFrame:
    measured = pd.DataFrame({"sample_id": true["sample_id"], "lon": true["lon"], "lat": true["lat"]})
    for prop, (kind, sigma) in LAB_NOISE.items():
        noise = rng.normal(0.0, sigma, len(true))
        measured[prop] = true[prop] * (1 + noise) if kind == "relative" else true[prop] + noise
    measured["clay"] = measured["clay"].clip(1, 80).round(1)
    measured["silt"] = measured["silt"].clip(1, 90).round(1)
    measured["sand"] = (100.0 - measured["clay"] - measured["silt"]).round(1)
    measured["soc"] = measured["soc"].clip(lower=0.5).round(1)
    measured["n"] = measured["n"].clip(lower=0.05).round(2)
    measured["ph"] = measured["ph"].round(2)
    measured["bulk_density"] = measured["bulk_density"].round(2)
    columns = ["sample_id", "lon", "lat", "soc", "clay", "silt", "sand", "ph", "n", "bulk_density"]
    return measured[columns]
