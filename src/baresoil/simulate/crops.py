"""What grows on each parcel, day by day: rotations, calendars, management and cover.

Every cropland parcel follows a central-European rotation (winter wheat,
winter barley, winter rapeseed, spring barley, maize, sugar beet, potatoes) with
Bavarian calendars jittered per parcel.  Between two main crops the field goes
through **stubble** (harvest residue, not bare), **stubble tillage** one to three
weeks later (residue mostly buried: bare soil), then either a **cover crop**
(before spring crops) or bare soil with some volunteer regrowth, **ploughing**
in autumn or spring, and **seedbed** preparation just before sowing.

Each parcel's state on a day is a handful of numbers:

* ``canopy`` C — standing vegetation cover (green or dry),
* ``green_share`` γ — the green part of it (g = C·γ, standing dry d = C·(1−γ)),
* ``residue`` ρ — residue/litter on the ground, visible only in canopy gaps (r = ρ·(1−C)),
* exposed soil s = (1−C)·(1−ρ), so that g + d + r + s = 1,
* ``boost`` — extra topsoil moisture right after tillage (fresh soil is darker).

Event conventions (``events`` table): ``year`` is the harvest year of the crop
the event belongs to.  Sowing to harvest belong to the main crop; stubble
tillage to the crop just harvested; cover-crop events to ``cover_crop`` of the
next season; ploughing and seedbed to the next main crop; mowing to
``permanent_grassland`` of the calendar year.  Emergence is the first day with
green cover above 0; harvest is the day standing biomass is removed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .fields import rng_for, smoothstep
from .physics import CalendarPhysics, CoverPhysics, Physics, PracticePhysics
from .spec import WorldSpec

MonthDay = tuple[int, int]
Window = tuple[MonthDay, MonthDay]

GRASSLAND_CROP = "permanent_grassland"
COVER_CROP = "cover_crop"
EVENTS = (
    "sowing", "emergence", "senescence", "harvest", "stubble_tillage", "ploughing", "seedbed",
    "cover_sowing", "cover_emergence", "cover_termination", "mowing",
    "second_sowing", "second_emergence", "second_harvest",
)  # fmt: skip
"""Event names; ``second_*`` belong to a crop sown right after an early main harvest (double cropping)."""
_TILLAGE = {"stubble_tillage", "ploughing", "seedbed"}
SECOND_CROP = "soybean"
"""What a double-cropping farmer sows after an early harvest."""
TILLAGE_REGIMES = ("conventional", "reduced", "no_till")


@dataclass(frozen=True)
class CropCalendar:
    """When and how a main crop grows in Bavaria; windows are (month, day) pairs."""

    name: str
    winter: bool
    """Sown in the autumn before the harvest year."""
    sowing: Window
    emergence_days: tuple[int, int]
    peak: Window
    peak_cover: tuple[float, float]
    harvest: Window
    residue: tuple[float, float]
    """Residue cover left on the ground at harvest (straw, stalks, leaves)."""
    senescence: Window | None = None
    """Start of senescence (for potatoes: haulm killing); None for sugar beet."""
    senescence_days: tuple[int, int] = (25, 35)
    autumn_cover: tuple[float, float] = (0.0, 0.0)
    greenup: Window | None = None


CALENDARS: Mapping[str, CropCalendar] = {
    c.name: c
    for c in (
        CropCalendar("winter_wheat", True, ((10, 1), (10, 20)), (12, 20), ((5, 20), (6, 5)), (0.88, 0.95),
                     ((7, 20), (8, 5)), (0.5, 0.8), ((6, 20), (7, 1)), (25, 35), (0.15, 0.30),
                     ((3, 5), (3, 25))),
        CropCalendar("winter_barley", True, ((9, 20), (10, 5)), (10, 16), ((5, 5), (5, 20)), (0.85, 0.93),
                     ((7, 5), (7, 15)), (0.45, 0.75), ((6, 5), (6, 15)), (22, 30), (0.20, 0.35),
                     ((3, 1), (3, 15))),
        CropCalendar("winter_rapeseed", True, ((8, 20), (9, 1)), (7, 10), ((4, 15), (5, 5)), (0.90, 0.97),
                     ((7, 10), (7, 20)), (0.4, 0.6), ((6, 1), (6, 10)), (30, 40), (0.55, 0.80),
                     ((2, 25), (3, 10))),
        CropCalendar("spring_barley", False, ((3, 15), (4, 5)), (10, 14), ((6, 1), (6, 15)), (0.80, 0.90),
                     ((7, 25), (8, 10)), (0.4, 0.65), ((6, 25), (7, 5)), (22, 28)),
        CropCalendar("maize", False, ((4, 20), (5, 5)), (12, 16), ((7, 25), (8, 10)), (0.88, 0.95),
                     ((10, 5), (10, 25)), (0.45, 0.65), ((9, 1), (9, 15)), (35, 45)),
        CropCalendar("sugar_beet", False, ((3, 28), (4, 12)), (12, 18), ((6, 25), (7, 10)), (0.92, 0.97),
                     ((10, 1), (11, 10)), (0.10, 0.20)),
        CropCalendar("potatoes", False, ((4, 10), (4, 25)), (25, 32), ((7, 1), (7, 15)), (0.82, 0.92),
                     ((9, 5), (9, 25)), (0.03, 0.08), ((8, 5), (8, 25)), (7, 7)),
        CropCalendar("durum_wheat", True, ((10, 20), (11, 15)), (10, 20), ((5, 1), (5, 20)), (0.80, 0.90),
                     ((7, 1), (7, 15)), (0.45, 0.7), ((6, 1), (6, 10)), (25, 35), (0.10, 0.25),
                     ((2, 20), (3, 10))),
        CropCalendar("spring_wheat", False, ((3, 25), (4, 15)), (10, 14), ((6, 10), (6, 25)), (0.80, 0.90),
                     ((8, 5), (8, 25)), (0.45, 0.7), ((7, 5), (7, 15)), (22, 28)),
        CropCalendar("sunflower", False, ((4, 1), (4, 25)), (8, 12), ((7, 1), (7, 15)), (0.75, 0.88),
                     ((9, 1), (9, 25)), (0.25, 0.45), ((8, 1), (8, 15)), (25, 35)),
        CropCalendar("soybean", False, ((5, 1), (5, 20)), (7, 10), ((7, 20), (8, 5)), (0.85, 0.95),
                     ((9, 20), (10, 10)), (0.15, 0.3), ((9, 1), (9, 10)), (20, 28)),
    )
}  # fmt: skip
MAIN_CROPS = tuple(CALENDARS)
_SILAGE_HARVEST: Window = ((9, 10), (9, 30))
_SILAGE_RESIDUE = (0.05, 0.12)
_SUMMER_CROPS = ("maize", "sugar_beet", "potatoes", "sunflower", "soybean")
"""Crops that irrigated farms water."""

INITIAL_SHARES: Mapping[str, float] = {
    "winter_wheat": 0.30, "winter_barley": 0.15, "winter_rapeseed": 0.12, "spring_barley": 0.08,
    "maize": 0.22, "sugar_beet": 0.08, "potatoes": 0.05,
}  # fmt: skip
ROTATION: Mapping[str, Mapping[str, float]] = {
    "winter_wheat": {"winter_barley": 0.30, "winter_rapeseed": 0.20, "maize": 0.25, "sugar_beet": 0.10,
                     "potatoes": 0.05, "spring_barley": 0.10},
    "winter_barley": {"winter_rapeseed": 0.40, "maize": 0.30, "sugar_beet": 0.15, "potatoes": 0.10,
                      "spring_barley": 0.05},
    "winter_rapeseed": {"winter_wheat": 0.85, "winter_barley": 0.15},
    "spring_barley": {"winter_rapeseed": 0.25, "maize": 0.35, "sugar_beet": 0.15, "winter_wheat": 0.25},
    "maize": {"winter_wheat": 0.60, "maize": 0.25, "spring_barley": 0.10, "sugar_beet": 0.05},
    "sugar_beet": {"winter_wheat": 0.80, "spring_barley": 0.15, "maize": 0.05},
    "potatoes": {"winter_wheat": 0.75, "winter_barley": 0.15, "maize": 0.10},
}  # fmt: skip
"""Chance of each successor crop: only successors that can be sown after the harvest."""

CROP_MIXES: Mapping[str, tuple[Mapping[str, float], Mapping[str, Mapping[str, float]]]] = {
    "central": (INITIAL_SHARES, ROTATION),
    "south": (
        {"durum_wheat": 0.30, "winter_barley": 0.12, "sunflower": 0.22, "maize": 0.22, "soybean": 0.10,
         "winter_rapeseed": 0.04},
        {"durum_wheat": {"sunflower": 0.35, "maize": 0.20, "soybean": 0.15, "durum_wheat": 0.15,
                         "winter_barley": 0.10, "winter_rapeseed": 0.05},
         "winter_barley": {"sunflower": 0.30, "maize": 0.30, "durum_wheat": 0.20, "winter_rapeseed": 0.20},
         "sunflower": {"durum_wheat": 0.70, "winter_barley": 0.20, "maize": 0.10},
         "maize": {"durum_wheat": 0.50, "maize": 0.30, "soybean": 0.10, "sunflower": 0.10},
         "soybean": {"durum_wheat": 0.60, "maize": 0.30, "sunflower": 0.10},
         "winter_rapeseed": {"durum_wheat": 0.80, "winter_barley": 0.20}},
    ),
    "atlantic": (
        {"winter_wheat": 0.35, "winter_barley": 0.15, "maize": 0.25, "potatoes": 0.08, "spring_barley": 0.10,
         "winter_rapeseed": 0.07},
        {"winter_wheat": {"winter_barley": 0.30, "maize": 0.35, "potatoes": 0.10, "spring_barley": 0.15,
                          "winter_rapeseed": 0.10},
         "winter_barley": {"winter_rapeseed": 0.30, "maize": 0.45, "potatoes": 0.10, "spring_barley": 0.15},
         "winter_rapeseed": {"winter_wheat": 0.90, "winter_barley": 0.10},
         "spring_barley": {"maize": 0.30, "winter_wheat": 0.40, "winter_rapeseed": 0.30},
         "maize": {"winter_wheat": 0.50, "maize": 0.35, "spring_barley": 0.15},
         "potatoes": {"winter_wheat": 0.80, "maize": 0.20}},
    ),
    "continental": (
        {"winter_wheat": 0.30, "spring_wheat": 0.12, "sunflower": 0.15, "maize": 0.20, "sugar_beet": 0.10,
         "winter_rapeseed": 0.08, "spring_barley": 0.05},
        {"winter_wheat": {"sunflower": 0.25, "maize": 0.25, "sugar_beet": 0.15, "winter_rapeseed": 0.15,
                          "spring_wheat": 0.10, "spring_barley": 0.10},
         "spring_wheat": {"winter_rapeseed": 0.30, "maize": 0.30, "sunflower": 0.20, "winter_wheat": 0.20},
         "sunflower": {"winter_wheat": 0.60, "spring_wheat": 0.25, "maize": 0.15},
         "maize": {"winter_wheat": 0.40, "spring_wheat": 0.30, "maize": 0.20, "sunflower": 0.10},
         "sugar_beet": {"winter_wheat": 0.60, "spring_wheat": 0.30, "maize": 0.10},
         "winter_rapeseed": {"winter_wheat": 0.90, "spring_wheat": 0.10},
         "spring_barley": {"winter_rapeseed": 0.30, "maize": 0.30, "winter_wheat": 0.40}},
    ),
}  # fmt: skip
"""Per world profile's crop mix: the first year's crop shares and the rotation."""


@dataclass(frozen=True)
class CropHistory:
    """Daily state of every surface unit over the simulated window ``first`` … ``last``.

    Arrays are (unit, day) with the unit index equal to the parcel id; row 0 is
    'no vegetation' (field roads) and row ``hedge_unit`` the hedges.
    """

    first: date
    canopy: np.ndarray
    green_share: np.ndarray
    residue: np.ndarray
    boost: np.ndarray
    hedge_unit: int
    crops: pd.DataFrame
    """True main crop per parcel and harvest year: parcel_id, year, crop (cropland and grassland)."""
    events: pd.DataFrame
    """parcel_id, year, crop, event, date — management and phenology events within the window."""

    @property
    def n_days(self) -> int:
        return int(self.canopy.shape[1])

    def index(self, day: date) -> int:
        return (day - self.first).days

    def fractions(self, units: np.ndarray | int, day: int) -> dict[str, np.ndarray]:
        """Cover fractions g, d, r, s of ``units`` on day index ``day`` (no texture)."""
        c = self.canopy[units, day]
        gam = self.green_share[units, day]
        rho = self.residue[units, day]
        return {"g": c * gam, "d": c * (1 - gam), "r": rho * (1 - c), "s": (1 - c) * (1 - rho)}


@dataclass
class _Track:
    """Mutable daily arrays of one unit while its history is being built."""

    n: int
    canopy: np.ndarray = field(init=False)
    green: np.ndarray = field(init=False)
    residue_ops: list[tuple[int, Callable[[float], float]]] = field(default_factory=list)
    tillage: list[int] = field(default_factory=list)
    irrigation: list[int] = field(default_factory=list)
    half_life_days: float = 170.0
    """Straw on the soil decomposes slowly: in the demo world about a third is gone after three months."""

    def __post_init__(self) -> None:
        self.canopy = np.zeros(self.n, np.float32)
        self.green = np.ones(self.n, np.float32)

    def write(self, start: int, stop: int, canopy: Callable, green: Callable | None = None) -> None:
        """Set canopy (and green share) on days [start, stop) from functions of the day index."""
        lo, hi = max(start, 0), min(stop, self.n)
        if hi <= lo:
            return
        t = np.arange(lo, hi, dtype=np.float64)
        self.canopy[lo:hi] = np.clip(canopy(t), 0.0, 1.0)
        if green is not None:
            self.green[lo:hi] = np.clip(green(t), 0.0, 1.0)

    def residue(self, initial: float) -> np.ndarray:
        """Residue cover from the operations (set/scale at a day), decaying in between."""
        out = np.empty(self.n, np.float32)
        ops = sorted(self.residue_ops, key=lambda op: op[0])
        level, since = initial, 0
        decay = np.log(2) / self.half_life_days
        for day, op in [*ops, (self.n, lambda x: x)]:
            lo, hi = max(since, 0), min(max(day, 0), self.n)
            if hi > lo:
                out[lo:hi] = level * np.exp(-decay * (np.arange(lo, hi) - since))
            level = min(0.9, op(level * float(np.exp(-decay * (day - since)))))
            since = day
        return out

    def boost(self) -> np.ndarray:
        """Extra topsoil moisture after each tillage (+0.2, fading over about four days) and
        each irrigation (+0.35, fading over three days)."""
        out = np.zeros(self.n, np.float32)
        for day in self.tillage:
            if day < self.n:
                lo = max(day, 0)
                out[lo:] += 0.2 * np.exp(-(np.arange(lo, self.n) - day) / 4.0)
        out = np.minimum(out, 0.3)
        for day in self.irrigation:
            if 0 <= day < self.n:
                out[day:] += 0.35 * np.exp(-(np.arange(day, self.n) - day) / 3.0)
        return np.minimum(out, 0.5) if self.irrigation else out


def world_calendars(calendar: CalendarPhysics, cover: CoverPhysics) -> dict[str, CropCalendar]:
    """A world's crop calendars: the central-European ones shifted and widened, residue scaled.

    Spring crops' sowing moves with ``spring_shift_days``, winter crops' with
    ``winter_sowing_shift_days``; green-up with ``greenup_shift_days``; harvest and senescence with
    ``harvest_shift_days``; peaks halfway between the shifts of their start and their harvest.
    """
    if calendar == CalendarPhysics() and cover.harvest_residue == 1.0:
        return dict(CALENDARS)
    out = {}
    spread, late = calendar.spread, calendar.harvest_shift_days
    for name, c in CALENDARS.items():
        early = calendar.greenup_shift_days if c.winter else calendar.spring_shift_days
        sow = calendar.winter_sowing_shift_days if c.winter else calendar.spring_shift_days
        scale = cover.harvest_residue
        out[name] = dataclasses.replace(
            c,
            sowing=_adjust(c.sowing, sow, spread),
            peak=_adjust(c.peak, (early + late) // 2, spread),
            harvest=_adjust(c.harvest, late, spread),
            senescence=_adjust(c.senescence, late, spread) if c.senescence else None,
            greenup=_adjust(c.greenup, early, spread) if c.greenup else None,
            residue=(c.residue[0] * scale, min(0.95, c.residue[1] * scale)),
        )
    return out


def _adjust(window: Window, shift: int, spread: float) -> Window:
    """``window`` widened by ``spread`` around its centre and moved by ``shift`` days (within the year)."""
    lo, hi = (date(2001, *md).timetuple().tm_yday for md in window)
    centre = (lo + hi) / 2.0
    new = [int(np.clip(round(centre + spread * (d - centre)) + shift, 1, 365)) for d in (lo, hi)]
    first, last = (date(2001, 1, 1) + timedelta(days=d - 1) for d in new)
    return ((first.month, first.day), (last.month, last.day))


@dataclass(frozen=True)
class _Farm:
    """How one parcel is farmed (drawn from the world's practices, on the parcel's own generator)."""

    tillage: str
    """One of :data:`TILLAGE_REGIMES`."""
    irrigated: bool
    rng: np.random.Generator
    """For the farmer's yearly decisions (late sowing, a second crop)."""
    practices: PracticePhysics
    calendars: Mapping[str, CropCalendar]
    silage_harvest: Window


