"""The seasons kernels added for worlds other than the default one: the long-season split, the
contract's main season, the winter rules' dates and the scene calendar, on tiny arrays with known answers."""

from __future__ import annotations

import numpy as np

from baresoil.kernels import seasons as k
from baresoil.kernels.calendar import N_CALENDAR, overwintering, scene_calendar
from baresoil.kernels.events import (
    CAL_EMERGENCE,
    CAL_GREENUP,
    CAL_HARVEST,
    CAL_LENGTH,
    CAL_SEASONS,
    DORMANCY_DAYS,
    EARLIEST_DAYS,
    HARVESTED_DAYS,
    NO_EVENT,
    SOWN_UNTIL_DAYS,
    SPRING_OPENS_DAYS,
    WINTER_DORMANCY,
    WINTER_EARLIEST,
    WINTER_EMERGENCE,
    WINTER_HARVESTED,
    WINTER_SOWN_UNTIL,
    WINTER_SPRING_OPENS,
    half_rise,
    hidden,
    split_long_seasons,
    winter_dates,
)


def _views(n: int, days: list[int], value: float = 0.5) -> np.ndarray:
    views = np.full(n, np.nan)
    views[days] = value
    return views


def _ints(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


def test_a_season_longer_than_a_year_is_two_crops_split_at_its_longest_gap():
    # one "season" from day 10 to day 500: a crop, a cloudy winter from day 200 to day 290, another crop
    n = 520
    z = np.zeros(n)
    z[50:150], z[350:450] = 0.8, 0.7
    views = _views(n, [*range(0, 201, 10), *range(290, n, 10)])
    e, p, h, s, placed = split_long_seasons(z, views, _ints(10), _ints(380), _ints(500), _ints(10), 366)
    assert list(e) == [10, 290 - 30] and list(h) == [200 + 30, 500]  # a third of the gap either side
    assert p[0] == 50 and p[1] == 380  # the first crop's peak: its highest day before the gap
    assert s[0] == 10 and s[1] == NO_EVENT  # the second crop's emergence lies in the gap, unseen
    assert list(placed) == [True, False]  # the first harvest was placed in the gap


def test_seasons_of_a_year_or_less_are_kept_as_they_are():
    z, views = np.zeros(400), _views(400, list(range(0, 400, 5)))
    e, _, h, _, placed = split_long_seasons(
        z, views, _ints(10, NO_EVENT), _ints(100, 300), _ints(200, NO_EVENT), _ints(10, NO_EVENT), 366
    )
    assert list(e) == [10, NO_EVENT] and list(h) == [200, NO_EVENT] and not placed.any()


def test_the_main_season_is_the_crop_harvested_in_the_year_not_the_catch_crop_after_it():
    n = 800
    first, last = 100, 464  # the reference year
    q50 = np.full(n, 0.2)
    q50[250:300] = (
        0.85  # a winter wheat, up since the autumn (green above 0.5 from day 250), harvested on day 300
    )
    q50[330:440] = 0.9  # a catch crop sown after it, with more green, harvested in the year too
    q50[600:700] = 0.7  # next year's crop
    emergence, peaks, harvest = _ints(20, 330, 600), _ints(200, 400, 650), _ints(300, 440, 700)
    valid = np.ones(3, np.bool_)
    main, any_season = k._select_harvested(q50, emergence, peaks, harvest, valid, first, last, 0.5, 310)
    assert (main, any_season) == (0, True)  # up by the winter harvest (day 310): the main crop
    main, _ = k._select_harvested(q50, emergence, peaks, harvest, valid, first, last, 0.5, 0)
    assert main == 1  # with neither up by then, the one with the most green


def test_a_cover_crop_before_a_spring_crop_is_not_the_main_season():
    n = 600
    q50 = np.full(n, 0.2)
    q50[0:150] = 0.55  # a cover crop over the winter, destroyed on day 150 (in the year)
    q50[200:330] = 0.9  # the maize
    emergence, peaks, harvest = _ints(0, 200), _ints(120, 260), _ints(150, 330)
    main, _ = k._select_harvested(q50, emergence, peaks, harvest, np.ones(2, np.bool_), 110, 474, 0.5, 400)
    assert main == 1  # both up by the winter harvest: the one with the most green above the crop level


def test_no_season_harvested_in_the_year_leaves_no_main_season():
    q50 = np.full(300, 0.8)
    one = np.ones(1, np.bool_)
    main, any_season = k._select_harvested(q50, _ints(0), _ints(20), _ints(50), one, 100, 200, 0.5, 100)
    assert (main, any_season) == (-1, True)


def test_the_winter_rules_dates_follow_the_calendar():
    calendar = np.zeros((2, N_CALENDAR))
    calendar[:, CAL_EMERGENCE], calendar[:, CAL_GREENUP], calendar[:, CAL_HARVEST] = (
        (100, 465),
        (250, 615),
        (390, 755),
    )
    calendar[:, CAL_LENGTH] = 275
    winters = winter_dates(calendar)
    assert list(winters[0]) == [
        100 + DORMANCY_DAYS, 250 + SPRING_OPENS_DAYS, 100, 100 - EARLIEST_DAYS, 390 - 365 + HARVESTED_DAYS,
        250 + SOWN_UNTIL_DAYS,
    ]  # fmt: skip
    assert winters[1, WINTER_EMERGENCE] == 465 and winters[1, WINTER_DORMANCY] == 465 + DORMANCY_DAYS
    assert winters[0, WINTER_SPRING_OPENS] < winters[0, WINTER_SOWN_UNTIL]
    assert winters[0, WINTER_EARLIEST] < winters[0, WINTER_EMERGENCE] and winters[0, WINTER_HARVESTED] > 0


def test_half_rise_and_hidden_days():
    z = np.array([0.2, 0.2, 0.3, 0.5, 0.7, 0.8])
    assert half_rise(z, 0, 5) == 3  # half way from 0.2 to 0.8
    assert half_rise(z, NO_EVENT, 5) == NO_EVENT and half_rise(z, 4, 2) == NO_EVENT
    views = _views(100, [0, 10, 60, 99])
    assert not hidden(views, 5) and hidden(views, 30) and hidden(views, 30, 60) is False
    assert hidden(_views(10, [5]), 8)  # after the last view: the smoother's, not the field's


def test_a_winter_crop_resting_over_the_winter_is_overwintering():
    n = 400
    t = np.arange(n, dtype=float)
    z = np.full(n, 0.15)
    z[30:60] = 0.15 + 0.2 * (t[30:60] - 30) / 30  # autumn emergence
    z[60:200] = 0.35  # winter rest
    z[200:260] = 0.35 + 0.5 * (t[200:260] - 200) / 60  # spring rise
    z[260:] = 0.85
    views = _views(n, list(range(0, n, 10)))
    e, greenup, middle = overwintering(z, 30, 300, 0.2, 0.6, 30, views)
    assert e == 30 and 199 <= greenup <= 215 and 225 <= middle <= 235
    spring = np.full(n, 0.15)
    spring[200:260] = 0.15 + 0.7 * (t[200:260] - 200) / 60
    spring[260:] = 0.85
    assert overwintering(spring, 195, 300, 0.2, 0.6, 195, views) == (NO_EVENT, NO_EVENT, NO_EVENT)


def test_the_scene_calendar_moves_with_its_winter_harvest_once_enough_seasons_show_it():
    fallback = np.zeros((2, N_CALENDAR))
    fallback[:, CAL_EMERGENCE], fallback[:, CAL_GREENUP], fallback[:, CAL_HARVEST] = (
        (100, 465),
        (250, 615),
        (390, 755),
    )
    rows = np.array(
        [[90, 240, 260, 380], [95, 245, 262, 384], [100, 250, 270, 382], [460, 610, 640, 750]], np.int64
    )
    weights = np.array([1.0, 1.0, 1.0, 5.0])
    few = scene_calendar(rows, weights, 400, fallback, 10.0)
    assert np.array_equal(few[:, :CAL_SEASONS], fallback[:, :CAL_SEASONS]) and few[0, CAL_SEASONS] == 0
    read = scene_calendar(rows, weights, 400, fallback, 3.0)  # three first-winter seasons, harvested ~382
    assert (
        read[0, CAL_HARVEST] == 382 and read[0, CAL_EMERGENCE] == 100 - 8 and read[1, CAL_GREENUP] == 615 - 8
    )
    assert read[0, CAL_SEASONS] == 3.0  # the second winter's row does not count
