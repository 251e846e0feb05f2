"""What every product function returns: labelled layers for one period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import xarray as xr

from ..catalog.source import TimeRange


@dataclass(frozen=True)
class ProductPeriod:
    """The layers a product computed for one period of one tile."""

    period: TimeRange
    label: str
    """Short period label used in item ids and file names, e.g. ``2021-2022`` or ``2021``."""
    layers: xr.Dataset
    """Variables named by registry layer code; dims (y, x) or (band, y, x)."""


def whole_and_yearly_periods(period: TimeRange) -> list[tuple[TimeRange, str]]:
    """The whole period, then each calendar year in it (clipped to the period)."""
    years = period.years()
    periods = [(period, period_label(period))]
    if len(years) > 1:
        for year in years:
            start = max(period.start, date(year, 1, 1))
            end = min(period.end, date(year, 12, 31))
            periods.append((TimeRange(start, end), str(year)))
    return periods


def period_label(period: TimeRange) -> str:
    """``2021`` for a period within one year, ``2021-2022`` for several."""
    years = period.years()
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