def _farm(seed: int, pid: int, physics: Physics, calendars: Mapping[str, CropCalendar]) -> _Farm:
    rng = rng_for(seed, "farm", pid)
    p = physics.practices
    u = rng.random()
    tillage = "conventional"
    if u < p.no_till_share:
        tillage = "no_till"
    elif u < p.no_till_share + p.reduced_till_share:
        tillage = "reduced"
    irrigated = bool(rng.random() < p.irrigated_share)
    silage = _adjust(_SILAGE_HARVEST, physics.calendar.harvest_shift_days, physics.calendar.spread)
    if physics.calendar == CalendarPhysics():
        silage = _SILAGE_HARVEST
    return _Farm(tillage, irrigated, rng, p, calendars, silage)


class _Calendar:
    """Day arithmetic relative to the internal origin of the simulation."""

    def __init__(self, origin: date, rng: np.random.Generator) -> None:
        self.origin = origin
        self.rng = rng

    def day(self, when: date) -> int:
        return (when - self.origin).days

    def draw(self, year: int, window: Window) -> int:
        lo = self.day(date(year, *window[0]))
        hi = self.day(date(year, *window[1]))
        return int(self.rng.integers(lo, hi + 1))

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def days(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1)) if hi >= lo else lo


@dataclass(frozen=True)
class _Season:
    """The drawn dates (day indices) and levels of one main-crop season."""

    crop: str
    year: int
    seedbed: int
    sowing: int
    emergence: int
    peak: int
    harvest: int
    peak_cover: float
    residue: float
    senescence: int | None
    senescence_days: int
    autumn_cover: float
    greenup: int | None


