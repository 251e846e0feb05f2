"""The crop calendar of a scene, read from its own fields: when its winter crops emerge, green up and ripen.

A winter crop sown early enough shows in the autumn, rests over the winter at a level between
bare soil and a full canopy, and greens up again in the spring.  Those *overwintering* seasons
are recognised by their shape alone (a long slow stretch inside the rise, between the bare and
the crop level: :func:`overwintering`), with no date assumed, and their typical emergence,
green-up and harvest per winter of the analysis window make the scene's calendar
(:func:`scene_calendar`).  The season rules (``kernels.events``) read a rise that leaves the bare
level about when the scene's winter crops green up as the green-up of a crop sown in the autumn,
too sparse to show before the winter, and place that crop's emergence with the calendar.

A calendar row per winter ``w`` of the window (0: the winter before the reference year's summer,
1: the winter after): ``CAL_EMERGENCE``, ``CAL_GREENUP``, ``CAL_HARVEST`` as day numbers of the
daily grid and ``CAL_SEASONS``, the number of overwintering seasons it was read on (0: the
fallback dates of the configuration).
"""

from __future__ import annotations

import numba
import numpy as np

from .events import (
    CAL_EMERGENCE,
    CAL_GREENUP,
    CAL_HARVEST,
    CAL_SEASONS,
    NO_EVENT,
    emergence_day,
    half_rise,
    hidden,
)

N_CALENDAR = CAL_SEASONS + 1

WINTER_REST_DAYS = 45
"""An overwintering season rests at least this many days between its autumn rise and its spring rise."""
REST_SLOPE = 0.003
"""NDVI change per day below which the smoothed curve rests (a full canopy grows or ripens faster)."""


@numba.njit(cache=True)
def overwintering(
    z: np.ndarray, emergence: int, peak: int, bare: float, crop: float, seen: int, views: np.ndarray
) -> tuple[int, int, int]:
    """(emergence, green-up, middle of the spring rise) of a season that rests over a winter between its
    emergence and its peak, ``NO_EVENT`` where not seen; ``NO_EVENT`` thrice when the season does not
    rest so.

    The rest is the longest stretch of at least ``WINTER_REST_DAYS`` days on which ``z`` lies above
    ``bare`` and below ``crop`` and changes by less than ``REST_SLOPE`` a day.  The green-up is where
    the rise after it leaves the rest's lowest level (as an emergence leaves the bare level,
    ``events.emergence_day``), when views show it (``events.hidden``); the middle of the rise
    (``events.half_rise``) when views less than ``SEEN_GAP_DAYS`` apart show it (a cloudy or snowy
    late winter often hides where the rise begins, rarely its middle).  The emergence must have been
    seen (``seen`` is not ``NO_EVENT``) and lie before the rest.
    """
    none = (NO_EVENT, NO_EVENT, NO_EVENT)
    if emergence == NO_EVENT or peak == NO_EVENT or seen == NO_EVENT or peak - emergence < WINTER_REST_DAYS:
        return none
    best, best_end, run = 0, -1, 0
    for t in range(max(emergence, 1), peak):
        slow = abs(z[t] - z[t - 1]) < REST_SLOPE
        if slow and bare < z[t] < crop:
            run += 1
            if run > best:
                best, best_end = run, t
        else:
            run = 0
    if best < WINTER_REST_DAYS or emergence >= best_end - best + 1:
        return none
    lowest = best_end
    for t in range(best_end - best + 1, best_end + 1):
        if z[t] < z[lowest]:
            lowest = t
    middle = half_rise(z, lowest, peak)
    if middle == NO_EVENT or hidden(views, middle, SEEN_GAP_DAYS):
        return none
    greenup, _ = emergence_day(z, lowest, peak, GREENUP_SHARE)
    if greenup != NO_EVENT and hidden(views, greenup):
        greenup = NO_EVENT
    return emergence, greenup, middle


GREENUP_SHARE = 0.1
"""The green-up is where the spring rise leaves the winter level by this share of its amplitude."""


SEEN_GAP_DAYS = 60
"""A green-up counts when the views either side of its middle lie less than this many days apart."""

MIN_CALENDAR_SEASONS = 200
"""Overwintering pixel-seasons (a field weighs its pixels) needed to read a winter's calendar; with fewer,
the other winter's dates a year apart, or the configured fallback dates."""


@numba.njit(cache=True)
def scene_calendar(
    rows: np.ndarray, weights: np.ndarray, split: int, fallback: np.ndarray, min_seasons: float
) -> np.ndarray:
    """The calendar (winter, ``N_CALENDAR``): ``fallback`` moved by as many days as the scene's winter crops
    are harvested later than its harvest date.

    ``rows`` are overwintering seasons (emergence, green-up, middle of the spring rise, harvest;
    ``NO_EVENT`` where not seen), each weighted by ``weights`` (a pixel 1, a field its pixels); those
    of the first winter (spring rise before day ``split``, the middle of the window) whose harvest was
    seen give the scene's typical harvest, their weighted median.  The harvest is the date views show
    best (a summer's clear days, the sharpest change of the year), and a climate that brings the
    harvest forward brings the green-up and the sowing forward with it; the green-up and the
    emergence themselves hide in cloudy or snowy winters, and volunteers or a cover crop followed by
    a spring crop sown unseen look like a winter crop's autumn growth and rest.  With less than
    ``min_seasons`` of weight, ``fallback`` as it is (``CAL_SEASONS`` 0).
    """
    out = fallback.copy()
    mine = np.zeros(rows.shape[0], np.bool_)
    for i in range(rows.shape[0]):
        mine[i] = rows[i, 2] < split and rows[i, 3] != NO_EVENT
    total = weights[mine].sum()
    out[:, CAL_SEASONS] = total
    if total < min_seasons:
        out[:, CAL_SEASONS] = 0.0
        return out
    harvest = _weighted_median(rows[mine, 3].astype(np.float64), weights[mine])
    shift = harvest - fallback[0, CAL_HARVEST]
    for w in range(out.shape[0]):
        for c in (CAL_EMERGENCE, CAL_GREENUP, CAL_HARVEST):
            out[w, c] = fallback[w, c] + shift
    return out


@numba.njit(cache=True)
def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    if values.shape[0] == 0:
        return np.nan
    order = np.argsort(values)
    half = 0.5 * weights.sum()
    total = 0.0
    for i in order:
        total += weights[i]
        if total >= half:
            return np.round(values[i])
    return np.round(values[order[-1]])
