"""The land surface on one day: cover fractions per pixel, moisture, snow, reflectance, true bare soil.

**True bare soil** (the scoring contract every bare-soil product is judged by):
a pixel is bare on a day when exposed soil (or rock) covers at least 75 % of it
and there is no snow on it; the rest may be residue or green vegetation —
``s + rock ≥ 0.75 and snow ≤ 0.01``.  Stubble counts towards residue r, not s, so
a stubble field is bare only once tillage has buried most of its straw.  The truth
of a bare-soil composite is the reflectance of the soil itself with its moisture of
the day (:attr:`SurfaceState.soil_reflectance`), not of the mixture the sensor sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import ndimage

from .crops import CropHistory
from .fields import rng_for, smooth_field
from .spectra import Endmembers, mix, moist
from .weather import Weather
from .world import (
    FOREST_CONIFEROUS,
    FOREST_DECIDUOUS,
    HEDGE,
    PAVED,
    ROCK,
    WATER,
    World,
)

BARE_MIN_SOIL = 0.75
"""Exposed soil (or rock) share from which a pixel is bare."""
BARE_MAX_SNOW = 0.01
"""Snow share up to which a pixel counts as free of snow."""
SNOW_EXPOSURE = {FOREST_DECIDUOUS: 0.5, FOREST_CONIFEROUS: 0.3, HEDGE: 0.5, WATER: 0.0, PAVED: 0.6}
"""Share of the weather's snow cover that lies visibly on a land cover (default 1)."""
_SNOW_EDGE = 0.2
"""Width (field units) of the transition at the edge of a snow patch."""


def is_bare(exposed: np.ndarray, snow: np.ndarray) -> np.ndarray:
    """The true-bare-soil rule (see the module docstring)."""
    return (exposed >= BARE_MIN_SOIL) & (snow <= BARE_MAX_SNOW)


@dataclass(frozen=True)
class SurfaceState:
    """The land surface of the whole world on one day (arrays on the 10 m grid)."""

    reflectance: np.ndarray
    """Surface reflectance (band, y, x), bands B02 … B12."""
    green: np.ndarray
    soil: np.ndarray
    """Exposed soil fraction (rock not included)."""
    snow: np.ndarray
    bare: np.ndarray
    soil_reflectance: np.ndarray
    """Reflectance (band, y, x) of the soil itself with its moisture of the day; rock's where rock."""


class Surface:
    """Turns the daily history of the parcels into per-pixel surface states."""

    def __init__(self, world: World, history: CropHistory, weather: Weather) -> None:
        self.world = world
        self.history = history
        self.weather = weather
        self.members = Endmembers(world)
        lc = world.landcover
        self.units = np.where((lc == HEDGE) & (world.parcel_id == 0), history.hedge_unit, world.parcel_id)
        self.rock = (lc == ROCK).astype(np.float32)
        self.snow = SnowPattern(world)
        self.wet_factor = (1.0 + 0.25 * np.clip(world.wetness, -2, 2)).astype(np.float32)

    def on(self, day: date) -> SurfaceState:
        t = self.history.index(day)
        w = self.world
        canopy = np.clip(self.history.canopy[self.units, t] * w.canopy_texture, 0.0, 1.0)
        gamma = self.history.green_share[self.units, t]
        residue = np.clip(self.history.residue[self.units, t] * w.residue_texture, 0.0, 0.95)
        keep = 1.0 - w.other
        fractions = {
            "g": keep * canopy * gamma,
            "d": keep * canopy * (1.0 - gamma),
            "r": keep * residue * (1.0 - canopy),
            "s": keep * (1.0 - canopy) * (1.0 - residue),
            "u": w.other,
        }
        t_weather = self.weather.index(day)
        moisture = np.clip(
            self.weather.moisture[t_weather] * self.wet_factor + self.history.boost[self.units, t], 0.0, 1.0
        )
        snow = self.snow.cover(float(self.weather.snow_cover[t_weather]))
        wet = moist(self.members.soil, moisture, self.members.moisture_darkening)
        reflectance = mix(self.members, fractions, wet, snow)
        exposed = fractions["s"] + self.rock * w.other
        bare = is_bare(exposed, snow)
        soil = np.where(self.rock[None] > 0, self.members.other, wet).astype(np.float32)
        return SurfaceState(reflectance, fractions["g"], fractions["s"], snow, bare, soil)