def simulate_crops(spec: WorldSpec, parcels: pd.DataFrame) -> CropHistory:
    """Daily cover of every parcel (and the hedges) from ``spec.sim_start`` to ``spec.end``."""
    first, last = spec.sim_start, spec.end
    origin = date(first.year - 1, 7, 15)
    n_internal = (last - origin).days + 1
    offset = (first - origin).days
    n_units = int(parcels["parcel_id"].max()) + 2
    hedge_unit = n_units - 1
    arrays = {k: np.zeros((n_units, n_internal), np.float32) for k in ("canopy", "green", "residue", "boost")}
    arrays["green"][:] = 1.0
    crops, events = [], []
    physics = spec.physics
    calendars = world_calendars(physics.calendar, physics.cover)
    half_life = physics.cover.residue_half_life_days
    for pid, kind in zip(parcels["parcel_id"], parcels["kind"], strict=True):
        cal = _Calendar(origin, rng_for(spec.seed, "crops", int(pid)))
        track = _Track(n_internal, half_life_days=half_life)
        initial = 0.0
        if kind == "cropland":
            initial = 0.2
            rotation_rng = rng_for(spec.seed, "crops", int(pid), "rotation")
            farm = _farm(spec.seed, int(pid), physics, calendars)
            rows = _crop_parcel(cal, rotation_rng, track, spec, farm, range(first.year, last.year + 2))
            events += [(int(pid), *row) for row in rows]
            crops += [(int(pid), y, c) for y, c in _season_crops(rows).items()]
        elif kind == "grassland":
            rows = _grassland(cal, track, range(origin.year, last.year + 1), physics.practices.grass_cuts)
            events += [(int(pid), *row) for row in rows]
            crops += [(int(pid), y, GRASSLAND_CROP) for y in range(first.year, last.year + 1)]
        else:
            initial = _static_cover(cal, track, kind, range(origin.year, last.year + 1))
        _store(arrays, int(pid), track, initial)
    hedge = _Track(n_internal, half_life_days=half_life)
    _static_cover(
        _Calendar(origin, rng_for(spec.seed, "crops", "hedge")),
        hedge,
        "hedge",
        range(origin.year, last.year + 1),
    )
    _store(arrays, hedge_unit, hedge, 0.8)
    window = slice(offset, n_internal)
    return CropHistory(
        first=first,
        canopy=arrays["canopy"][:, window].copy(),
        green_share=arrays["green"][:, window].copy(),
        residue=arrays["residue"][:, window].copy(),
        boost=arrays["boost"][:, window].copy(),
        hedge_unit=hedge_unit,
        crops=_crop_table(crops, first.year, last.year),
        events=_event_table(events, origin, first, last),
    )


