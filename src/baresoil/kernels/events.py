"""Crop events on a daily smoothed vegetation series: seasons, emergence, harvest and their confidence.

All functions work on one pixel's (or field's) daily series indexed by day
number from the first observation of the analysis window.  A day number may lie
before the series (a negative number: the calendar's dates when the series starts
after them), so "no event" is ``NO_EVENT``, a number that is never a day.

* A **season** is a prominent peak of the smoothed NDVI (q50): it rises from a
  trough and falls to a trough by at least ``min_prominence``.
* **Emergence** is where the rise leaves the bare level.  The rise is *seen*
  where q50 first crosses ``emergence_fraction`` of the season's amplitude
  after its last return to the bare level (within half that fraction of the
  trough, or a dip within that fraction: weeds dying back before a seedbed)
  before the steepest rise; the emergence is dated earlier by
  extrapolating the rise back along its slope to the bare level, since a young
  crop shows late.  Anchoring on the steepest rise keeps autumn volunteers and
  cover crops from being taken for the crop's emergence; the trough before a
  winter crop lies before its autumn growth, so the autumn rise, not the spring
  green-up, is its emergence (when the autumn growth is visible at all).
* **Harvest** is where the fall ends: the first day after the steepest fall on
  which q50 comes within ``harvest_fraction`` of the amplitude of the level the
  field falls to in the next weeks.  Senescence lowers NDVI slowly to the level
  of standing straw; the harvest step takes it to the level of soil and
  residue, so the end of the fall, not its middle, dates the harvest; it is then kept
  between the two views that bracket it (:func:`harvests_between_views`).
* The **confidence** of an event is the HRL ATBD's: the horizontal width in days
  of the q10-q90 band at the event, ``|(q50-q10)/slope| + |(q50-q90)/slope|``,
  and where the slope is flat, the days between the band's edges reaching the
  event's level.
"""

from __future__ import annotations

import numba
import numpy as np

NO_EVENT = -(2**31)
"""The "no event" marker: far below any day number, also below those of the calendar's dates before the
series starts (which are negative), and far enough from the int64 limit for a difference of days."""

SOWN_UNKNOWN, SOWN_IN_AUTUMN, SOWN_IN_SPRING = 0, 1, 2
"""When the reference year's main crop is declared sown (from a parcel layer's crop column)."""
_FLAT_SLOPE = 1e-4
"""NDVI change per day below which the slope is 'about 0' and the ATBD's fallback applies."""
_POST_HARVEST_DAYS = 45
"""The level a field falls to is the lowest q50 within this many days of the steepest fall."""
HIDDEN_END_DAYS = 30
"""A harvest or termination whose views lie this far apart or more is hidden in the gap between them:
where it is placed there is a rule, not a reading (:func:`harvests_between_views`, and
``kernels.seasons._bare_before``)."""
_PLATEAU = 0.25
"""A crop within this share of its fall from the peak still stands on its plateau, not yet ripening."""


@numba.njit(cache=True)
def prominent_peaks(z: np.ndarray, min_prominence: float) -> np.ndarray:
    """Indices of local maxima of ``z`` that stand ``min_prominence`` above the deeper of their two bases."""
    n = z.shape[0]
    found = []
    i = 1
    while i < n - 1:
        if z[i] > z[i - 1]:
            j = i
            while j + 1 < n and z[j + 1] == z[i]:  # a plateau counts once
                j += 1
            if j + 1 < n and z[j + 1] < z[i]:
                left = z[i]
                k = i - 1
                while k >= 0 and z[k] <= z[i]:
                    left = min(left, z[k])
                    k -= 1
                if k < 0:  # the crop already stood when the series began: its rise is not seen
                    left = -np.inf
                right = z[i]
                k = j + 1
                while k < n and z[k] <= z[i]:
                    right = min(right, z[k])
                    k += 1
                if z[i] - max(left, right) >= min_prominence:
                    found.append(i)
            i = j + 1
        else:
            i += 1
    out = np.empty(len(found), np.int64)
    for m in range(len(found)):
        out[m] = found[m]
    return out


@numba.njit(cache=True)
def _argmin(z: np.ndarray, lo: int, hi: int) -> int:
    """Index of the minimum of z[lo:hi+1]."""
    best = lo
    for i in range(lo, hi + 1):
        if z[i] < z[best]:
            best = i
    return best