class SnowPattern:
    """Where the snow lies: patches, not a uniform veil.

    When the weather covers only part of the ground (thin or melting snow), the
    snow sits where a static smooth field is highest (the same hollows and
    shaded spots every time), so a pixel is mostly either snowy or snow-free;
    forest shows only part of its snow through the canopy, water none.
    """

    def __init__(self, world: World) -> None:
        rng = rng_for(world.spec.seed, "snow")
        self.field = smooth_field(rng, world.shape, 8.0)
        self.sorted = np.sort(self.field.ravel())
        self.exposure = _snow_exposure(world.landcover)

    def cover(self, share: float) -> np.ndarray:
        """Snow-covered fraction per pixel when ``share`` of the open ground is under snow."""
        if share <= 0.0:
            return np.zeros_like(self.exposure)
        if share >= 1.0:
            return self.exposure.copy()
        level = self.sorted[min(int((1.0 - share) * self.sorted.size), self.sorted.size - 1)]
        patches = np.clip(0.5 + (self.field - level) / _SNOW_EDGE, 0.0, 1.0)
        return (patches * self.exposure).astype(np.float32)


def _snow_exposure(landcover: np.ndarray) -> np.ndarray:
    lut = np.ones(256, np.float32)
    for code, share in SNOW_EXPOSURE.items():
        lut[code] = share
    return lut[landcover]


class _ParcelMean:
    """Mean of a pixel array over each parcel (in the order of ``world.parcels``)."""

    def __init__(self, world: World) -> None:
        self.ids = world.parcels["parcel_id"].to_numpy()
        self.flat = world.parcel_id.ravel()
        self.size = int(self.flat.max()) + 1
        self.counts = np.maximum(np.bincount(self.flat, minlength=self.size)[self.ids], 1)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        sums = np.bincount(self.flat, weights=values.ravel().astype(np.float64), minlength=self.size)
        return (sums[self.ids] / self.counts).astype(np.float32)


def parcel_daily(world: World, history: CropHistory, weather: Weather) -> pd.DataFrame:
    """Daily state of every parcel.

    Columns: parcel_id, date, g, d, r, s, other (static material), snow, moisture (parcel-level
    fractions, no pixel texture), bare_share (share of the parcel's interior pixels truly bare, with
    their texture) and bare (``bare_share >= 0.5``: the parcel counts as bare that day).
    """
    mean = _ParcelMean(world)
    ids = mean.ids
    n = history.n_days
    days = slice(weather.index(history.first), weather.index(history.first) + n)
    other = mean(world.other)[:, None]
    snow = _parcel_snow(world, weather.snow_cover[days], mean)
    wet = mean(1.0 + 0.25 * np.clip(world.wetness, -2, 2))[:, None]
    c, gam, rho = history.canopy[ids], history.green_share[ids], history.residue[ids]
    keep = 1.0 - other
    g = keep * c * gam
    s = keep * (1 - c) * (1 - rho)
    moisture = np.clip(weather.moisture[days][None, :] * wet + history.boost[ids], 0.0, 1.0)
    share = interior_bare_share(world, history, weather.snow_cover[days])
    dates = pd.date_range(history.first, periods=n, freq="D").date
    return pd.DataFrame(
        {
            "parcel_id": np.repeat(ids, n).astype(np.int32),
            "date": np.tile(dates, ids.size),
            "g": g.ravel(),
            "d": (keep * c * (1 - gam)).ravel(),
            "r": (keep * rho * (1 - c)).ravel(),
            "s": s.ravel(),
            "other": np.broadcast_to(other, g.shape).ravel(),
            "snow": snow.ravel(),
            "moisture": moisture.ravel().astype(np.float32),
            "bare_share": share.ravel().astype(np.float32),
            "bare": (share >= PARCEL_BARE_SHARE).ravel(),
        }
    )