def _store(arrays: dict[str, np.ndarray], unit: int, track: _Track, initial_residue: float) -> None:
    arrays["canopy"][unit] = track.canopy
    arrays["green"][unit] = track.green
    arrays["residue"][unit] = track.residue(initial_residue)
    arrays["boost"][unit] = track.boost()


def _season_crops(rows: list[tuple[int, str, str, int]]) -> dict[int, str]:
    return {year: crop for year, crop, event, _ in rows if event == "sowing"}


def _crop_table(rows: list[tuple[int, int, str]], first_year: int, last_year: int) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["parcel_id", "year", "crop"])
    table = table[(table["year"] >= first_year) & (table["year"] <= last_year)]
    return table.sort_values(["parcel_id", "year"]).reset_index(drop=True)


def _event_table(rows: list, origin: date, first: date, last: date) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["parcel_id", "year", "crop", "event", "day"])
    table["date"] = [origin + timedelta(days=int(d)) for d in table["day"]]
    table = table[(table["date"] >= first) & (table["date"] <= last)]
    table = table.sort_values(["parcel_id", "date", "event"], kind="stable")
    return table.drop(columns="day").reset_index(drop=True)


# --- cropland -------------------------------------------------------------------------------


def _rotation(rng: np.random.Generator, years: range, mix: str = "central") -> dict[int, str]:
    """Main crop per harvest year from the rotation's transition chances."""
    initial, rotation = CROP_MIXES[mix]
    crops: dict[int, str] = {}
    names, shares = zip(*initial.items(), strict=True)
    current = str(rng.choice(names, p=np.array(shares) / sum(shares)))
    for year in years:
        crops[year] = current
        successors, chances = zip(*rotation[current].items(), strict=True)
        current = str(rng.choice(successors, p=np.array(chances) / sum(chances)))
    return crops


