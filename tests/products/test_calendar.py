"""Calendar periods of the composites: dekads as openEO and the Global Land service count them."""

from datetime import date

import pytest

from baresoil.catalog.source import TimeRange
from baresoil.errors import ConfigError
from baresoil.products.calendar import calendar_periods, dekad_of_year, openeo_label, period_of


def _spans(every, start, end):
    return [(p.span.start, p.span.end, p.label) for p in calendar_periods(every, TimeRange.parse(start, end))]


def test_dekads_are_days_1_to_10_11_to_20_and_21_to_the_end_of_the_month():
    assert _spans("10d", "2021-01-01", "2021-02-28") == [
        (date(2021, 1, 1), date(2021, 1, 10), "2021-01-D1"),
        (date(2021, 1, 11), date(2021, 1, 20), "2021-01-D2"),
        (date(2021, 1, 21), date(2021, 1, 31), "2021-01-D3"),  # 11 days
        (date(2021, 2, 1), date(2021, 2, 10), "2021-02-D1"),
        (date(2021, 2, 11), date(2021, 2, 20), "2021-02-D2"),
        (date(2021, 2, 21), date(2021, 2, 28), "2021-02-D3"),  # 8 days
    ]


def test_the_last_dekad_of_a_leap_february_has_nine_days():
    assert period_of("10d", date(2020, 2, 29)) == TimeRange(date(2020, 2, 21), date(2020, 2, 29))


def test_a_year_has_36_dekads_numbered_as_openeo_labels_them():
    periods = calendar_periods("10d", TimeRange.parse("2021-01-01", "2021-12-31"))
    assert len(periods) == 36
    # openEO: "the fourth dekad spans from Feb/01 till Feb/10"
    assert dekad_of_year(date(2021, 2, 5)) == 4
    assert openeo_label("10d", date(2021, 2, 1)) == "2021-04"
    assert openeo_label("month", date(2021, 2, 1)) == "2021-02"
    assert openeo_label("year", date(2021, 1, 1)) == "2021"
    with pytest.raises(ConfigError, match="no 'quarter' period"):
        openeo_label("quarter", date(2021, 1, 1))


def test_months_quarters_and_years_follow_the_calendar_and_are_clipped_to_the_run():
    assert _spans("month", "2021-01-15", "2021-03-03") == [
        (date(2021, 1, 15), date(2021, 1, 31), "2021-01"),
        (date(2021, 2, 1), date(2021, 2, 28), "2021-02"),
        (date(2021, 3, 1), date(2021, 3, 3), "2021-03"),
    ]
    assert _spans("quarter", "2021-02-01", "2021-12-31") == [
        (date(2021, 2, 1), date(2021, 3, 31), "2021-Q1"),
        (date(2021, 4, 1), date(2021, 6, 30), "2021-Q2"),
        (date(2021, 7, 1), date(2021, 9, 30), "2021-Q3"),
        (date(2021, 10, 1), date(2021, 12, 31), "2021-Q4"),
    ]
    assert _spans("year", "2020-07-01", "2021-06-30") == [
        (date(2020, 7, 1), date(2020, 12, 31), "2020"),
        (date(2021, 1, 1), date(2021, 6, 30), "2021"),
    ]
    first = calendar_periods("month", TimeRange.parse("2021-01-15", "2021-02-28"))
    assert first[0].clipped and not first[1].clipped
    assert first[0].calendar_span == TimeRange(date(2021, 1, 1), date(2021, 1, 31))
