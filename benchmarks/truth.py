"""Simulator truth brought onto a product grid, for the accuracy benchmarks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from affine import Affine
from odc.geo.geobox import GeoBox
from rasterio.enums import Resampling
from rasterio.warp import reproject
from scipy import ndimage

from baresoil.simulate import Truth, WorldSpec, is_simulation_of, load_bare_reflectance, load_truth, simulate

HERE = Path(__file__).parent
DEFAULT_WORLD = HERE / ".cache" / "world-42"
SKY_CLEAR = 0
OTHER_WORLDCOVER = (50, 80)
"""WorldCover built-up and permanent water: SCMaP's 'other surfaces'."""


def world(path: Path = DEFAULT_WORLD, spec: WorldSpec | None = None) -> Path:
    """The simulated world at ``path``: made once, remade when the simulator's recipe has changed.

    Without ``spec``: the default world at the default path, elsewhere the spec stored there.
    """
    stored = path / "truth" / "world.json"
    if spec is None and path != DEFAULT_WORLD and stored.exists():
        spec = WorldSpec.from_json(json.loads(stored.read_text())["spec"])
    spec = spec or WorldSpec()
    if not is_simulation_of(path, spec):
        simulate(path, spec)
    return path


@dataclass(frozen=True)
class GriddedTruth:
    """Truth on a product grid (EPSG:3035)."""

    landcover: np.ndarray
    pure: np.ndarray
    """Pixels whose 10 m truth pixels all belong to one parcel (no mixed edges)."""
    parcel: np.ndarray
    """The parcel id of pure pixels, 0 elsewhere."""
    valid: np.ndarray
    """Truly clear observations (of the given dates)."""
    bare: np.ndarray
    """Truly clear and truly bare observations."""
    other_codes: tuple[int, ...]
    """Truth land-cover codes of built-up and water."""

    @property
    def bsf(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.valid > 0, 100.0 * self.bare / self.valid, np.nan)

    @property
    def interior(self) -> np.ndarray:
        """Pure pixels whose eight neighbours are pure pixels of the same parcel.

        A product pixel sees beyond its own square: the 20 m bands, and the warp from the
        scenes' UTM grid onto the EEA grid, mix in a little of the neighbouring pixels, so a
        pure pixel next to another surface is not pure in the image.  Reflectance is scored here.
        """
        same = ndimage.minimum_filter(self.parcel, 3, mode="nearest") == ndimage.maximum_filter(
            self.parcel, 3, mode="nearest"
        )
        return self.pure & same

    def mask(self, min_bare: int = 3) -> np.ndarray:
        """SCMaP classes from truth: 3 built-up/water, 1 bare often enough, 2 never bare, NaN else."""
        out = np.full(self.bare.shape, np.nan)
        out[(self.valid > 0) & (self.bare < 0.5)] = 2
        out[self.bare >= min_bare - 0.5] = 1
        out[np.isin(self.landcover, self.other_codes)] = 3
        return out


def truth_on_grid(truth: Truth, geobox: GeoBox, dates: Sequence[date]) -> GriddedTruth:
    """Counts of truly clear and bare observations of ``dates``, and land cover, on ``geobox``."""
    index = [truth.dates.index(d) for d in dates]
    clear = truth.sky[index] == SKY_CLEAR
    valid = clear.sum(axis=0).astype(np.float32)
    bare = (clear & (truth.bare[index] == 1)).sum(axis=0).astype(np.float32)
    parcel = parcel_on_grid(truth, geobox)
    other = tuple(int(k) for k, v in truth.world["worldcover_of_landcover"].items() if v in OTHER_WORLDCOVER)
    return GriddedTruth(
        landcover=regrid(truth.landcover.astype(np.float32), truth, geobox, Resampling.mode),
        pure=parcel > 0,
        parcel=parcel,
        valid=regrid(valid, truth, geobox, Resampling.average),
        bare=regrid(bare, truth, geobox, Resampling.average),
        other_codes=other,
    )


def parcel_on_grid(truth: Truth, geobox: GeoBox) -> np.ndarray:
    """The parcel id of each pixel of ``geobox`` wholly inside one parcel, 0 elsewhere.

    Beyond the world's edge there is no parcel: the truth is padded with a ring of 0 before its
    pixels are gathered, so a product pixel that straddles the edge is not pure.  Left as nodata
    (ignored by the gathering), such a pixel took the id of the part inside, and was scored
    against a product that holds no data there (the world is a UTM square, rotated on the EEA
    grid: 0.9 % of the pure cropland pixels of the default world were such edge pixels).
    """
    ring = 1
    padded = np.pad(truth.parcel_id.astype(np.float32), ring, constant_values=0)
    transform = truth.transform * Affine.translation(-ring, -ring)
    low = regrid(padded, truth, geobox, Resampling.min, transform)
    high = regrid(padded, truth, geobox, Resampling.max, transform)
    return np.where((low == high) & (low > 0), low, 0).astype(np.float32)


def bare_fraction_per_date(truth: Truth, geobox: GeoBox, dates: Sequence[date]) -> np.ndarray:
    """(date, y, x) share of each product pixel that is truly bare on each date."""
    index = [truth.dates.index(d) for d in dates]
    return regrid(truth.bare[index].astype(np.float32), truth, geobox, Resampling.average)


def regrid(
    values: np.ndarray, truth: Truth, geobox: GeoBox, resampling: Resampling, transform: Affine | None = None
) -> np.ndarray:
    """A (y, x) or (band, y, x) truth array on ``geobox`` (on the truth's grid, or on ``transform``)."""
    shape = (*values.shape[:-2], geobox.height, geobox.width)
    out = np.full(shape, np.nan, dtype=np.float32)
    reproject(values.astype(np.float32), out, src_transform=transform or truth.transform, src_crs=truth.crs,
              src_nodata=np.nan, dst_transform=geobox.transform, dst_crs=str(geobox.crs), dst_nodata=np.nan,
              resampling=resampling)  # fmt: skip
    return out


def bare_reflectance(folder: Path, truth: Truth, years: Sequence[int]) -> np.ndarray:
    """True mean reflectance (band, y, x) of the truly bare, truly clear observations of ``years``,
    on the truth's grid; NaN where never seen bare.

    The truth holds that mean per calendar year and over the whole simulation; a product period of
    some of the years is the yearly means weighted by their counts of such observations.
    """
    sums, counts = 0.0, 0
    for year in years:
        mean = load_bare_reflectance(folder, str(year))[0].astype(np.float64)
        of_year = [i for i, d in enumerate(truth.dates) if d.year == year]
        seen_bare = ((truth.bare[of_year] == 1) & (truth.sky[of_year] == SKY_CLEAR)).sum(axis=0)
        sums = sums + np.where(seen_bare > 0, mean, 0.0) * seen_bare
        counts = counts + seen_bare
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


__all__ = [
    "GriddedTruth",
    "bare_fraction_per_date",
    "bare_reflectance",
    "load_truth",
    "regrid",
    "truth_on_grid",
    "world",
]