def _crop_parcel(
    cal: _Calendar,
    rotation_rng: np.random.Generator,
    track: _Track,
    spec: WorldSpec,
    farm: _Farm,
    years: range,
) -> list[tuple[int, str, str, int]]:
    """Seasons, management between them, and the daily cover of one cropland parcel.

    The rotation has its own generator and the seasons draw year after year, so simulating
    more years appends to a parcel's history without changing the years before.
    Returns event rows (year, crop, event, day).
    """
    mix = spec.physics.calendar.crop_mix
    rotation = _rotation(rotation_rng, range(years[0] - 1, years[-1] + 1), mix)
    events: list[tuple[int, str, str, int]] = []
    previous = (rotation[years[0] - 1], cal.day(date(years[0] - 1, 7, 20)))
    stubble = cal.uniform(0.4, 0.6)  # drawn now: every draw happens in calendar order
    track.residue_ops.append((previous[1], lambda _: stubble))
    for year in years:
        season = _draw_season(cal, farm, rotation[year], year, previous[1])
        events += _between_seasons(cal, track, spec, farm, previous, season)
        events += _grow_season(cal, track, farm, season)
        previous = (season.crop, season.harvest)
        second = _second_crop(cal, track, farm, season, rotation.get(year + 1))
        if second:
            events += second
            previous = (SECOND_CROP, second[-1][3])
    return events


def _draw_season(cal: _Calendar, farm: _Farm, crop: str, year: int, previous_harvest: int) -> _Season:
    """Dates of one main-crop season, shifted later when the previous harvest was late."""
    c = farm.calendars[crop]
    sow_year = year - 1 if c.winter else year
    sowing = max(cal.draw(sow_year, c.sowing), previous_harvest + cal.days(6, 12))
    late_chance = farm.practices.late_sowing_probability
    if c.winter and late_chance > 0 and farm.rng.random() < late_chance:
        sowing += int(farm.rng.integers(25, 41))
    late = max(0, sowing - cal.day(date(sow_year, 10, 25)))
    emergence = sowing + cal.days(*c.emergence_days) + int(0.7 * late)
    seedbed = sowing - cal.days(0, 3)
    peak = max(cal.draw(year, c.peak), emergence + 30)
    senescence = cal.draw(year, c.senescence) if c.senescence else None
    sen_days = cal.days(*c.senescence_days)
    harvest_window, residue = c.harvest, c.residue
    silage = False
    if crop == "maize" and cal.rng.random() < 0.5:
        harvest_window, residue, silage = farm.silage_harvest, _SILAGE_RESIDUE, True
    harvest = cal.draw(year, harvest_window)
    if senescence is not None:
        senescence = max(senescence, peak + 5)
        need = 5 if silage else (14 if crop == "potatoes" else sen_days)
        harvest = max(harvest, senescence + need)
    greenup = cal.draw(year, c.greenup) if c.greenup else None
    return _Season(
        crop=crop,
        year=year,
        seedbed=seedbed,
        sowing=sowing,
        emergence=emergence,
        peak=peak,
        harvest=harvest,
        peak_cover=cal.uniform(*c.peak_cover),
        residue=cal.uniform(*residue),
        senescence=senescence,
        senescence_days=sen_days,
        autumn_cover=cal.uniform(*c.autumn_cover),
        greenup=greenup,
    )