@numba.njit(cache=True)
def emergence_day(z: np.ndarray, trough: int, peak: int, fraction: float) -> tuple[int, int]:
    """The day the rise from ``trough`` to ``peak`` leaves the bare level (see the module notes),
    and the day it is seen (where it crosses ``fraction`` of the amplitude): ``NO_EVENT`` twice if none."""
    if peak - trough < 2:
        return NO_EVENT, NO_EVENT
    steepest = trough
    for i in range(trough, peak):
        if z[i + 1] - z[i] > z[steepest + 1] - z[steepest]:
            steepest = i
    amplitude = z[peak] - z[trough]
    bare = z[trough] + 0.5 * fraction * amplitude
    level = z[trough] + fraction * amplitude
    last_bare = trough
    for i in range(steepest, trough - 1, -1):
        if z[i] <= bare or (z[i] <= level and z[i - 1] > z[i] <= z[i + 1]):
            last_bare = i
            break
    if last_bare == 0:
        return NO_EVENT, NO_EVENT  # rising from the first day: the rise may have begun before the window
    for i in range(last_bare, peak + 1):  # the steepest day may itself lie below the level
        if z[i] >= level:
            # the rise is seen late: extrapolate it back along its slope to the bare level
            slope = 0.5 * (z[min(i + 1, peak)] - z[max(i - 1, 0)])
            back = int((z[i] - z[trough]) / slope) if slope > 0 else 0
            return max(last_bare, i - back), i
    return NO_EVENT, NO_EVENT


@numba.njit(cache=True)
def harvest_day(z: np.ndarray, peak: int, trough: int, fraction: float) -> int:
    """The day the fall from ``peak`` ends near the post-harvest level (see the module notes)."""
    n = z.shape[0]
    if trough - peak < 2:
        return NO_EVENT
    steepest = peak
    for i in range(peak, trough):
        if z[i + 1] - z[i] < z[steepest + 1] - z[steepest]:
            steepest = i
    low = z[_argmin(z, steepest, min(steepest + _POST_HARVEST_DAYS, n - 1))]
    level = low + fraction * (z[peak] - low)
    for i in range(steepest, n):
        if z[i] <= level:
            if trough == n - 1 and i >= n - 5:
                return NO_EVENT  # the fall runs into the end of the window
            return i
    return NO_EVENT


@numba.njit(cache=True)
def unbroken_peaks(z: np.ndarray, peaks: np.ndarray, bare_level: float) -> np.ndarray:
    """``peaks`` with each pair whose valley stays above ``bare_level`` kept as its higher peak.

    A crop does not end without going back to bare soil or stubble: a dip that stays
    above that level (a winter crop's dormancy, or the smoother running on across a
    cloudy winter) lies inside one season.
    """
    kept = np.empty(peaks.shape[0], np.int64)
    n = 0
    for k in range(peaks.shape[0]):
        if n > 0 and z[_argmin(z, kept[n - 1], peaks[k])] > bare_level:
            if z[peaks[k]] > z[kept[n - 1]]:
                kept[n - 1] = peaks[k]
            continue
        kept[n] = peaks[k]
        n += 1
    return kept[:n]


