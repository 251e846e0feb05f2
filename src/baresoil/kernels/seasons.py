"""From a pixel's daily band (q10, q50, q90) to the HRL cropping-pattern values of one reference year.

The daily grid starts at the first observation of the analysis window; the
caller passes the reference year's bounds and the HRL season windows as day numbers on that
grid, and a table turning a day number into YYDOY.  Outputs are physical values
(days, YYDOY) or flag codes, in the order of ``LAYERS``.  Those day numbers are negative
where the series starts after them (a series from January has the autumn before it on the
calendar only): an event placed there by the calendar is no date of the series, and its
date and duration are flag 65531 (the data cannot tell them), never a date read off the table.

Season logic, following the HRL ATBD (section "Season delineation"):

1. seasons are emergence-harvest pairs of one NDVI peak lasting 40-366 days
   whose peak reaches a crop's NDVI (``min_peak_ndvi``, read on the level the views
   support: :func:`observed_level`); peaks not separated by a return to ``bare_ndvi``
   are one season (a winter crop's dormancy dip);
2. those ending before or starting after the reference year are dropped;
3. the main season is the first whose events fall in the spring-crop windows,
   else the first in the winter-crop windows (spring wins over winter);
   a season in neither window gives flag 65533;
4. a secondary season has both events in the window before the main season
   (and ends before it) or after it (and starts after it); after wins;
5. bare soil after (BSA) runs from the main harvest to the next emergence of a
   crop (cover crops included; weeds and volunteers, which never reach a crop's
   NDVI, are not), or to 31 December; bare soil before (BSB) from the last such
   harvest before the main emergence (midway in a long gap that hides it), or from
   1 January when that lies before the year.  A main harvest after the year or a main
   emergence before it makes the period flag 65529.  Days are counted with the harvest day
   included and the emergence day excluded, so that the HRL maximum of 275
   days (1 April to 31 December) is reached.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from .calendar import overwintering
from .events import (
    CAL_HARVEST,
    CAL_LENGTH,
    HIDDEN_END_DAYS,
    NO_EVENT,
    event_confidence,
    harvests_between_views,
    season_events,
    sown_before_winter,
    split_long_seasons,
    views_around_fall,
    winter_dates,
)
from .smooth import Z90, fit_band, used_weights

LAYERS = (
    "CPMCE", "CPMCECL", "CPMCH", "CPMCHCL", "CPMCD", "CPMCDCL",
    "CPBSB", "CPBSBCL", "CPBSA", "CPBSACL", "CPSCE", "CPSCD", "CPCSY",
)  # fmt: skip
N_LAYERS = len(LAYERS)
(MCE, MCECL, MCH, MCHCL, MCD, MCDCL, BSB, BSBCL, BSA, BSACL, SCE, SCD, CSY) = range(N_LAYERS)

# Sentinel-1 in the band (see radar_ndvi): pairing distance, least pairs and skill of the per-pixel fit,
# and the most an S1-predicted NDVI may weigh against an optical observation
RADAR_PAIR_DAYS = 3
MIN_RADAR_PAIRS = 8
MIN_RADAR_R2 = 0.3
MAX_RADAR_WEIGHT = 0.9

NO_CROPLAND = 0.0
BARE_OUTSIDE_YEAR = 65529.0
NO_SECONDARY = 65530.0
FEW_OBSERVATIONS = 65531.0
NO_SEASON = 65532.0
OUTSIDE_WINDOW = 65533.0
NO_CONFIDENCE = 65534.0

# rows of the ``windows`` argument: (first, last) day numbers of emergence and harvest windows
WINTER_EMERGENCE, WINTER_HARVEST, SPRING_EMERGENCE, SPRING_HARVEST, BEFORE_MAIN, AFTER_MAIN = range(6)


class SeasonRules(NamedTuple):
    """The settings of the season rules, ``seasons.*`` of the config by name (built by
    ``products.seasons.season_rules``), and four switches: ``use_sum`` (``seasons.combine`` is ``sum``),
    ``crossing`` (``seasons.confidence`` is ``crossing``: confidence from the band's crossings rather
    than the ATBD's slope), ``by_views`` (``seasons.harvest_confidence`` is ``views``, see
    :func:`_harvest_confidence`) and ``by_windows`` (``seasons.main_season`` is ``windows``: the HRL's
    window rule, see :func:`_select_main`, rather than the contract's, :func:`_select_harvested`).
    Day counts are held as floats, as the rules compute with them."""

    min_prominence: float
    emergence_fraction: float
    harvest_fraction: float
    bare_ndvi: float
    min_season_days: float
    max_season_days: float
    min_observations: float
    max_event_confidence: float
    use_sum: bool
    min_rise: float
    min_peak_ndvi: float
    crossing: bool
    harvest_to_emergence: float
    by_views: bool
    min_event_confidence: float
    by_windows: bool


class Smoothing(NamedTuple):
    """The settings of the daily band (:func:`daily_band`): ``seasons.smoothing`` (λ), ``noise_floor``,
    ``spike``, ``spike_max_gap``, ``bare_ndvi`` and ``band_scale``."""

    smoothing: float
    noise_floor: float
    spike: float
    spike_max_gap: float
    bare_ndvi: float
    band_scale: float


GAP_EDGE_DAYS = 15
"""Gaps between views from this length on cannot raise the level beyond their edges (three revisits)."""

UNFINISHED_YEAR_DAYS = 30
"""A series that ends this many days or more before 31 December may stop before a crop's harvest:
that it shows no season or no bare soil no longer tells the pixel is not annual cropland."""


@numba.njit(cache=True)
def _inside(day: int, windows: np.ndarray, row: int) -> bool:
    return day != NO_EVENT and windows[row, 0] <= day <= windows[row, 1]


@numba.njit(cache=True)
def _rounded(days: float, cap: float) -> float:
    """Confidence in whole days (at least 1), or the flag when not computable or beyond ``cap``."""
    if not np.isfinite(days) or days > cap:
        return NO_CONFIDENCE
    return max(1.0, np.round(days))


@numba.njit(cache=True)
def _emergence_confidence(
    q10: np.ndarray, q50: np.ndarray, q90: np.ndarray, onset: int, seen: int, crossing: bool, floor: float
) -> float:
    """An emergence's confidence: the band where the rise is seen, or at the onset itself (ATBD),
    and at least ``floor`` days (see :func:`_at_least`); none for an emergence placed by the
    calendar, not seen (``seen`` is ``NO_EVENT``, see ``events.sown_before_winter``).

    The onset is extrapolated back to the bare level, where the band's upper edge
    never falls below the event's level; the crossings are read where the rise is
    seen, whose uncertainty the extrapolation (a fixed shift) carries over.
    """
    if seen == NO_EVENT:
        return np.nan
    return _at_least(event_confidence(q10, q50, q90, seen if crossing else onset, True, crossing), floor)


@numba.njit(cache=True)
def _at_least(width: float, floor: float) -> float:
    """A computable confidence widened to ``floor`` days (``seasons.min_event_confidence``).

    The band says how well the curve is known, not how well a date read off it matches the
    field: where views are dense the band is a few days wide, while reading the onset of a
    rise or the end of a fall has an error of its own (crops differ in how their first leaves
    show and how a harvest rounds the curve off).  Not computable stays not computable.
    """
    return max(width, floor) if np.isfinite(width) else width


@numba.njit(cache=True)
def _combined(a: float, b: float, use_sum: bool) -> float:
    return a + b if use_sum else 0.5 * (a + b)


@numba.njit(cache=True)
def _date(yydoy: np.ndarray, day: int) -> float:
    """The YYDOY of ``day``, or ``FEW_OBSERVATIONS`` for a day outside the series: an emergence the
    calendar places before the first observation (a winter crop already up when the series starts)
    is not in the data, which cannot tell it."""
    if 0 <= day < yydoy.shape[0]:
        return yydoy[day]
    return FEW_OBSERVATIONS


@numba.njit(cache=True)
def _duration(yydoy: np.ndarray, emergence: int, harvest: int) -> float:
    """Days from ``emergence`` to ``harvest``, or ``FEW_OBSERVATIONS`` when either lies outside the series."""
    if _date(yydoy, emergence) == FEW_OBSERVATIONS or _date(yydoy, harvest) == FEW_OBSERVATIONS:
        return FEW_OBSERVATIONS
    return float(harvest - emergence)


@numba.njit(cache=True)
def _select_main(
    emergence: np.ndarray, harvest: np.ndarray, valid: np.ndarray, windows: np.ndarray
) -> tuple[int, bool]:
    """Index of the main season (or -1) and whether any valid season exists at all."""
    winter = -1
    for k in range(emergence.shape[0]):
        if not valid[k]:
            continue
        if _inside(emergence[k], windows, SPRING_EMERGENCE) and _inside(harvest[k], windows, SPRING_HARVEST):
            return k, True
        if (
            winter < 0
            and _inside(emergence[k], windows, WINTER_EMERGENCE)
            and _inside(harvest[k], windows, WINTER_HARVEST)
        ):
            winter = k
    return winter, bool(valid.any())


@numba.njit(cache=True)
def _select_harvested(
    q50: np.ndarray,
    emergence: np.ndarray,
    peaks: np.ndarray,
    harvest: np.ndarray,
    valid: np.ndarray,
    year_first: int,
    year_last: int,
    crop: float,
    sown_by: int,
) -> tuple[int, bool]:
    """Index of the main season by the contract (or -1), and whether any valid season exists at all.

    The main crop is the one harvested in the reference year: of the valid seasons harvested, and
    peaking, from ``year_first`` to ``year_last``, those that emerged by ``sown_by`` (the typical
    winter-crop harvest of the year: a crop up by then is no catch crop or second crop sown after a
    harvest) come first, and among them the one with the most green above the ``crop`` level (the
    sum of ``q50`` above it from emergence to harvest), which a cover crop or volunteers before a
    spring crop do not reach.
    """
    best, size = -1, -np.inf
    for k in range(emergence.shape[0]):
        if not valid[k] or not year_first <= harvest[k] <= year_last or peaks[k] < year_first:
            continue
        total = 0.0
        for t in range(max(emergence[k], 0), harvest[k] + 1):
            total += max(q50[t] - crop, 0.0)
        if emergence[k] <= sown_by:
            total += MAIN_FIRST
        if total > size:
            best, size = k, total
    return best, bool(valid.any())


MAIN_FIRST = 1e9
"""Added to the green sum of a season up by the winter-crop harvest: it outranks any sown after."""


@numba.njit(cache=True)
def _select_secondary(
    emergence: np.ndarray, harvest: np.ndarray, valid: np.ndarray, main: int, windows: np.ndarray
) -> int:
    before = -1
    for k in range(emergence.shape[0]):
        if not valid[k] or k == main:
            continue
        if (
            emergence[k] > harvest[main]
            and _inside(emergence[k], windows, AFTER_MAIN)
            and _inside(harvest[k], windows, AFTER_MAIN)
        ):
            return k
        if (
            before < 0
            and harvest[k] < emergence[main]
            and _inside(emergence[k], windows, BEFORE_MAIN)
            and _inside(harvest[k], windows, BEFORE_MAIN)
        ):
            before = k
    return before


@numba.njit(cache=True)
def calendar_rows(
    values: np.ndarray, days: np.ndarray, n_days: int, smoothing: Smoothing, rules: SeasonRules
) -> tuple[np.ndarray, np.ndarray]:
    """The overwintering seasons of every pixel of a (time, pixel) NDVI array (``kernels.calendar``):
    rows of (emergence, green-up, harvest) day numbers, and the pixel of each row."""
    rows = []
    owner = []
    for p in range(values.shape[1]):
        _, q50, _, level, views, n_obs = daily_band(
            values[:, p], days, n_days, smoothing.smoothing, smoothing.noise_floor, smoothing.spike,
            smoothing.spike_max_gap, smoothing.bare_ndvi, smoothing.band_scale, np.zeros(0),
            np.zeros(0, np.int64),
        )  # fmt: skip
        if n_obs < rules.min_observations or not np.isfinite(q50[0]):
            continue
        bare, crop = rules.bare_ndvi, rules.min_peak_ndvi
        emergence, peaks, harvest, seen = season_events(
            q50, rules.min_prominence, rules.emergence_fraction, rules.harvest_fraction,
            rules.min_rise, bare,
        )  # fmt: skip
        for k in range(peaks.shape[0]):
            if peaks[k] == NO_EVENT or level[peaks[k]] < crop:
                continue
            e, g, middle = overwintering(q50, emergence[k], peaks[k], bare, crop, seen[k], views)
            if middle != NO_EVENT:
                rows.append((e, g, middle, harvest[k]))
                owner.append(p)
    out = np.empty((len(rows), 4), np.int64)
    for i in range(len(rows)):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = rows[i]
    pixels = np.empty(len(owner), np.int64)
    for i in range(len(owner)):
        pixels[i] = owner[i]
    return out, pixels


@numba.njit(cache=True)
def crop_events(
    q50: np.ndarray, rules: SeasonRules, calendar: np.ndarray, views: np.ndarray, sowing: int, year_last: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(emergence, peak, harvest, seen, brackets) of every season of ``q50`` (see
    ``events.season_events``), with winter crops' unseen emergences placed in the autumn
    (``events.sown_before_winter``) and the harvests kept between the ``views`` (observations on the
    daily grid, NaN where none) that bracket them (``brackets``, see ``events.harvests_between_views``)."""
    emergence, peaks, harvest, seen = season_events(
        q50, rules.min_prominence, rules.emergence_fraction, rules.harvest_fraction,
        rules.min_rise, rules.bare_ndvi,
    )  # fmt: skip
    emergence, peaks, harvest, seen, placed = split_long_seasons(
        q50, views, emergence, peaks, harvest, seen, int(rules.max_season_days)
    )
    winters = winter_dates(calendar)
    sown_before_winter(
        q50, emergence, peaks, harvest, seen, winters, int(rules.harvest_to_emergence),
        rules.min_peak_ndvi, rules.harvest_fraction, sowing, int(calendar[0, CAL_LENGTH]),
        views, rules.bare_ndvi,
    )  # fmt: skip
    brackets = harvests_between_views(q50, views, peaks, harvest, winters, placed, year_last)
    return emergence, peaks, harvest, seen, brackets


@numba.njit(cache=True)
def pixel_seasons(
    q10: np.ndarray,
    q50: np.ndarray,
    q90: np.ndarray,
    level: np.ndarray,
    views: np.ndarray,
    n_obs: int,
    last_view: int,
    cropland: int,
    sowing: int,
    year_first: int,
    year_last: int,
    windows: np.ndarray,
    calendar: np.ndarray,
    yydoy: np.ndarray,
    rules: SeasonRules,
) -> np.ndarray:
    """The ``LAYERS`` values of one pixel.

    ``level`` is ``q50`` limited to what the views support (:func:`observed_level`): whether a
    season reaches a crop's NDVI (``min_peak_ndvi``) is read on it.  ``views`` are the observations
    the band was fitted to, on the daily grid (:func:`daily_band`).
    ``last_view`` is the day number of the pixel's last observation up to the year's end
    (it bounds what the bare period after the main crop can have seen).
    ``cropland`` is 1 or 0 from a land-cover layer, or -1 to decide from the data
    (a season and a bare level reached; flag ``FEW_OBSERVATIONS`` rather than ``NO_CROPLAND``
    where the series ends ``UNFINISHED_YEAR_DAYS`` or more before the year does).
    ``sowing``: when the main crop is declared sown (``events.SOWN_UNKNOWN``, ``SOWN_IN_AUTUMN``,
    ``SOWN_IN_SPRING``; see ``events.sown_before_winter``).
    ``winters`` holds, per winter of the window, the day numbers of the start of dormancy, of the
    opening of the spring emergence window, of the typical autumn emergence and of the earliest
    emergence of a winter cereal (see ``events.sown_before_winter``), of the close of the autumn's
    winter-crop harvest window (see ``events.harvests_between_views``) and of the close of the
    winter-crop emergence window in the spring.
    ``rules`` holds the settings (:class:`SeasonRules`).
    """
    out = np.full(N_LAYERS, np.nan)
    (bare_ndvi, min_days, max_days, min_obs, cap, use_sum, min_peak) = (
        rules.bare_ndvi, rules.min_season_days, rules.max_season_days, rules.min_observations,
        rules.max_event_confidence, rules.use_sum, rules.min_peak_ndvi,
    )  # fmt: skip
    crossing, floor = rules.crossing, rules.min_event_confidence
    if cropland == 0:
        out[:] = NO_CROPLAND
        return out
    if n_obs == 0:
        return out  # outside the area with data: nodata
    if n_obs < min_obs or not np.isfinite(q50[0]):
        out[:] = FEW_OBSERVATIONS
        return out
    emergence, peaks, harvest, seen, brackets = crop_events(q50, rules, calendar, views, sowing, year_last)
    if cropland < 0 and (peaks[0] == NO_EVENT or q50.min() > bare_ndvi):
        unfinished = year_last - (q50.shape[0] - 1) >= UNFINISHED_YEAR_DAYS
        out[:] = FEW_OBSERVATIONS if unfinished else NO_CROPLAND
        return out
    m = emergence.shape[0]
    valid = np.zeros(m, np.bool_)
    for k in range(m):
        if emergence[k] != NO_EVENT and harvest[k] != NO_EVENT:
            length = harvest[k] - emergence[k]
            in_year = harvest[k] >= year_first and emergence[k] <= year_last
            green = peaks[k] != NO_EVENT and level[peaks[k]] >= min_peak  # water and rock also fluctuate
            valid[k] = min_days <= length <= max_days and in_year and green
    if rules.by_windows:
        main, any_season = _select_main(emergence, harvest, valid, windows)
    else:
        sown_by = int(calendar[0, CAL_HARVEST])
        main, any_season = _select_harvested(
            q50, emergence, peaks, harvest, valid, year_first, year_last, min_peak, sown_by
        )
    if main < 0:
        out[:] = OUTSIDE_WINDOW if any_season else NO_SEASON
        return out
    e, h = emergence[main], harvest[main]
    cl_e = _emergence_confidence(q10, q50, q90, e, seen[main], crossing, floor)
    by_views = rules.by_views
    cl_h = _harvest_confidence(q10, q50, q90, h, brackets[main], crossing, by_views, floor)
    out[MCE], out[MCECL] = _date(yydoy, e), _rounded(cl_e, cap)
    out[MCH], out[MCHCL] = _date(yydoy, h), _rounded(cl_h, cap)
    out[MCD], out[MCDCL] = _duration(yydoy, e, h), _rounded(_combined(cl_e, cl_h, use_sum), 2 * cap)
    # weeds and volunteers between two crops green the field a little: only seasons that reach a
    # crop's NDVI (or a rise still under way at the end) bound the bare periods
    crop = np.zeros(m, np.bool_)
    for k in range(m):
        crop[k] = peaks[k] == NO_EVENT or level[peaks[k]] >= min_peak
    _bare_after(
        out, emergence[crop], seen[crop], q10, q50, q90, h, cl_h, year_last, last_view, cap, use_sum,
        crossing, floor,
    )  # fmt: skip
    _bare_before(
        out, harvest[crop], brackets[crop], q10, q50, q90, e, cl_e, year_first, cap, use_sum, crossing,
        by_views, floor, views, peaks[crop], bare_ndvi,
    )  # fmt: skip
    second = _select_secondary(emergence, harvest, valid, main, windows)
    if second < 0:
        out[SCE], out[SCD], out[CSY] = NO_SECONDARY, NO_SECONDARY, 1.0
    else:
        e2, h2 = emergence[second], harvest[second]
        out[SCE], out[SCD] = _date(yydoy, e2), _duration(yydoy, e2, h2)
        out[CSY] = 2.0
    return out


@numba.njit(cache=True)
def _bare_after(
    out: np.ndarray,
    emergence: np.ndarray,
    seen: np.ndarray,
    q10: np.ndarray,
    q50: np.ndarray,
    q90: np.ndarray,
    h: int,
    cl_h: float,
    year_last: int,
    last_view: int,
    cap: float,
    use_sum: bool,
    crossing: bool,
    floor: float,
) -> None:
    """Bare soil after the main harvest ``h`` (see the module notes), into ``out``.

    A period that runs to 31 December ends unseen after the pixel's last clear view
    ``last_view``: a crop may have emerged on any of those days, so the end's
    uncertainty is their number, combined with the harvest's as the two bounds of a
    period are (never less than the harvest's alone, the HRL's rule for this end).
    """
    if h > year_last:
        out[BSA], out[BSACL] = BARE_OUTSIDE_YEAR, BARE_OUTSIDE_YEAR
        return
    following, following_seen = NO_EVENT, NO_EVENT
    for k in range(emergence.shape[0]):
        day = emergence[k]
        if day > h and (following == NO_EVENT or day < following):
            following, following_seen = day, seen[k]
    if following == NO_EVENT or following > year_last:
        unseen = float(year_last - max(last_view, h))
        out[BSA] = float(year_last + 1 - h)
        out[BSACL] = _rounded(max(cl_h, _combined(cl_h, unseen, use_sum)), 2 * cap)
        return
    cl_next = _emergence_confidence(q10, q50, q90, following, following_seen, crossing, floor)
    out[BSA] = max(1.0, float(following - h + 1))
    out[BSACL] = _rounded(_combined(cl_h, cl_next, use_sum), 2 * cap)


@numba.njit(cache=True)
def _bare_before(
    out: np.ndarray,
    harvest: np.ndarray,
    brackets: np.ndarray,
    q10: np.ndarray,
    q50: np.ndarray,
    q90: np.ndarray,
    e: int,
    cl_e: float,
    year_first: int,
    cap: float,
    use_sum: bool,
    crossing: bool,
    by_views: bool,
    floor: float,
    views: np.ndarray,
    peaks: np.ndarray,
    bare: float,
) -> None:
    """Bare soil before the main emergence ``e`` (see the module notes), into ``out``.

    The period mostly starts with a cover crop's termination over the winter, and in a long
    cloudy gap the fall is read where the field reaches its lowest level, which the spring
    tillage brings, at the end of the gap: a fall whose views are ``HIDDEN_END_DAYS`` or more
    apart is placed midway between them, where a step about which nothing else is known is
    best placed.  The frost browns a cover crop first, and its mulch may keep the field just
    above the harvest's level until the spring tillage darkens it below, so the views either
    side of that level may both show bare soil while the termination fell in the gap before:
    the gap after which a view first shows the field bare (``bare``, ``seasons.bare_ndvi``)
    holds the termination when its views lie that far apart.  (Dating a main harvest by the
    gap measured worse: its fall to stubble is read well on the smoothed curve.)  ``views``
    are the observations on the daily grid and ``peaks`` the seasons' peaks.

    A period from 1 January when the series starts later (``year_first`` below 0) began unseen: a
    crop may have been harvested on any of the days before the first observation, so their number
    joins the emergence's uncertainty as the two bounds of a period combine (as the days after the
    last view do in :func:`_bare_after`).  An emergence the calendar places between 1 January and
    the first observation is not in the data: flag ``FEW_OBSERVATIONS``.
    """
    if e < year_first:
        out[BSB], out[BSBCL] = BARE_OUTSIDE_YEAR, BARE_OUTSIDE_YEAR
        return
    if e < 0:
        out[BSB], out[BSBCL] = FEW_OBSERVATIONS, FEW_OBSERVATIONS
        return
    preceding = -1
    for k in range(harvest.shape[0]):
        if harvest[k] != NO_EVENT and harvest[k] < e and (preceding < 0 or harvest[k] > harvest[preceding]):
            preceding = k
    day, bracket = NO_EVENT, np.full(2, NO_EVENT, np.int64)
    if preceding >= 0:
        day, bracket = harvest[preceding], brackets[preceding].copy()
        if peaks[preceding] != NO_EVENT:  # the gap after which a view first shows the field bare
            standing, gone = views_around_fall(views, peaks[preceding], bare)
            seen = np.isfinite(views[standing]) and gone != NO_EVENT and gone < e
            if seen and gone - standing >= HIDDEN_END_DAYS:
                bracket[0], bracket[1] = standing, gone
        if bracket[1] != NO_EVENT and bracket[1] - bracket[0] >= HIDDEN_END_DAYS:
            day = (bracket[0] + bracket[1]) // 2
    if day < year_first:  # no harvest before, or the bare period began before the year: from 1 January
        out[BSB] = max(1.0, float(e - year_first + 1))
        unseen = -year_first
        if unseen <= 0:
            out[BSBCL] = _rounded(cl_e, cap)
        else:
            out[BSBCL] = _rounded(max(cl_e, _combined(cl_e, float(unseen), use_sum)), 2 * cap)
        return
    cl_prev = _harvest_confidence(q10, q50, q90, day, bracket, crossing, by_views, floor)
    out[BSB] = max(1.0, float(e - day + 1))
    out[BSBCL] = _rounded(_combined(cl_prev, cl_e, use_sum), 2 * cap)


@numba.njit(cache=True)
def _harvest_confidence(
    q10: np.ndarray,
    q50: np.ndarray,
    q90: np.ndarray,
    h: int,
    bracket: np.ndarray,
    crossing: bool,
    by_views: bool,
    floor: float,
) -> float:
    """A harvest's confidence: the band's width at it (ATBD), and with ``by_views`` at least the days
    between the views that bracket it (``bracket``: last view of the crop standing, first of it gone);
    at least ``floor`` days (see :func:`_at_least`).

    The band of a smoother assumes a smooth curve; a harvest is a step, which may lie
    anywhere between the two views, however narrow the band is there.
    """
    width = event_confidence(q10, q50, q90, h, False, crossing)
    if by_views and bracket[1] != NO_EVENT:
        width = max(width, float(bracket[1] - bracket[0]))
    return _at_least(width, floor)


@numba.njit(cache=True)
def daily_band(
    values: np.ndarray,
    days: np.ndarray,
    n_days: int,
    lam: float,
    noise_floor: float,
    spike: float,
    spike_gap: float,
    soil: float,
    band_scale: float,
    radar: np.ndarray,
    radar_days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """q10, q50, q90 on the daily grid from one pixel's observations (NaN = missing) on ``days``,
    the level the observations support (:func:`observed_level`), the views the fit used on the
    daily grid (NaN on days without one) and the number of optical observations used.

    With ``radar`` (a Sentinel-1 cross ratio, dB, on ``radar_days``), the days
    without an optical observation also get the NDVI the radar predicts, weighted
    by how well it does (see :func:`radar_ndvi`): cloudy gaps narrow.
    """
    y = np.zeros(n_days)
    w = np.zeros(n_days)
    for t in range(values.shape[0]):
        if np.isfinite(values[t]):
            y[days[t]] = values[t]
            w[days[t]] = 1.0
    n_optical = int((w > 0).sum())
    if n_optical < 3:
        nan = np.full(n_days, np.nan)
        return nan, nan, nan, nan, nan, n_optical
    # the spikes are dropped once, here, so that the views returned are those the band was fitted to
    kept = used_weights(y, w, spike, spike_gap, soil)
    z, std, used = fit_band(y, kept, lam, noise_floor, 0.0)
    if radar.shape[0] > 0:
        predicted, weight = radar_ndvi(values, days, radar, radar_days, noise_floor, z)
        if weight > 0:
            for t in range(radar.shape[0]):
                d = radar_days[t]
                if np.isfinite(predicted[t]) and w[d] == 0.0:
                    y[d] = predicted[t]
                    w[d] = weight
            kept = used_weights(y, w, spike, spike_gap, soil)
            z, std, used = fit_band(y, kept, lam, noise_floor, 0.0)
    half = Z90 * band_scale * std
    views = np.where(kept > 0, y, np.nan)
    return z - half, z, z + half, observed_level(z, w, GAP_EDGE_DAYS), views, used


@numba.njit(cache=True)
def observed_level(z: np.ndarray, w: np.ndarray, min_gap: int) -> np.ndarray:
    """``z`` limited, inside each gap of at least ``min_gap`` days between the observations
    (days of weight ``w`` > 0, optical or radar), to the range of ``z`` at the gap's two edges.

    A smoother penalising curvature overshoots across a long gap next to a steep change:
    weeds at 0.40 over a cloudy winter before a spring ploughing come out at 0.5, a crop's
    NDVI.  Nothing observed supports a level beyond both edges, so whether a season reaches
    a crop's NDVI is read on this curve; its dates are still read on ``z``.
    """
    out = z.copy()
    last = -1
    for t in range(w.shape[0]):
        if w[t] <= 0.0:
            continue
        if last >= 0 and t - last >= min_gap:
            lo, hi = min(z[last], z[t]), max(z[last], z[t])
            for i in range(last + 1, t):
                out[i] = min(max(out[i], lo), hi)
        last = t
    return out


@numba.njit(cache=True)
def radar_ndvi(
    values: np.ndarray,
    days: np.ndarray,
    radar: np.ndarray,
    radar_days: np.ndarray,
    noise_floor: float,
    z: np.ndarray,
) -> tuple[np.ndarray, float]:
    """NDVI predicted from the radar by this pixel's own linear fit, and the weight of a prediction.

    The fit pairs each radar date with the optical observation nearest in time
    (within ``RADAR_PAIR_DAYS``).  The weight is the optical noise variance over
    the fit's residual variance (so a prediction counts as much as it is worth,
    never more than ``MAX_RADAR_WEIGHT`` of an optical observation); 0 when there
    are fewer than ``MIN_RADAR_PAIRS`` pairs or the radar explains less than
    ``MIN_RADAR_R2`` of the NDVI variance.
    """
    n = radar.shape[0]
    xs = np.empty(n)
    ys = np.empty(n)
    m = 0
    for t in range(n):
        if not np.isfinite(radar[t]):
            continue
        best, gap = -1, RADAR_PAIR_DAYS + 1
        for k in range(values.shape[0]):
            lag = abs(days[k] - radar_days[t])
            if np.isfinite(values[k]) and lag < gap:
                best, gap = k, lag
        if best >= 0:
            xs[m] = radar[t]
            ys[m] = values[best]
            m += 1
    predicted = np.full(n, np.nan)
    if m < MIN_RADAR_PAIRS:
        return predicted, 0.0
    x, y = xs[:m], ys[:m]
    vx = ((x - x.mean()) ** 2).mean()
    vy = ((y - y.mean()) ** 2).mean()
    if vx <= 0 or vy <= 0:
        return predicted, 0.0
    slope = ((x - x.mean()) * (y - y.mean())).mean() / vx
    intercept = y.mean() - slope * x.mean()
    residual = ((y - intercept - slope * x) ** 2).mean()
    if slope <= 0 or 1.0 - residual / vy < MIN_RADAR_R2:
        return predicted, 0.0
    misfit = np.abs(values - z[days])
    optical = max(noise_floor, 1.4826 * float(np.median(misfit[np.isfinite(misfit)])))
    weight = min(MAX_RADAR_WEIGHT, optical**2 / residual)
    for t in range(n):
        predicted[t] = intercept + slope * radar[t]
    return predicted, weight


@numba.njit(cache=True)
def _last_view(values: np.ndarray, days: np.ndarray, until: int) -> int:
    """Day number of the last observation (not NaN) on or before ``until``; ``NO_EVENT`` if none."""
    last = NO_EVENT
    for t in range(values.shape[0]):
        if np.isfinite(values[t]) and days[t] <= until:
            last = max(last, int(days[t]))
    return last


@numba.njit(cache=True)
def analyse_pixels(
    values: np.ndarray,
    days: np.ndarray,
    n_days: int,
    cropland: np.ndarray,
    sowing: np.ndarray,
    smoothing: Smoothing,
    year_bounds: np.ndarray,
    windows: np.ndarray,
    calendar: np.ndarray,
    yydoy: np.ndarray,
    rules: SeasonRules,
    radar: np.ndarray,
    radar_days: np.ndarray,
) -> np.ndarray:
    """``LAYERS`` of every pixel of a (time, pixel) NDVI array: (layer, pixel).

    ``sowing`` holds, per pixel, when the reference year's main crop is declared sown
    (``events.SOWN_UNKNOWN``, ``SOWN_IN_AUTUMN``, ``SOWN_IN_SPRING``; see :func:`pixel_seasons`).
    ``smoothing`` holds the daily band's settings (:class:`Smoothing`); ``year_bounds`` the reference
    year's first and last day numbers; ``windows`` and ``winters`` as :func:`pixel_seasons`; ``radar`` a
    (radar time, pixel) Sentinel-1 cross ratio on ``radar_days`` (no rows: optical only).
    """
    n_pix = values.shape[1]
    out = np.empty((N_LAYERS, n_pix))
    for p in range(n_pix):
        q10, q50, q90, level, views, n_obs = daily_band(
            values[:, p], days, n_days, smoothing.smoothing, smoothing.noise_floor, smoothing.spike,
            smoothing.spike_max_gap, smoothing.bare_ndvi, smoothing.band_scale, radar[:, p], radar_days,
        )  # fmt: skip
        last_view = _last_view(values[:, p], days, year_bounds[1])
        out[:, p] = pixel_seasons(
            q10, q50, q90, level, views, n_obs, last_view, cropland[p], sowing[p], year_bounds[0],
            year_bounds[1], windows, calendar, yydoy, rules,
        )  # fmt: skip
    return out