def _between_seasons(
    cal: _Calendar, track: _Track, spec: WorldSpec, farm: _Farm, previous: tuple[str, int], season: _Season
) -> list[tuple[int, str, str, int]]:
    """Stubble, stubble tillage, cover crop or bare soil, ploughing and seedbed before ``season``.

    ``previous`` is the crop harvested before and its harvest day.  Reduced tillage keeps half the
    residue and never ploughs; no-till leaves the stubble standing and drills straight into it.
    """
    rows: list[tuple[int, str, str, int]] = []
    crop, year = season.crop, season.year
    previous_crop, harvest = previous
    conventional, no_till = farm.tillage == "conventional", farm.tillage == "no_till"
    gap = season.seedbed - harvest
    next_tillage = season.seedbed
    stubble = None
    if gap >= 14:
        stubble = harvest + cal.days(7, min(21, gap - 7))
        if not no_till:
            rows.append((year - 1, previous_crop, "stubble_tillage", stubble))
            _till(cal, track, stubble, (0.15, 0.3) if conventional else (0.4, 0.6))
    aug5 = cal.day(date(year - 1, 8, 5))
    sep20 = cal.day(date(year - 1, 9, 20))
    spring_crop = not farm.calendars[crop].winter
    cover_sowing = max(stubble + cal.days(1, 7), aug5) if stubble is not None else None
    if (
        spring_crop
        and cover_sowing is not None
        and cover_sowing <= sep20
        and (cal.rng.random() < spec.cover_crop_probability)
    ):
        rows += _cover_crop(cal, track, cover_sowing, season, plough=conventional)
        next_tillage = min(r[3] for r in rows if r[2] == "cover_termination")
    elif spring_crop and conventional:
        ploughing = _plough_day(cal, season, stubble if stubble is not None else harvest)
        if ploughing is not None:
            rows.append((year, crop, "ploughing", ploughing))
            _till(cal, track, ploughing, (0.02, 0.06))
            next_tillage = ploughing
    elif conventional and not spring_crop and gap > 5 and cal.rng.random() < 0.5:
        ploughing = season.seedbed - cal.days(1, min(7, gap - 2))
        rows.append((year, crop, "ploughing", ploughing))
        _till(cal, track, ploughing, (0.02, 0.06))
        next_tillage = ploughing
    if stubble is not None and not any(r[2] == "cover_sowing" for r in rows):
        _volunteers(cal, track, stubble, next_tillage, farm.practices.volunteers)
    if no_till:  # a direct drill cuts slots through the residue: most of it stays
        share = cal.uniform(0.85, 0.95)
        track.residue_ops.append((season.sowing, lambda r: r * share))
    else:
        rows.append((year, crop, "seedbed", season.seedbed))
        _till(cal, track, season.seedbed, (0.5, 0.8))
    return rows


def _plough_day(cal: _Calendar, season: _Season, after: int) -> int | None:
    """Autumn ploughing (60 %) from mid-October, else spring ploughing before the seedbed."""
    autumn_lo = max(cal.day(date(season.year - 1, 10, 15)), after + 14)
    autumn_hi = cal.day(date(season.year - 1, 11, 30))
    if cal.rng.random() < 0.6 and autumn_lo <= autumn_hi:
        return cal.days(autumn_lo, autumn_hi)
    spring_lo = max(cal.day(date(season.year, 3, 5)), after + 14)
    spring_hi = season.seedbed - 5
    if spring_lo <= spring_hi:
        return cal.days(spring_lo, spring_hi)
    return None


def _till(cal: _Calendar, track: _Track, day: int, keep: tuple[float, float]) -> None:
    """Till on ``day``, keeping a share of the residue drawn from ``keep`` (drawn now, in order)."""
    share = cal.uniform(*keep)
    track.residue_ops.append((day, lambda r: r * share))
    track.tillage.append(day)


def _cover_crop(cal: _Calendar, track: _Track, sowing: int, season: _Season, plough: bool = True) -> list:
    """A catch crop (mustard, phacelia…): green in autumn, frost-browned, then terminated."""
    year = season.year
    emergence = sowing + cal.days(7, 12)
    when = cal.rng.random()
    if when < 0.4:  # mulched or frost-killed before the new year
        termination = cal.draw(year - 1, ((11, 20), (12, 31)))
    elif when < 0.75:
        termination = cal.draw(year, ((1, 1), (2, 14)))
    else:  # late termination just ahead of spring tillage
        termination = cal.draw(year, ((2, 15), (3, 15)))
    termination = int(np.clip(termination, emergence + 40, season.seedbed - 10))
    cover = cal.uniform(0.55, 0.85)
    frost = cal.day(date(year - 1, 11, 20))
    track.write(
        emergence,
        termination,
        lambda t: cover * smoothstep((t - emergence + 1) / 45.0),
        lambda t: 1.0 - 0.5 * smoothstep((t - frost) / 40.0),
    )
    standing = cover * float(smoothstep((termination - emergence + 1) / 45.0))
    track.residue_ops.append((termination, lambda r: r + 0.6 * standing))
    rows = [
        (year, COVER_CROP, "cover_sowing", sowing),
        (year, COVER_CROP, "cover_emergence", emergence),
        (year, COVER_CROP, "cover_termination", termination),
    ]
    if plough and cal.rng.random() < 0.5 and termination < season.seedbed - 8:
        ploughing = cal.days(termination + 1, season.seedbed - 5)
        rows.append((year, season.crop, "ploughing", ploughing))
        _till(cal, track, ploughing, (0.02, 0.06))
    return rows