@numba.njit(cache=True)
def season_events(
    z: np.ndarray,
    min_prominence: float,
    emergence_fraction: float,
    harvest_fraction: float,
    min_rise: float,
    bare_level: float = np.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(emergence, peak, harvest, seen) day of every season of ``z``; ``NO_EVENT`` where an event is not
    found.

    ``seen`` is the day each emergence becomes visible (its rise crosses
    ``emergence_fraction`` of the amplitude): the emergence is extrapolated back
    from there, so its confidence is read there.

    Peaks whose valley stays above ``bare_level`` are one season (:func:`unbroken_peaks`).

    A rise of at least ``min_rise`` still under way at the end of the window (an
    autumn-sown crop or a cover crop whose peak is not observed yet) is a last
    entry with an emergence and no peak or harvest: it bounds the bare period
    after the main crop.
    """
    peaks = unbroken_peaks(z, prominent_peaks(z, min_prominence), bare_level)
    n, m = z.shape[0], peaks.shape[0]
    emergence = np.full(m + 1, NO_EVENT, np.int64)
    harvest = np.full(m + 1, NO_EVENT, np.int64)
    peak_days = np.full(m + 1, NO_EVENT, np.int64)
    seen = np.full(m + 1, NO_EVENT, np.int64)
    for k in range(m):
        lo = peaks[k - 1] if k > 0 else 0
        hi = peaks[k + 1] if k + 1 < m else n - 1
        before = _argmin(z, lo, peaks[k])
        after = _argmin(z, peaks[k], hi)
        emergence[k], seen[k] = emergence_day(z, before, peaks[k], emergence_fraction)
        harvest[k] = harvest_day(z, peaks[k], after, harvest_fraction)
        peak_days[k] = peaks[k]
    last_low = _argmin(z, peaks[m - 1] if m else 0, n - 1)
    for i in range(n - 1, last_low, -1):  # the last return to the low level: volunteers ploughed in
        if z[i] <= z[last_low] + 0.25 * min_rise:
            last_low = i
            break
    if last_low < n - 1:
        top = last_low + int(np.argmax(z[last_low:]))
        if z[top] - z[last_low] >= min_rise:
            emergence[m], seen[m] = emergence_day(z, last_low, top, emergence_fraction)
    return emergence, peak_days, harvest, seen


CAL_EMERGENCE, CAL_GREENUP, CAL_HARVEST, CAL_LENGTH, CAL_SEASONS = range(5)
"""Columns of a calendar row (one per winter of the analysis window; see ``kernels.calendar``): the
typical emergence, green-up and harvest of the scene's winter crops as day numbers, the typical days
from emergence to harvest, and how many overwintering seasons they were read on."""

(
    WINTER_DORMANCY,
    WINTER_SPRING_OPENS,
    WINTER_EMERGENCE,
    WINTER_EARLIEST,
    WINTER_HARVESTED,
    WINTER_SOWN_UNTIL,
) = range(6)
"""Columns of a ``winters`` row (:func:`winter_dates`)."""


@numba.njit(cache=True)
def split_long_seasons(
    z: np.ndarray,
    views: np.ndarray,
    emergence: np.ndarray,
    peaks: np.ndarray,
    harvest: np.ndarray,
    seen: np.ndarray,
    max_days: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seasons longer than ``max_days`` split in two at their longest gap between views; also whether
    each harvest lies hidden in such a gap.

    An annual crop lives less than a year: a "season" from one crop's emergence to the next one's
    harvest is two crops whose harvest and emergence fell in a gap the smoother bridged (a cloudy or
    snowy winter).  The first crop is harvested a third of the way into the gap and the second
    emerges two thirds of the way, unseen (``seen`` is ``NO_EVENT``; the winter rules may place it
    better); the first crop's peak is its highest ``z`` before the gap.
    """
    m = emergence.shape[0]
    long_ones = 0
    for k in range(m):
        if emergence[k] != NO_EVENT and harvest[k] != NO_EVENT and harvest[k] - emergence[k] > max_days:
            long_ones += 1
    hidden_harvest = np.zeros(m + long_ones, np.bool_)
    if long_ones == 0:
        return emergence, peaks, harvest, seen, hidden_harvest
    e2 = np.full(m + long_ones, NO_EVENT, np.int64)
    p2, h2, s2 = e2.copy(), e2.copy(), e2.copy()
    j = 0
    for k in range(m):
        e, p, h = emergence[k], peaks[k], harvest[k]
        if e != NO_EVENT and h != NO_EVENT and h - e > max_days:
            g0, g1 = _longest_gap_between(views, max(e, 0), h)
            if g1 - g0 >= 3 and g0 > max(e, 0) and g1 < h and not g0 < p < g1:
                third = (g1 - g0) // 3
                first_peak = p if p < g0 else max(e, 0) + int(np.argmax(z[max(e, 0) : g0 + 1]))
                second_peak = p if p > g1 else g1 + int(np.argmax(z[g1 : h + 1]))
                e2[j], p2[j], h2[j], s2[j] = e, first_peak, g0 + third, seen[k]
                hidden_harvest[j] = True
                j += 1
                e2[j], p2[j], h2[j], s2[j] = g1 - third, second_peak, h, NO_EVENT
                j += 1
                continue
        e2[j], p2[j], h2[j], s2[j] = e, p, h, seen[k]
        j += 1
    return e2[:j], p2[:j], h2[:j], s2[:j], hidden_harvest[:j]


@numba.njit(cache=True)
def _longest_gap_between(views: np.ndarray, first: int, last: int) -> tuple[int, int]:
    """The two consecutive views from ``first`` to ``last`` that lie furthest apart."""
    previous, g0, g1 = -1, first, first
    for t in range(first, min(last + 1, views.shape[0])):
        if not np.isfinite(views[t]):
            continue
        if previous >= 0 and t - previous > g1 - g0:
            g0, g1 = previous, t
        previous = t
    return g0, g1


@numba.njit(cache=True)
def half_rise(z: np.ndarray, base: int, peak: int) -> int:
    """The first day from ``base`` on where ``z`` has come half its way to the ``peak``: the middle of a
    rise, which views show better than its start (a cloudy winter hides where a rise begins)."""
    if base == NO_EVENT or peak == NO_EVENT or peak <= base or base < 0:
        return NO_EVENT
    level = 0.5 * (z[base] + z[peak])
    for t in range(base, peak + 1):
        if z[t] >= level:
            return t
    return NO_EVENT


@numba.njit(cache=True)
def hidden(views: np.ndarray, day: int, gap: int = HIDDEN_END_DAYS) -> bool:
    """Whether ``day`` lies in a gap of ``HIDDEN_END_DAYS`` or more between views (or beyond the first
    or the last): the curve there is the smoother's, not the field's."""
    before, after = _views_around(views, day)
    return before == NO_EVENT or after == NO_EVENT or after - before >= gap


DORMANCY_DAYS = 47
"""Days after the typical winter-crop emergence from which a winter crop rests (zone 1: 15 October to
1 December): a rise leaving the bare level from then until the spring opening is a green-up."""
SPRING_OPENS_DAYS = 17
"""Days after the winter crops' green-up at which the spring crops' emergence opens (zone 1: 15 March
to 1 April)."""
EARLIEST_DAYS = 30
"""Days before the typical winter-crop emergence before which winter cereals do not emerge (15 September)."""
HARVESTED_DAYS = 52
"""Days after the winter crops' typical harvest by which they are all in (zone 1: 25 July to 15 September)."""
SOWN_UNTIL_DAYS = 46
"""Days after the green-up until which a crop declared sown in the autumn may first show (30 April)."""


@numba.njit(cache=True)
def winter_dates(calendar: np.ndarray) -> np.ndarray:
    """The dates the winter rules read, per winter (``WINTER_*`` columns), from a ``calendar``: the start of
    the rest, the opening of the spring crops' emergence, the typical and the earliest winter-crop
    emergence, the close of the harvest of the winter crops before that winter and the last day a crop
    declared sown in the autumn may first show, as day numbers."""
    out = np.empty((calendar.shape[0], 6), np.int64)
    for w in range(calendar.shape[0]):
        emergence, greenup = int(calendar[w, CAL_EMERGENCE]), int(calendar[w, CAL_GREENUP])
        out[w, WINTER_DORMANCY] = emergence + DORMANCY_DAYS
        out[w, WINTER_SPRING_OPENS] = greenup + SPRING_OPENS_DAYS
        out[w, WINTER_EMERGENCE] = emergence
        out[w, WINTER_EARLIEST] = emergence - EARLIEST_DAYS
        out[w, WINTER_HARVESTED] = int(calendar[w, CAL_HARVEST]) - 365 + HARVESTED_DAYS
        out[w, WINTER_SOWN_UNTIL] = greenup + SOWN_UNTIL_DAYS
    return out


WINTER_PEAK_DAYS = 75
"""Days after the spring-crop emergence window opens by which a winter crop has reached its peak
(zone 1: mid-June; winter wheat peaks from late May to early June)."""


LATE_RISE_DAYS, LATE_RISE = 30, 0.1
"""A crop whose NDVI still rises by this much over the last days of the data is still growing."""


@numba.njit(cache=True)
def sown_before_winter(
    z: np.ndarray,
    emergence: np.ndarray,
    peaks: np.ndarray,
    harvest: np.ndarray,
    seen: np.ndarray,
    winters: np.ndarray,
    after_harvest: int,
    crop_level: float,
    harvest_fraction: float,
    sowing: int,
    season_days: int,
    views: np.ndarray,
    bare_level: float,
) -> None:
    """Re-date, in place, the emergences that fall in a winter's dormancy: a winter crop's green-up.

    A crop sown late in the autumn covers a few per cent of the soil before winter,
    which NDVI does not tell from bare soil: its rise is first seen at the spring
    green-up.  No spring crop emerges before the spring-crop window opens, so a rise
    leaving the bare level between ``winters[w, 0]`` (start of dormancy) and
    ``winters[w, 1]`` (opening of the spring emergence window) belongs to a crop already
    in the ground.  So does a rise that began as weeds and volunteers on the stubble
    (see :func:`_stubble_growth`, with ``winters[w, 3]`` the earliest emergence of a winter
    cereal).  The emergence is placed ``season_days`` before the crop's harvest, kept between
    the typical autumn emergence ``winters[w, 2]`` and the dormancy
    (:func:`_unseen_autumn_emergence`), or ``after_harvest`` days after the previous harvest
    (:func:`_previous_harvest`) when that was later (seedbed, sowing and germination take
    that long).  It is not seen, so ``seen`` becomes ``NO_EVENT`` and the event carries no confidence.
    A series that starts after the autumn puts the placed emergence before its first day (a
    negative day number): the caller must not read the series there.

    Neither applies to a rise with no peak yet that still climbs at the end of data running past
    the time winter crops peak (:func:`_rising_after_winter_peaks`), nor to one that two weeks
    into the spring window has come less than a fifth of its way (:func:`_late_spring_rise`):
    those are spring crops, whose rise a dip of wet soil in the winter, or the smoother's
    extrapolation back along it, only made look early.

    ``sowing`` is when the reference year's main crop is declared sown (``SOWN_*``), which
    concerns the first winter's rises only.  Declared sown in spring, a rise seen only once the
    spring window has opened is that crop's own, even when it is extrapolated back to before
    the opening (a barley sown in March); one seen earlier is kept from the declaration, which
    may be wrong: no spring crop is that far along by then.  Declared sown in the autumn, a rise
    leaving the bare level until the winter-crop emergence window closes (``winters[w, 5]``,
    zone 1: 30 April) is a green-up: a wheat sown in late November may show only in April; a
    rise after that close is kept from the declaration, as a spring crop's.
    """
    for k in range(emergence.shape[0]):
        day = emergence[k]
        if day == NO_EVENT:
            continue
        for w in range(winters.shape[0]):
            if peaks[k] == NO_EVENT and _rising_after_winter_peaks(z, day, winters[w]):
                continue
            declared = sowing if w == 0 else SOWN_UNKNOWN
            green_up_ends = winters[w, 5] if declared == SOWN_IN_AUTUMN else winters[w, 1]
            green_up = winters[w, 0] <= day < green_up_ends
            if green_up and declared == SOWN_IN_SPRING and seen[k] >= winters[w, 1]:
                break  # the declared spring crop's own rise
            if green_up and declared == SOWN_UNKNOWN and _late_spring_rise(z, peaks[k], winters[w]):
                break  # a spring crop's own rise
            if green_up and _autumn_growth(z, k - 1, emergence, peaks, harvest, winters[w], crop_level):
                emergence[k], seen[k] = emergence[k - 1], seen[k - 1]  # the crop's own autumn rise
                break
            if not (green_up or _stubble_growth(z, day, peaks[k], winters[w], crop_level)):
                continue
            previous = _previous_harvest(
                z, views, k, day, peaks, harvest, crop_level, harvest_fraction, bare_level, after_harvest
            )
            autumn = _unseen_autumn_emergence(harvest[k], season_days, winters[w])
            if previous != NO_EVENT:
                autumn = max(autumn, previous + after_harvest)
            if autumn < day or not green_up:
                emergence[k], seen[k] = autumn, NO_EVENT
            break


SPRING_RISE_DAYS, SPRING_RISE_SHARE = 14, 0.2
"""This many days after the spring-crop emergence window opens, a winter crop's green-up has come more
than this share of its rise from the bare level to its peak; a crop sown in the spring has not."""


@numba.njit(cache=True)
def _late_spring_rise(z: np.ndarray, peak: int, winter: np.ndarray) -> bool:
    """Whether the rise to ``peak`` has come less than ``SPRING_RISE_SHARE`` of the way from the lowest
    ``z`` since the dormancy (``winter[0]``) ``SPRING_RISE_DAYS`` after the spring window opens
    (``winter[1]``): a spring crop sown early, whose rise the smoother's extrapolation starts
    before the opening, not a winter crop's green-up (which starts in March).  A series that starts
    after the dormancy is read from its first day."""
    when = winter[1] + SPRING_RISE_DAYS
    if peak == NO_EVENT or peak <= when or not 0 <= when < z.shape[0]:
        return False
    bare = z[_argmin(z, max(winter[0], 0), when)]
    return z[when] - bare < SPRING_RISE_SHARE * (z[peak] - bare)


@numba.njit(cache=True)
def _unseen_autumn_emergence(harvest: int, season_days: int, winter: np.ndarray) -> int:
    """Where a winter crop harvested on day ``harvest`` most likely emerged, when nothing showed it.

    Winter crops take about ``season_days`` from emergence to harvest: a wheat harvested in August
    emerged in late October, not at the typical winter-crop emergence ``winter[2]`` (mid-October,
    as winter barley), which is the earliest placement: a season length read off a harvest in early
    July would add that harvest's spread to an emergence the typical date already places well.
    The latest placement is the dormancy (``winter[0]``).  Without a harvest, with one before winter
    crops have peaked (``WINTER_PEAK_DAYS`` after the spring window opens ``winter[1]``: the fall
    at the end of the data, or a crop cut green) or with ``season_days`` 0, it is ``winter[2]``.
    """
    if harvest == NO_EVENT or harvest < winter[1] + WINTER_PEAK_DAYS or season_days <= 0:
        return winter[2]
    return min(max(harvest - season_days, winter[2]), winter[0])


@numba.njit(cache=True)
def _rising_after_winter_peaks(z: np.ndarray, day: int, winter: np.ndarray) -> bool:
    """Whether a rise from ``day`` still climbs at the end of the data, which runs past the time
    winter crops peak (``WINTER_PEAK_DAYS`` after the spring window opens ``winter[1]``): a spring
    crop.  A winter crop has reached its plateau by then (its peak is not prominent yet, with
    no harvest after it)."""
    end = z.shape[0] - 1
    if end < winter[1] + WINTER_PEAK_DAYS or day >= end - LATE_RISE_DAYS:
        return False
    return z[end] - z[end - LATE_RISE_DAYS] >= LATE_RISE


@numba.njit(cache=True)
def _autumn_growth(
    z: np.ndarray,
    k: int,
    emergence: np.ndarray,
    peaks: np.ndarray,
    harvest: np.ndarray,
    winter: np.ndarray,
    crop_level: float,
) -> bool:
    """Whether season ``k`` is a winter crop's own growth before its dormancy, not a crop of its own.

    It emerges in the autumn (from ``winter[3]``, the earliest emergence of a winter cereal,
    to the dormancy ``winter[0]``), and it stays below ``crop_level`` or ends inside the
    dormancy, when no crop is harvested: the frost takes the young crop back towards the
    bare level (and the smoother, across a cloudy winter, may overshoot the few views).
    """
    if k < 0:
        return False
    day, peak, end = emergence[k], peaks[k], harvest[k]
    if day == NO_EVENT or peak == NO_EVENT or not winter[3] <= day < winter[0]:
        return False
    return z[peak] < crop_level or (end != NO_EVENT and winter[0] <= end < winter[1])


@numba.njit(cache=True)
def _stubble_growth(z: np.ndarray, day: int, peak: int, winter: np.ndarray, crop_level: float) -> bool:
    """Whether a winter crop's rise from ``day`` begins as weeds and volunteers on the stubble.

    The rise starts in the summer or early autumn before the winter (before
    ``winter[3]``, earlier than winter cereals emerge), the peak comes after the
    dormancy (or is not seen: the rise runs into the end of the data), and the autumn
    growth never reaches ``crop_level``: a rapeseed or a cover crop sown that early
    does.  The young cereal took over the volunteers' green after a seedbed the clouds hid.
    """
    dormancy = winter[0]
    if not (dormancy - 183 <= day < winter[3] and (peak > dormancy or peak == NO_EVENT)):
        return False
    for t in range(day, min(dormancy, z.shape[0])):  # noqa: SIM110 - numba compiles no generator in all()
        if z[t] >= crop_level:
            return False
    return True


SHOWING_DAYS = 21
"""Days a young crop takes from its emergence to green a view above the bare level."""


@numba.njit(cache=True)
def _previous_harvest(
    z: np.ndarray,
    views: np.ndarray,
    k: int,
    day: int,
    peaks: np.ndarray,
    harvest: np.ndarray,
    crop_level: float,
    harvest_fraction: float,
    bare_level: float,
    after_harvest: int,
) -> int:
    """The harvest of the crop before season ``k`` (whose rise leaves the bare level on ``day``);
    ``NO_EVENT`` if none.

    That is season ``k - 1``'s harvest or, where the previous crop has no season of its own (its rise
    lies before the window), the end of the fall from the highest ``z`` before ``day`` when that
    reached ``crop_level``.  Where the next crop shows after a gap that hides that fall
    (:func:`_next_crop_after_gap`), the harvest is taken at the last view of the crop standing: the
    smoother's crossing comes near the end of such a gap, and a crop sown after it would be placed
    after the view that shows it.
    """
    if k > 0:
        top, end = peaks[k - 1], harvest[k - 1]
    else:
        if day < 2:
            return NO_EVENT
        top = int(np.argmax(z[: day + 1]))
        if z[top] < crop_level:
            return NO_EVENT
        end = harvest_day(z, top, _argmin(z, top, day), harvest_fraction)
    if end == NO_EVENT or top == NO_EVENT:
        return end
    standing, after = views_around_fall(views, top, crop_level)
    if _next_crop_after_gap(views, standing, after, day, bare_level, after_harvest):
        return min(end, standing)
    return end


@numba.njit(cache=True)
def _next_crop_after_gap(
    views: np.ndarray, standing: int, after: int, day: int, bare_level: float, after_harvest: int
) -> bool:
    """Whether the views show the next crop up after a gap that hid the previous crop's harvest.

    The gap runs from ``standing``, the last view of the previous crop standing, to ``after``, the
    first view below it, ``HIDDEN_END_DAYS`` or more later; the field is green (above
    ``bare_level``) on that view and on every view after it until ``day``, when the next crop's
    rise leaves the bare level.  A view sooner than a crop sown after the harvest could show
    (``after_harvest`` then ``SHOWING_DAYS``) is the previous crop ripening: a maize drying at 0.35.
    """
    if after == NO_EVENT or after - standing < HIDDEN_END_DAYS or after >= day:
        return False
    if after < standing + after_harvest + SHOWING_DAYS:
        return False
    for t in range(after, day + 1):  # noqa: SIM110 - numba compiles no generator in all()
        if views[t] <= bare_level:
            return False
    return True


@numba.njit(cache=True)
def event_confidence(
    q10: np.ndarray, q50: np.ndarray, q90: np.ndarray, t: int, rising: bool, crossing: bool = False
) -> float:
    """Width in days of the q10-q90 band at event day ``t`` (HRL ATBD); NaN when not computable.

    The ATBD linearises the band at the event (``|(q50-q10)/slope| + |(q50-q90)/slope|``)
    and falls back to where the band's edges cross the event's level when the slope
    is flat.  With ``crossing`` the crossings are always used: the exact horizontal
    width of the band, which also sees a band that stays wide before a steep rise.
    """
    n = q50.shape[0]
    if t <= 0 or t >= n - 1:
        return np.nan
    slope = 0.5 * (q50[t + 1] - q50[t - 1])
    if abs(slope) >= _FLAT_SLOPE and not crossing:
        return abs((q50[t] - q10[t]) / slope) + abs((q50[t] - q90[t]) / slope)
    # flat slope: days until the lower band reaches the event's level on the far side, plus days
    # since the upper band did on the near side (mirrored for a harvest)
    level = q50[t]
    late = _days_until(q10 if rising else q90, t, level, 1, rising)
    early = _days_until(q90 if rising else q10, t, level, -1, not rising)
    if late < 0 or early < 0:
        return np.nan
    return float(late + early)


@numba.njit(cache=True)
def _days_until(series: np.ndarray, t: int, level: float, step: int, upward: bool) -> int:
    """Days from ``t`` (forward for step 1, backward for -1) until ``series`` is at or beyond ``level``."""
    i = t
    while 0 <= i < series.shape[0]:
        if (series[i] >= level) if upward else (series[i] <= level):
            return abs(i - t)
        i += step
    return -1


@numba.njit(cache=True)
def harvests_between_views(
    z: np.ndarray,
    views: np.ndarray,
    peaks: np.ndarray,
    harvest: np.ndarray,
    winters: np.ndarray,
    placed: np.ndarray,
    year_last: int,
) -> np.ndarray:
    """Move, in place, each harvest read on ``z`` between the two views that bracket it; return the
    brackets, (last view of the crop standing, first view of it gone) per season, ``NO_EVENT`` where none.

    ``views`` holds the observations on the daily grid (NaN on days without one).  The
    harvest is read where ``z`` comes down to a level (:func:`harvest_day`); the crop
    still stood on the last view above that level and was gone on the first view at or
    below it.  The smoother rounds a harvest step off over several days, so its
    crossing can come after the first view that already shows the field harvested (or,
    after a long gap, before the last that shows it standing): the date is kept
    inside the views' bracket.  The bracket closes at the first view after the curve bottoms out
    (the lowest ``z`` within ``_POST_HARVEST_DAYS`` of the crossing): weeds regrowing on the stubble
    to just above the level do not keep the crop standing until the spring tillage.

    A harvest the long-season split placed in a gap (``placed``, see :func:`split_long_seasons`)
    keeps its date, with that gap's views as its bracket.  A crop still on its plateau (within
    ``_PLATEAU`` of its fall from the peak) on its last view in the autumn, after the winter-crop
    harvest window has closed (``winters[w, WINTER_HARVESTED]``, until the spring window opens), is
    harvested green: sugar beet, maize for silage, a cover crop.  Its harvest is a step from green
    to bare, and when its views lie ``HIDDEN_END_DAYS`` or more apart nothing tells where in the
    gap it fell: it is placed midway, where such a step is best placed, not where the smoother's
    crossing comes, near the end of the gap (and no later than 31 December of its year, from
    ``year_last``, the reference year's).  A cereal green on its last view in the summer, or a maize
    already ripening in the autumn, dries for weeks before its harvest, which then falls late in
    the gap, as the crossing has it.
    """
    brackets = np.full((harvest.shape[0], 2), NO_EVENT, np.int64)
    for k in range(harvest.shape[0]):
        h, peak = harvest[k], peaks[k]
        if h == NO_EVENT or peak == NO_EVENT:
            continue
        if placed[k]:  # placed in the gap that hides it: that gap is its bracket
            brackets[k, 0], brackets[k, 1] = _views_around(views, h)
            continue
        bottom = _argmin(z, h, min(h + _POST_HARVEST_DAYS, z.shape[0] - 1))  # where the fall ends
        standing, gone = views_around_fall(views, peak, z[h], bottom)
        if gone == NO_EVENT:
            continue
        harvest[k] = min(max(h, standing + 1), gone)
        green = views[standing] >= z[peak] - _PLATEAU * (z[peak] - z[h])
        hidden = gone - standing >= HIDDEN_END_DAYS
        if green and hidden and _in_autumn(standing, winters):
            harvest[k] = (standing + min(gone, _year_end(standing, year_last) + 1)) // 2
        brackets[k, 0], brackets[k, 1] = standing, gone
    return brackets


@numba.njit(cache=True)
def _year_end(day: int, year_last: int) -> int:
    """The last day of the calendar year of ``day``, from ``year_last``, the reference year's last day."""
    end = year_last
    while end - 365 >= day:
        end -= 365
    while end < day:
        end += 365
    return end


@numba.njit(cache=True)
def _views_around(views: np.ndarray, day: int) -> tuple[int, int]:
    """The last view before ``day`` and the first after it (``NO_EVENT`` where none)."""
    before, after = NO_EVENT, NO_EVENT
    for t in range(min(day, views.shape[0] - 1), -1, -1):
        if np.isfinite(views[t]):
            before = t
            break
    for t in range(max(day, 0), views.shape[0]):
        if np.isfinite(views[t]):
            after = t
            break
    return before, after


@numba.njit(cache=True)
def _in_autumn(day: int, winters: np.ndarray) -> bool:
    """Whether ``day`` lies between the close of an autumn's winter-crop harvest window and the opening
    of the next spring's emergence window: the cereals are harvested."""
    for w in range(winters.shape[0]):
        if winters[w, WINTER_HARVESTED] <= day < winters[w, WINTER_SPRING_OPENS]:
            return True
    return False


@numba.njit(cache=True)
def views_around_fall(views: np.ndarray, peak: int, level: float, until: int = -1) -> tuple[int, int]:
    """(last view above ``level``, first view at or below it) from ``peak`` on; (peak, ``NO_EVENT``) if none
    falls.  With ``until`` (a day), a view after it counts as fallen whatever its value: once the curve
    has bottomed out, a view above the level shows regrowth (weeds, volunteers, a cover crop) on the
    stubble, not the crop still standing.

    ``peak`` is returned as the last view above the level when no view after it is: check
    ``views[standing]`` before reading it as one."""
    standing = peak
    for t in range(peak, views.shape[0]):
        if np.isfinite(views[t]):
            if views[t] <= level or 0 <= until < t:
                return standing, t
            standing = t
    return standing, NO_EVENT
