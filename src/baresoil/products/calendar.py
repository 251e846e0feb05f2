"""Calendar periods of the temporal composites: dekads, months, quarters and years.

Periods are aligned to the calendar, as openEO's ``aggregate_temporal_period``
and the Copernicus Global Land service define them: a dekad is days 1-10, 11-20
or 21 to the end of a month (8 to 11 days), three a month, 36 a year.  A run's
first and last periods are clipped to its start and end, as SoilSuite clips its
years; their labels stay the calendar's.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from ..catalog.source import TimeRange
from ..config import CompositePeriod
from ..errors import ConfigError

OPENEO_PERIODS = {"10d": "dekad", "month": "month", "year": "year"}
"""The name openEO's ``aggregate_temporal_period`` gives each period it shares with the composites.
openEO has no calendar quarter (its ``season`` runs December-February, March-May …)."""


@dataclass(frozen=True)
class CalendarPeriod:
    """One compositing period: its calendar span clipped to the run, and its labels."""

    span: TimeRange
    """The days composited: the calendar period, clipped to the run's period."""
    calendar_span: TimeRange
    """The whole calendar period (dekad, month, quarter, year)."""
    label: str
    """Item-id and file-name label: ``2021-03-D2``, ``2021-03``, ``2021-Q1``, ``2021``."""

    @property
    def clipped(self) -> bool:
        return self.span != self.calendar_span


def calendar_periods(every: CompositePeriod, period: TimeRange) -> list[CalendarPeriod]:
    """The calendar periods of kind ``every`` that overlap ``period``, in order, clipped to it."""
    periods = []
    start = _period_start(every, period.start)
    while start <= period.end:
        end = _period_end(every, start)
        span = TimeRange(max(start, period.start), min(end, period.end))
        periods.append(CalendarPeriod(span, TimeRange(start, end), period_label(every, start)))
        start = end + timedelta(days=1)
    return periods


def period_of(every: CompositePeriod, day: date) -> TimeRange:
    """The calendar period of kind ``every`` that holds ``day``."""
    start = _period_start(every, day)
    return TimeRange(start, _period_end(every, start))


def period_label(every: CompositePeriod, start: date) -> str:
    """The label of the period starting on ``start``: ``2021-03-D2``, ``2021-03``, ``2021-Q1``, ``2021``."""
    if every == "10d":
        return f"{start:%Y-%m}-D{dekad_of_month(start)}"
    if every == "month":
        return f"{start:%Y-%m}"
    if every == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


def openeo_label(every: CompositePeriod, start: date) -> str:
    """The dimension label openEO's ``aggregate_temporal_period`` gives the period starting on ``start``:
    ``YYYY-MM`` for months, ``YYYY`` for years and ``YYYY-NN`` for dekads, numbered 01-36 in the year
    (the process's text says 00-36; its examples count the first dekad of January as the first)."""
    if every not in OPENEO_PERIODS:
        raise ConfigError(f"openEO's aggregate_temporal_period has no {every!r} period")
    if every == "10d":
        return f"{start.year}-{dekad_of_year(start):02d}"
    return period_label(every, start)


def dekad_of_month(day: date) -> int:
    """1 for days 1-10, 2 for days 11-20, 3 for day 21 to the end of the month."""
    return min((day.day - 1) // 10, 2) + 1


def dekad_of_year(day: date) -> int:
    """1 … 36: three dekads a month."""
    return 3 * (day.month - 1) + dekad_of_month(day)


def _period_start(every: CompositePeriod, day: date) -> date:
    if every == "10d":
        return day.replace(day=10 * (dekad_of_month(day) - 1) + 1)
    if every == "month":
        return day.replace(day=1)
    if every == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _period_end(every: CompositePeriod, start: date) -> date:
    month_end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if every == "10d":
        return month_end if start.day == 21 else start + timedelta(days=9)
    if every == "month":
        return month_end
    if every == "quarter":
        last_month = start.month + 2
        return date(start.year, last_month, calendar.monthrange(start.year, last_month)[1])
    return date(start.year, 12, 31)