def _volunteers(cal: _Calendar, track: _Track, start: int, stop: int, scale: float = 1.0) -> None:
    """Volunteer cereals and weeds greening the stubble field until the next tillage."""
    vmax = cal.uniform(0.0, 0.25) if cal.rng.random() < 0.6 else cal.uniform(0.0, 0.06)
    vmax = min(vmax * scale, 0.5)
    begin = start + 10
    track.write(begin, stop, lambda t: vmax * smoothstep((t - begin) / 35.0), lambda t: np.ones_like(t))


def _grow_season(cal: _Calendar, track: _Track, farm: _Farm, s: _Season) -> list[tuple[int, str, str, int]]:
    """Canopy and green share from emergence to harvest; residue at harvest; irrigation."""
    track.write(s.emergence, s.harvest, *_season_curves(cal, s))
    if s.crop == "potatoes":
        track.tillage.append(s.sowing)  # planting ridges the soil
    residue = s.residue
    track.residue_ops.append((s.harvest, lambda _: residue))
    if farm.irrigated and s.crop in _SUMMER_CROPS:
        _irrigate(farm, track, s.emergence + 20, s.harvest - 25)
    rows = [
        (s.year, s.crop, "sowing", s.sowing),
        (s.year, s.crop, "emergence", s.emergence),
        (s.year, s.crop, "harvest", s.harvest),
    ]
    if s.senescence is not None:
        rows.append((s.year, s.crop, "senescence", s.senescence))
    return rows


def _irrigate(farm: _Farm, track: _Track, first: int, last: int) -> None:
    """Water every seven to ten days from ``first`` to ``last``."""
    day = first
    while day <= last:
        track.irrigation.append(day)
        day += int(farm.rng.integers(7, 11))


def _second_crop(
    cal: _Calendar, track: _Track, farm: _Farm, season: _Season, next_crop: str | None
) -> list[tuple[int, str, str, int]]:
    """Double cropping: a soybean sown right after an early main harvest, harvested in the autumn.

    Only after a harvest before 20 July, and not when the next main crop is a winter crop that
    could then not be sown in time.  Returns its event rows (none when the farmer does not).
    """
    p = farm.practices.double_crop_probability
    if p <= 0 or season.harvest > cal.day(date(season.year, 7, 20)):
        return []
    if next_crop is None or farm.calendars[next_crop].winter or farm.rng.random() >= p:
        return []
    rng = farm.rng
    sowing = season.harvest + int(rng.integers(5, 13))
    emergence = sowing + int(rng.integers(6, 10))
    peak = sowing + int(rng.integers(55, 66))
    senescence = sowing + int(rng.integers(85, 96))
    harvest = senescence + int(rng.integers(20, 29))
    cover = float(rng.uniform(0.75, 0.9))
    keep = (0.85, 0.95) if farm.tillage == "no_till" else (0.3, 0.6)
    share = float(rng.uniform(*keep))
    track.residue_ops.append((sowing, lambda r: r * share))
    if farm.tillage != "no_till":
        track.tillage.append(sowing)
    track.write(
        emergence,
        harvest,
        lambda t: cover * smoothstep((t - emergence + 1) / max(peak - emergence + 1, 1)),
        lambda t: 1 - smoothstep((t - senescence) / float(harvest - senescence)),
    )
    residue = float(rng.uniform(0.15, 0.3))
    track.residue_ops.append((harvest, lambda _: residue))
    if farm.irrigated:
        _irrigate(farm, track, emergence + 15, harvest - 25)
    year = season.year
    return [
        (year, SECOND_CROP, "second_sowing", sowing),
        (year, SECOND_CROP, "second_emergence", emergence),
        (year, SECOND_CROP, "second_harvest", harvest),
    ]