PARCEL_BARE_SHARE = 0.5
"""A parcel is bare on a day when at least this share of its interior pixels is."""
MIN_BARE_PERIOD_DAYS = 5
"""A bare period lasts at least this many consecutive days."""


def interior_pixels(labels: np.ndarray) -> np.ndarray:
    """Pixels of a parcel whose eight neighbours belong to the same parcel (all of a parcel's
    pixels when it has no such pixel)."""
    same = ndimage.minimum_filter(labels, 3, mode="nearest") == ndimage.maximum_filter(
        labels, 3, mode="nearest"
    )
    interior = same & (labels > 0)
    has_interior = np.bincount(labels[interior], minlength=int(labels.max()) + 1) > 0
    return interior | ((labels > 0) & ~has_interior[labels])


def interior_bare_share(world: World, history: CropHistory, snow_shares: np.ndarray) -> np.ndarray:
    """(parcel, day) share of each parcel's interior pixels that are truly bare (in ``world.parcels``
    order), from the same per-pixel cover as :meth:`Surface.on`."""
    labels = world.parcel_id
    use = interior_pixels(labels)
    units = labels[use]
    size = int(labels.max()) + 1
    ids = world.parcels["parcel_id"].to_numpy()
    counts = np.maximum(np.bincount(units, minlength=size)[ids], 1)
    canopy_texture, residue_texture = world.canopy_texture[use], world.residue_texture[use]
    keep = 1.0 - world.other[use]
    rock = ((world.landcover == ROCK) * world.other)[use]
    pattern = SnowPattern(world)
    snow_of: dict[float, np.ndarray] = {}
    out = np.zeros((ids.size, history.n_days), np.float32)
    for t in range(history.n_days):
        share = float(snow_shares[t])
        if share not in snow_of:
            snow_of[share] = pattern.cover(share)[use]
        canopy = np.clip(history.canopy[units, t] * canopy_texture, 0.0, 1.0)
        residue = np.clip(history.residue[units, t] * residue_texture, 0.0, 0.95)
        exposed = keep * (1.0 - canopy) * (1.0 - residue) + rock
        bare = is_bare(exposed, snow_of[share])
        out[:, t] = np.bincount(units, weights=bare, minlength=size)[ids] / counts
    return out


def _parcel_snow(world: World, shares: np.ndarray, mean: _ParcelMean) -> np.ndarray:
    """(parcel, day) mean snow cover, from the same patches as the pixels."""
    pattern = SnowPattern(world)
    out = np.zeros((len(world.parcels), shares.size), np.float32)
    for share in np.unique(shares[shares > 0]):
        out[:, shares == share] = mean(pattern.cover(float(share)))[:, None]
    return out


def bare_periods(daily: pd.DataFrame) -> pd.DataFrame:
    """Bare periods per parcel: maximal runs of at least :data:`MIN_BARE_PERIOD_DAYS` consecutive
    bare days (``daily.bare``); parcel_id, start, end (inclusive), days.

    Runs are cut at the edges of the simulated window.
    """
    table = daily.sort_values(["parcel_id", "date"], kind="stable")
    ids = table["parcel_id"].to_numpy()
    all_bare = table["bare"].to_numpy().astype(np.int8)
    all_dates = table["date"].to_numpy()
    rows = []
    for pid in np.unique(ids):
        mine = ids == pid
        edges = np.diff(np.concatenate([[0], all_bare[mine], [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        dates = all_dates[mine]
        rows += [
            (int(pid), dates[a], dates[b - 1], int(b - a))
            for a, b in zip(starts, stops, strict=True)
            if b - a >= MIN_BARE_PERIOD_DAYS
        ]
    return pd.DataFrame(rows, columns=["parcel_id", "start", "end", "days"])