def _season_curves(cal: _Calendar, s: _Season) -> tuple[Callable, Callable]:
    """Canopy C(t) and green share γ(t) of a main crop between emergence and harvest."""
    cmax, e, p = s.peak_cover, s.emergence, s.peak
    if s.greenup is not None:  # winter crop: autumn growth, winter loss, spring green-up
        dormancy = cal.day(date(s.year - 1, 12, 1))
        tau = 18.0 if e < dormancy - 15 else 60.0

        def autumn(t: np.ndarray) -> np.ndarray:
            grown = s.autumn_cover * (1 - np.exp(-(t - e + 1) / tau))
            at_dormancy = s.autumn_cover * (1 - np.exp(-max(dormancy - e + 1, 1) / tau))
            winter = at_dormancy * (1 - 0.25 * smoothstep((t - dormancy) / 75.0))
            return np.where(t < dormancy, grown, np.minimum(grown, winter))

        greenup = s.greenup
        base = float(autumn(np.array([float(greenup)]))[0])

        def rise(t: np.ndarray) -> np.ndarray:
            spring = base + (cmax - base) * smoothstep((t - greenup) / max(p - greenup, 1))
            return np.where(t < greenup, autumn(t), spring)

        def frost(t: np.ndarray) -> np.ndarray:
            return 1 - 0.15 * (smoothstep((t - dormancy) / 20.0) - smoothstep((t - greenup) / 20.0))
    else:

        def rise(t: np.ndarray) -> np.ndarray:
            return cmax * smoothstep((t - e + 1) / max(p - e + 1, 1))

        def frost(t: np.ndarray) -> np.ndarray:
            return np.ones_like(t)

    sen = s.senescence
    if s.crop == "potatoes" and sen is not None:  # haulm killing: green gone in a week, haulm withers

        def canopy(t: np.ndarray) -> np.ndarray:
            return np.where(t < sen, rise(t), cmax * (1 - 0.7 * smoothstep((t - sen) / 25.0)))

        def green(t: np.ndarray) -> np.ndarray:
            return 1 - smoothstep((t - sen) / 7.0)
    elif sen is None:  # sugar beet: green until lifted, a little leaf loss in autumn
        autumn_start = cal.day(date(s.year, 9, 15))

        def canopy(t: np.ndarray) -> np.ndarray:
            return rise(t) * (1 - 0.08 * smoothstep((t - autumn_start) / 40.0))

        def green(t: np.ndarray) -> np.ndarray:
            return 1 - 0.05 * smoothstep((t - autumn_start) / 40.0)
    else:
        length = float(s.senescence_days)

        def canopy(t: np.ndarray) -> np.ndarray:
            return rise(t) * (1 - 0.1 * smoothstep((t - sen) / length))

        def green(t: np.ndarray) -> np.ndarray:
            return frost(t) * (1 - smoothstep((t - sen) / length))

    return canopy, green


# --- other land uses --------------------------------------------------------------------------


def _grassland(
    cal: _Calendar, track: _Track, years: range, cuts_range: tuple[int, int] = (3, 4)
) -> list[tuple[int, str, str, int]]:
    """A meadow mown three or four times a year: cover drops sharply, regrows in weeks, never bare."""
    rows: list[tuple[int, str, str, int]] = []
    full = cal.uniform(0.88, 0.95)
    shift = cal.days(-7, 7)
    t_all = np.arange(track.n, dtype=np.float64)
    green = _grass_green(cal, t_all, shift)
    track.write(0, track.n, lambda t: np.full_like(t, full), lambda t: green[t.astype(int)])
    canopy = track.canopy.copy()
    for year in years:
        cuts = cuts_range[0] if cal.rng.random() < 0.5 else cuts_range[1]
        day = cal.draw(year, ((5, 10), (5, 25)))
        last = cal.day(date(year, 10, 5))
        for _ in range(cuts):
            if day > last:
                break
            rows.append((year, GRASSLAND_CROP, "mowing", day))
            cut = cal.uniform(0.35, 0.45)
            lo = max(day, 0)
            if lo < track.n:
                regrow = full - (full - cut) * np.exp(-(t_all[lo:] - day) / 9.0)
                canopy[lo:] = np.minimum(canopy[lo:], regrow)
            track.residue_ops.append((day, lambda _: 0.45))
            track.residue_ops.append((day + cal.days(2, 4), lambda _: 0.05))
            day += cal.days(38, 50)
    track.canopy[:] = canopy
    return rows


def _grass_green(cal: _Calendar, t: np.ndarray, shift: int) -> np.ndarray:
    """Green share of grass: brown-green in winter, fully green from May to October."""
    doy = _day_of_year(cal, t) - shift
    return 0.55 + 0.4 * (smoothstep((doy - 75) / 45.0) - smoothstep((doy - 290) / 45.0))


def _day_of_year(cal: _Calendar, t: np.ndarray) -> np.ndarray:
    start = cal.origin.timetuple().tm_yday - 1
    return (t + start) % 365.25


def _static_cover(cal: _Calendar, track: _Track, kind: str, years: range) -> float:
    """Forest, hedge, village garden, water and rock: seasonal but no management.

    Returns the constant litter/residue cover of the unit.
    """
    shift = cal.days(-6, 6)
    t = np.arange(track.n, dtype=np.float64)
    doy = _day_of_year(cal, t) - shift
    if kind in ("forest_deciduous", "hedge"):
        leaves = smoothstep((doy - 110) / 25.0) - smoothstep((doy - 278) / 30.0)
        cover = 0.92 if kind == "forest_deciduous" else 0.85
        track.write(
            0, track.n, lambda x: np.full_like(x, cover), lambda x: 0.08 + 0.84 * leaves[x.astype(int)]
        )
        return 0.8
    if kind == "forest_coniferous":
        winter = 0.5 + 0.5 * np.cos(2 * np.pi * (doy - 15) / 365.25)
        track.write(
            0, track.n, lambda x: np.full_like(x, 0.95), lambda x: 0.85 - 0.07 * winter[x.astype(int)]
        )
        return 0.8
    if kind == "village":
        green = _grass_green(cal, t, shift)
        track.write(0, track.n, lambda x: np.full_like(x, 0.85), lambda x: green[x.astype(int)])
        return 0.1
    return 0.0  # water, rock: nothing grows
