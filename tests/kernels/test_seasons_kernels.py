"""Crop events, season linking, windows and every HRL flag on hand-made NDVI series (reference year 2022)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from baresoil.config import SeasonsConfig
from baresoil.kernels import seasons as k
from baresoil.kernels.events import (
    NO_EVENT,
    SOWN_IN_AUTUMN,
    SOWN_IN_SPRING,
    SOWN_UNKNOWN,
    event_confidence,
    harvest_day,
    harvests_between_views,
    prominent_peaks,
    season_events,
    winter_dates,
)
from baresoil.kernels.smooth import fit_band
from baresoil.products.seasons import DailyGrid, kernel_arguments
from baresoil.registry import decode_yydoy, yydoy

YEAR = 2022
GRID = DailyGrid(date(2021, 7, 1), date(2023, 6, 30))
BARE, STRAW, RESIDUE = 0.18, 0.40, 0.22


def day(y: int, m: int, d: int) -> int:
    return GRID.day(date(y, m, d))


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def crop(
    ndvi: np.ndarray,
    emergence: int,
    peak: int,
    harvest: int,
    top: float = 0.85,
    senescence: int | None = None,
    autumn: tuple[int, float] | None = None,
) -> None:
    """Write one crop into a daily NDVI curve (bare soil elsewhere stays as it is)."""
    t = np.arange(ndvi.size, dtype=float)
    grow = slice(emergence, harvest)
    start = BARE
    if autumn is not None:  # winter crop: a small autumn rise, a winter plateau, spring green-up
        greenup, level = autumn
        ndvi[emergence:greenup] = BARE + (level - BARE) * smoothstep((t[emergence:greenup] - emergence) / 30)
        start, grow = level, slice(greenup, harvest)
        emergence = greenup
    rise = start + (top - start) * smoothstep((t[grow] - emergence) / (peak - emergence))
    ndvi[grow] = rise
    if senescence is not None:
        fall = slice(senescence, harvest)
        ndvi[fall] = top - (top - STRAW) * smoothstep((t[fall] - senescence) / (harvest - senescence))
    ndvi[harvest:] = np.minimum(ndvi[harvest:], RESIDUE)


def observe(truth: np.ndarray, every: int = 5, gaps: tuple[tuple[int, int], ...] = (), seed: int = 1):
    """Observations every ``every`` days with 0.015 noise, none inside ``gaps``: (values, days)."""
    rng = np.random.default_rng(seed)
    days = np.arange(2, truth.size, every)
    for lo, hi in gaps:
        days = days[(days < lo) | (days > hi)]
    return (truth[days] + rng.normal(0, 0.015, days.size)).astype(np.float64), days.astype(np.int64)


def analyse(
    values: np.ndarray,
    days: np.ndarray,
    cropland: int = -1,
    radar=None,
    sowing: int = SOWN_UNKNOWN,
    **params: object,
) -> dict[str, float]:
    config = SeasonsConfig(**params)  # type: ignore[arg-type]
    kwargs = kernel_arguments(config, GRID, YEAR, days)
    ratio, radar_days = radar if radar is not None else (np.zeros(0), np.zeros(0, np.int64))
    out = k.analyse_pixels(values[:, None], cropland=np.array([cropland], np.int8),
                           sowing=np.array([sowing], np.int8), radar=ratio[:, None], radar_days=radar_days,
                           **kwargs)  # fmt: skip
    return dict(zip(k.LAYERS, out[:, 0], strict=True))


def as_day(value: float) -> int:
    return GRID.day(decode_yydoy(int(value)))


def bare_curve() -> np.ndarray:
    return np.full(GRID.n_days, BARE)


# --- series of the issue ----------------------------------------------------------------------------


def winter_wheat() -> tuple[np.ndarray, dict[str, int]]:
    ndvi = bare_curve()
    e, h = day(2021, 10, 20), day(2022, 8, 1)
    crop(ndvi, e, day(2022, 6, 1), h, senescence=day(2022, 6, 25), autumn=(day(2022, 3, 1), 0.35))
    nxt = day(2022, 10, 5)  # the next winter crop's emergence bounds the bare period after
    crop(ndvi, nxt, day(2023, 5, 25), GRID.n_days - 1, autumn=(day(2023, 3, 1), 0.35))
    return ndvi, {"e": e, "h": h, "next": nxt}


def test_winter_wheat_events_yydoy_and_bare_soil_after():
    ndvi, truth = winter_wheat()
    out = analyse(*observe(ndvi))
    assert abs(as_day(out["CPMCE"]) - truth["e"]) <= 8
    assert str(int(out["CPMCE"])).startswith("21")  # a winter crop carries the previous year
    assert abs(as_day(out["CPMCH"]) - truth["h"]) <= 6
    assert out["CPBSB"] == k.BARE_OUTSIDE_YEAR  # the main season began in 2021
    assert abs(out["CPBSA"] - (truth["next"] - truth["h"])) <= 10
    assert 40 <= out["CPMCD"] <= 366
    assert out["CPCSY"] == 1 and out["CPSCE"] == k.NO_SECONDARY


def test_maize_bare_periods_run_from_january_and_to_december():
    ndvi = bare_curve()
    e, h = day(2022, 5, 15), day(2022, 10, 10)
    crop(ndvi, e, day(2022, 8, 1), h, senescence=day(2022, 9, 1))
    out = analyse(*observe(ndvi))
    assert abs(as_day(out["CPMCE"]) - e) <= 8
    assert abs(as_day(out["CPMCH"]) - h) <= 6
    assert abs(out["CPBSB"] - (e - day(2022, 1, 1))) <= 8  # no harvest in 2022 before: from 1 January
    assert abs(out["CPBSA"] - (day(2023, 1, 1) - h)) <= 6  # no emergence after: to 31 December
    assert out["CPBSA"] <= 275


def test_sugar_beet_harvested_green():
    ndvi = bare_curve()
    e, h = day(2022, 4, 25), day(2022, 10, 20)
    crop(ndvi, e, day(2022, 7, 1), h, top=0.9)
    out = analyse(*observe(ndvi))
    assert abs(as_day(out["CPMCE"]) - e) <= 8
    assert abs(as_day(out["CPMCH"]) - h) <= 6
    assert out["CPMCHCL"] < 20  # a sharp drop under dense observations is well dated


def test_a_harvest_in_a_cloudy_gap_states_at_least_the_gap_as_its_confidence():
    ndvi = bare_curve()
    e, h = day(2022, 4, 25), day(2022, 10, 8)
    crop(ndvi, e, day(2022, 7, 1), h, top=0.9)
    values, days = observe(ndvi, gaps=((day(2022, 10, 1), day(2022, 10, 24)),))
    standing, gone = days[days < h].max(), days[days > h].min()  # the views that bracket the harvest
    band = analyse(values, days, harvest_confidence="band")
    views = analyse(values, days, harvest_confidence="views")
    assert band["CPMCH"] == views["CPMCH"]
    assert standing < as_day(views["CPMCH"]) <= gone
    assert band["CPMCHCL"] < gone - standing  # the band's width where the smoother crosses the step
    assert views["CPMCHCL"] == gone - standing
    # the duration's and the bare period's confidences carry the harvest's
    assert views["CPMCDCL"] - band["CPMCDCL"] == views["CPMCHCL"] - band["CPMCHCL"]


def test_a_cover_crop_terminated_in_a_long_cloudy_gap_starts_the_bare_period_midway():
    ndvi = bare_curve()
    crop(ndvi, day(2021, 9, 1), day(2021, 10, 20), day(2022, 2, 1), top=0.7)  # terminated on 1 February
    ndvi[day(2022, 3, 20) :] = BARE  # the spring tillage brings the field's lowest level
    e = day(2022, 5, 10)
    crop(ndvi, e, day(2022, 7, 15), day(2022, 9, 25))
    values, days = observe(ndvi, gaps=((day(2022, 1, 28), day(2022, 3, 5)),))
    standing, gone = days[days < day(2022, 1, 28)].max(), days[days > day(2022, 3, 5)].min()
    assert gone - standing >= k.HIDDEN_END_DAYS
    out = analyse(values, days)
    assert out["CPBSB"] == as_day(out["CPMCE"]) - (standing + gone) // 2 + 1  # both ends count
    assert abs(out["CPBSB"] - (e - day(2022, 2, 1))) <= 10
    # the termination's confidence covers the gap, combined with the emergence's
    assert out["CPBSBCL"] == out["CPMCECL"] + (gone - standing)


def test_a_frost_browned_cover_crop_ended_in_a_gap_over_new_year_leaves_2022_bare_from_1_january():
    ndvi = bare_curve()
    # a cover crop browned by the frost, off its plateau, terminated on 20 December
    crop(ndvi, day(2021, 9, 1), day(2021, 10, 10), day(2021, 12, 20), top=0.65, senescence=day(2021, 10, 16))
    e = day(2022, 5, 10)
    crop(ndvi, e, day(2022, 7, 15), day(2022, 9, 25))
    values, days = observe(ndvi, gaps=((day(2021, 11, 26), day(2022, 1, 24)),))
    standing, gone = days[days < day(2021, 11, 26)].max(), days[days > day(2022, 1, 24)].min()
    assert (standing + gone) // 2 < day(2022, 1, 1) and values[days == standing][0] < 0.55
    out = analyse(values, days)
    assert out["CPBSB"] == as_day(out["CPMCE"]) - day(2022, 1, 1) + 1  # no day of 2021 counted
    assert (
        out["CPBSBCL"] == out["CPMCECL"]
    )  # the period's start is the year's: only the emergence is uncertain


def test_a_frost_browned_cover_crop_terminated_in_a_long_gap_starts_the_bare_period_midway():
    ndvi = bare_curve()
    # a cover crop browned by the frost from November, terminated on 1 March: its mulch lies on the
    # field until the seedbed is tilled on 10 April, and the wet tilled soil is darker than bare
    crop(ndvi, day(2021, 9, 1), day(2021, 10, 20), day(2022, 3, 1), top=0.75, senescence=day(2021, 11, 1))
    ndvi[day(2022, 3, 1) : day(2022, 4, 10)] = 0.24
    ndvi[day(2022, 4, 10) : day(2022, 5, 15)] = 0.13
    e = day(2022, 5, 15)
    crop(ndvi, e, day(2022, 7, 25), day(2022, 9, 25))
    values, days = observe(ndvi, gaps=((day(2022, 1, 28), day(2022, 3, 28)),))
    standing, gone = days[days < day(2022, 1, 28)].max(), days[days > day(2022, 3, 28)].min()
    out = analyse(values, days)
    assert out["CPBSB"] == as_day(out["CPMCE"]) - (standing + gone) // 2 + 1
    assert abs(out["CPBSB"] - (e - day(2022, 3, 1))) <= 10


def test_the_bare_period_starts_in_the_gap_after_which_the_field_is_first_seen_bare():
    # a cover crop at 0.75 on 22 November, browned by the frost to 0.49 on 26 January (the largest
    # drop), bare on 1 April; the smoother reads its end on 15 April, after the spring tillage
    n = day(2022, 6, 1)
    peak, browned, bare = day(2021, 11, 22), day(2022, 1, 26), day(2022, 4, 1)
    seen = {peak: 0.75, browned: 0.49, bare: 0.25, day(2022, 4, 16): 0.15}
    views = _views(n, seen)
    q50 = np.interp(np.arange(n), list(seen), list(seen.values()))
    q10, q90 = q50 - 0.05, q50 + 0.05
    out = np.full(k.N_LAYERS, np.nan)
    e = day(2022, 5, 15)
    harvest, brackets = np.array([day(2022, 4, 15)]), np.array([[day(2022, 4, 1), day(2022, 4, 16)]])
    k._bare_before(out, harvest, brackets, q10, q50, q90, e, 12.0, day(2022, 1, 1), 40.0, True, False, True,
                   0.0, views, np.array([peak]), 0.3)  # fmt: skip
    assert out[k.BSB] == e - (browned + bare) // 2 + 1
    assert out[k.BSBCL] == 12.0 + (bare - browned)  # the termination's confidence is the gap


def test_a_termination_placed_midway_in_a_gap_before_1_january_starts_the_bare_period_on_1_january():
    # the smoother reads the termination on 5 January, but its views (1 December, 20 January) put it
    # on 26 December: the bare period within the year starts on 1 January
    first = day(2022, 1, 1)
    n = first + 200
    q50 = np.full(n, 0.2)
    q10, q90 = q50 - 0.05, q50 + 0.05
    out = np.full(k.N_LAYERS, np.nan)
    harvest = np.array([first + 4])
    brackets = np.array([[day(2021, 12, 1), day(2022, 1, 20)]])
    e = first + 130
    views = np.full(n, np.nan)
    k._bare_before(
        out,
        harvest,
        brackets,
        q10,
        q50,
        q90,
        e,
        12.0,
        first,
        40.0,
        True,
        False,
        True,
        0.0,
        views,
        np.array([NO_EVENT]),
        0.3,
    )
    assert out[k.BSB] == 131  # 1 January to the emergence, both included
    assert out[k.BSBCL] == 12.0  # only the emergence is uncertain


def test_cereal_then_cover_crop_is_a_secondary_season_that_ends_the_bare_period():
    ndvi = bare_curve()
    e, h = day(2022, 4, 10), day(2022, 8, 1)
    crop(ndvi, e, day(2022, 6, 10), h, senescence=day(2022, 7, 1))
    ce, ch = day(2022, 8, 25), day(2022, 12, 1)
    crop(ndvi, ce, day(2022, 10, 15), ch, top=0.7)
    out = analyse(*observe(ndvi))
    assert abs(as_day(out["CPMCH"]) - h) <= 6
    assert out["CPCSY"] == 2
    assert abs(as_day(out["CPSCE"]) - ce) <= 10
    assert abs(out["CPBSA"] - (ce - h)) <= 12


def test_permanent_grassland_is_not_annual_cropland():
    ndvi = np.full(GRID.n_days, 0.82)
    for cut in (day(2022, 5, 20), day(2022, 7, 5), day(2022, 8, 20)):
        ndvi[cut : cut + 25] = 0.55 + 0.27 * np.linspace(0, 1, 25)
    out = analyse(*observe(ndvi))
    assert all(v == k.NO_CROPLAND for v in out.values())


def test_cloudy_autumn_widens_the_emergence_confidence():
    ndvi, _ = winter_wheat()
    clear = analyse(*observe(ndvi))
    cloudy = analyse(*observe(ndvi, gaps=((day(2021, 9, 20), day(2021, 12, 10)),)))
    assert cloudy["CPMCECL"] > clear["CPMCECL"]
    if cloudy["CPMCE"] < 65000:
        found = as_day(cloudy["CPMCE"])
        assert day(2021, 9, 20) <= found <= day(2021, 12, 10) + 5  # placed inside the cloudy gap


def test_a_dense_series_states_at_least_the_least_event_confidence():
    # views every 5 days: the band is a few days wide at both events, narrower than a date read off
    # the curve can be trusted; the floor widens both, and the bare periods and duration they bound
    ndvi = bare_curve()
    crop(ndvi, day(2022, 5, 15), day(2022, 8, 1), day(2022, 10, 10), senescence=day(2022, 9, 1))
    values, days = observe(ndvi)
    band = analyse(values, days, min_event_confidence=0)
    floored = analyse(values, days, min_event_confidence=14)
    assert band["CPMCECL"] < 14 and band["CPMCHCL"] < 14
    assert floored["CPMCECL"] == 14 and floored["CPMCHCL"] == 14
    assert floored["CPMCDCL"] == 28  # the sum of the two
    assert floored["CPBSBCL"] == 14  # from 1 January: the emergence's alone
    for code in ("CPMCE", "CPMCH", "CPMCD", "CPBSB", "CPBSA"):
        assert floored[code] == band[code]  # the dates do not move


def maize_then_late_wheat(
    autumn_level: float, greenup: int = day(2022, 3, 10)
) -> tuple[np.ndarray, int, int]:
    """Maize harvested late in 2021 (its rise before the window), then a wheat emerging in November
    whose autumn growth reaches ``autumn_level`` until its ``greenup``: (ndvi, maize harvest, wheat
    emergence)."""
    ndvi = bare_curve()
    harvest = day(2021, 10, 20)
    ndvi[:harvest] = 0.85 - 0.35 * smoothstep((np.arange(harvest) - day(2021, 9, 1)) / 50.0)
    e = day(2021, 11, 15)
    autumn = (greenup, autumn_level)
    crop(ndvi, e, day(2022, 6, 1), day(2022, 7, 28), senescence=day(2022, 6, 25), autumn=autumn)
    return ndvi, harvest, e


def test_a_late_sown_winter_wheat_unseen_until_spring_emerged_after_the_previous_harvest():
    ndvi, harvest, e = maize_then_late_wheat(BARE + 0.01)  # a few per cent of cover: NDVI cannot tell
    out = analyse(*observe(ndvi))
    found = as_day(out["CPMCE"])
    assert abs(found - (harvest + SeasonsConfig().harvest_to_emergence)) <= 6  # not the March green-up
    assert abs(found - e) <= 12
    assert out["CPMCECL"] == k.NO_CONFIDENCE  # placed by the calendar, not seen (whatever the floor)
    assert out["CPBSB"] == k.BARE_OUTSIDE_YEAR  # a winter crop: the bare period lies in 2021
    later = analyse(*observe(ndvi), harvest_to_emergence=35)
    assert as_day(later["CPMCE"]) == found + 10


def beet_then_wheat(
    beet_harvest: int, wheat: int, autumn_level: float, gap: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A sugar beet (its rise before the window) lifted on ``beet_harvest``, then a wheat emerging on
    ``wheat`` whose autumn growth reaches ``autumn_level``, harvested on 28 July; no view in ``gap``."""
    ndvi = bare_curve()
    ndvi[:beet_harvest] = 0.85
    crop(ndvi, wheat, day(2022, 6, 1), day(2022, 7, 28), senescence=day(2022, 6, 25),
         autumn=(day(2022, 3, 10), autumn_level))  # fmt: skip
    return observe(ndvi, gaps=(gap,))


def test_a_wheat_green_after_a_beet_harvest_hidden_by_clouds_emerged_before_that_view():
    # the beet stands on 23 September, the young wheat is green on the next view, in late November:
    # the beet was lifted in the gap, and the wheat emerged weeks before that view, not 25 days after
    # the smoother's crossing (which comes at the end of the gap)
    gap = (day(2021, 9, 24), day(2021, 11, 21))
    e = day(2021, 10, 28)
    values, days = beet_then_wheat(day(2021, 10, 5), e, 0.45, gap)
    out = analyse(values, days)
    assert abs(as_day(out["CPMCE"]) - e) <= 8
    assert as_day(out["CPMCE"]) < gap[1]
    assert out["CPMCECL"] == k.NO_CONFIDENCE  # placed, not seen
    # a wheat sown late, not up on the view after the gap: the beet may have been lifted late
    late = analyse(*beet_then_wheat(day(2021, 11, 12), day(2021, 12, 15), BARE + 0.01, gap))
    assert as_day(late["CPMCE"]) > gap[1]


def test_a_green_view_too_soon_after_the_gap_is_the_previous_crop_ripening():
    from baresoil.kernels.events import SHOWING_DAYS, _previous_harvest

    z = np.concatenate([np.full(60, 0.85), np.linspace(0.85, 0.2, 40), np.full(100, 0.2)])
    no_season = np.full(1, NO_EVENT, np.int64)

    def previous(after: int) -> int:
        views = np.full(z.size, np.nan)
        views[[10, 30, 40]] = 0.85  # the crop standing, last seen on day 40
        views[[after, 170]] = 0.45  # green on the next view and after it
        return _previous_harvest(z, views, 0, 180, no_season, no_season, 0.5, 0.15, 0.3, 25)

    crossing = previous(40 + 25 + SHOWING_DAYS - 1)  # too soon for a crop sown after the harvest to show
    assert crossing > 80  # the end of the smoother's fall
    assert previous(40 + 25 + SHOWING_DAYS) == 40  # time enough: the last view of the crop standing


@pytest.mark.parametrize(
    "emergence",
    [
        day(2022, 4, 5),  # in the spring window
        # sown in mid-March, it emerges on 26 March: its rise, seen in April, is extrapolated back to
        # before the spring window opens (1 April), as a winter crop's green-up would be; but two
        # weeks into the window it has come less than a fifth of its rise, which a green-up has not
        day(2022, 3, 26),
    ],
)
def test_a_spring_crop_emerging_about_when_the_spring_window_opens_is_not_taken_for_a_green_up(emergence):
    ndvi = bare_curve()
    crop(ndvi, emergence, day(2022, 6, 10), day(2022, 7, 30), senescence=day(2022, 7, 1))
    out = analyse(*observe(ndvi))
    assert abs(as_day(out["CPMCE"]) - emergence) <= 8
    assert out["CPMCECL"] != k.NO_CONFIDENCE
    assert out["CPMCECL"] < 65000  # seen, with its confidence
    assert str(int(out["CPMCE"])).startswith("22")


def test_a_winter_weed_cover_dying_back_before_a_spring_barley_is_not_its_emergence():
    # weeds green the ploughed field from December to February and die back to near the bare level
    # before the barley's seedbed: the barley's rise starts from that dip, not from December
    ndvi = bare_curve()
    t = np.arange(ndvi.size, dtype=float)
    weeds = slice(day(2021, 12, 1), day(2022, 3, 20))
    ndvi[weeds] = BARE + 0.2 * np.sin(np.pi * (t[weeds] - day(2021, 12, 1)) / 109) ** 2
    e = day(2022, 4, 12)
    dip = slice(day(2022, 3, 5), e)  # not back to the soil's own level: a few weeds left
    ndvi[dip] = np.maximum(ndvi[dip], BARE + 0.04)
    crop(ndvi, e, day(2022, 6, 10), day(2022, 7, 30), senescence=day(2022, 7, 1))
    out = analyse(*observe(ndvi))
    assert abs(as_day(out["CPMCE"]) - e) <= 8


def test_a_barley_declared_sown_in_spring_is_not_taken_for_a_green_up():
    # emerging on 20 March, it has come a quarter of its rise by mid-April, as a late wheat's
    # green-up: without a declaration it is taken for one
    ndvi = bare_curve()
    e = day(2022, 3, 20)
    crop(ndvi, e, day(2022, 6, 10), day(2022, 7, 30), senescence=day(2022, 7, 1))
    values, days = observe(ndvi)
    unknown = analyse(values, days)
    declared = analyse(values, days, sowing=SOWN_IN_SPRING)
    assert as_day(unknown["CPMCE"]) < day(2021, 11, 1)  # placed in the autumn, without confidence
    assert unknown["CPMCECL"] == k.NO_CONFIDENCE
    assert abs(as_day(declared["CPMCE"]) - e) <= 8
    assert declared["CPMCECL"] < 65000
    assert str(int(declared["CPMCE"])).startswith("22")


def test_a_wrong_spring_declaration_does_not_undo_a_green_up_seen_before_the_spring():
    # the wheat's rise is seen in March, before any spring crop could show: the declaration is wrong
    ndvi, _, e = maize_then_late_wheat(BARE + 0.01)
    values, days = observe(ndvi)
    for sowing in (SOWN_IN_SPRING, SOWN_IN_AUTUMN):
        out = analyse(values, days, sowing=sowing)
        assert out["CPMCE"] == analyse(values, days)["CPMCE"]
        assert abs(as_day(out["CPMCE"]) - e) <= 12


def test_a_wheat_declared_sown_in_the_autumn_and_unseen_until_april_emerged_in_the_autumn():
    # sown after a maize in November, it covers a few per cent of the soil until its green-up in
    # April: NDVI alone takes it for a spring crop emerging after the spring window opened
    ndvi, harvest, e = maize_then_late_wheat(BARE + 0.01, greenup=day(2022, 4, 8))
    values, days = observe(ndvi)
    unknown = analyse(values, days)
    declared = analyse(values, days, sowing=SOWN_IN_AUTUMN)
    assert as_day(unknown["CPMCE"]) > day(2022, 4, 1)
    assert abs(as_day(declared["CPMCE"]) - (harvest + SeasonsConfig().harvest_to_emergence)) <= 6
    assert abs(as_day(declared["CPMCE"]) - e) <= 12
    assert declared["CPMCECL"] == k.NO_CONFIDENCE  # placed, not seen


def test_a_maize_wrongly_declared_a_winter_crop_keeps_its_may_emergence():
    # its rise leaves the bare level after the winter-crop emergence window closed (30 April)
    ndvi = bare_curve()
    e = day(2022, 5, 15)
    crop(ndvi, e, day(2022, 8, 1), day(2022, 10, 10), senescence=day(2022, 9, 1))
    values, days = observe(ndvi)
    declared = analyse(values, days, sowing=SOWN_IN_AUTUMN)
    assert declared["CPMCE"] == analyse(values, days)["CPMCE"]
    assert abs(as_day(declared["CPMCE"]) - e) <= 8


def volunteers_then_wheat(
    gap: tuple[int, int], harvest: int = day(2022, 7, 28)
) -> tuple[np.ndarray, np.ndarray, int]:
    """Volunteers green the stubble from late August; a seedbed on 10 October takes them out and the
    wheat emerges on 25 October, to be harvested on ``harvest``: (values, days, emergence)."""
    ndvi = bare_curve()
    t = np.arange(ndvi.size, dtype=float)
    start, seedbed, e = day(2021, 8, 20), day(2021, 10, 10), day(2021, 10, 25)
    ndvi[start:seedbed] = BARE + 0.17 * smoothstep((t[start:seedbed] - start) / 35)
    crop(ndvi, e, day(2022, 6, 1), harvest, senescence=harvest - 33, autumn=(day(2022, 3, 10), 0.36))
    values, days = observe(ndvi, gaps=(gap,))
    return values, days, e


def test_volunteers_before_a_seedbed_hidden_by_clouds_are_not_the_wheat_emergence():
    values, days, e = volunteers_then_wheat(gap=(day(2021, 10, 1), day(2021, 11, 25)))
    out = analyse(values, days)
    found = as_day(out["CPMCE"])
    # a winter crop's season length before its harvest (the volunteers began in August)
    assert found == as_day(out["CPMCH"]) - SeasonsConfig().winter_season_days
    assert abs(found - e) <= 8
    assert out["CPMCECL"] == k.NO_CONFIDENCE
    calendar = analyse(values, days, winter_season_days=0)
    assert as_day(calendar["CPMCE"]) == day(2021, 10, 15)  # the typical winter-crop emergence
    assert as_day(analyse(values, days, winter_emergence="11-05")["CPMCE"]) == day(2021, 11, 5)  # no earlier


def test_an_unseen_winter_barley_harvested_in_july_is_placed_on_the_typical_emergence():
    # harvested early in July, its season length puts it in early October: the typical emergence
    # (15 October) is the earliest an unseen emergence is placed
    gap = (day(2021, 10, 1), day(2021, 11, 25))
    values, days, _ = volunteers_then_wheat(gap, harvest=day(2022, 7, 8))
    out = analyse(values, days)
    assert as_day(out["CPMCE"]) == day(2021, 10, 15)
    assert abs(as_day(out["CPMCH"]) - day(2022, 7, 8)) <= 6


def test_a_rapeseed_emerging_in_august_keeps_its_own_emergence():
    ndvi = bare_curve()
    e = day(2021, 8, 28)
    crop(ndvi, e, day(2022, 5, 1), day(2022, 7, 15), senescence=day(2022, 6, 5),
         autumn=(day(2022, 3, 1), 0.7))  # fmt: skip
    out = analyse(*observe(ndvi))
    assert abs(as_day(out["CPMCE"]) - e) <= 8  # its autumn growth reaches a crop's NDVI: not volunteers


def test_volunteers_after_the_main_harvest_do_not_end_the_bare_period():
    ndvi = bare_curve()
    h = day(2022, 7, 28)
    crop(ndvi, day(2022, 4, 10), day(2022, 6, 10), h, senescence=day(2022, 7, 1))
    t = np.arange(ndvi.size, dtype=float)
    start, seedbed = day(2022, 8, 15), day(2022, 10, 12)  # the seedbed falls in a cloudy gap
    ndvi[start:seedbed] = BARE + 0.16 * smoothstep((t[start:seedbed] - start) / 35)
    crop(ndvi, day(2022, 10, 25), day(2023, 6, 1), GRID.n_days - 1, autumn=(day(2023, 3, 10), 0.34))
    values, days = observe(ndvi, gaps=((day(2022, 9, 25), day(2022, 11, 15)),))
    out = analyse(values, days)
    assert abs(as_day(out["CPMCH"]) - h) <= 6
    assert out["CPBSA"] == day(2022, 10, 15) - as_day(out["CPMCH"]) + 1  # to the typical autumn emergence
    assert out["CPBSACL"] == k.NO_CONFIDENCE  # an emergence placed by the calendar has no confidence


def test_month_days_of_the_winter_rules_are_checked():
    from baresoil.errors import ConfigError

    with pytest.raises(ConfigError, match=r"seasons\.greenup"):
        GRID.fallback_calendar(YEAR, SeasonsConfig(greenup="15 March"))


def test_radar_fills_a_cloudy_summer_and_narrows_the_harvest_confidence():
    ndvi = bare_curve()
    e, h = day(2022, 4, 25), day(2022, 8, 20)
    crop(ndvi, e, day(2022, 6, 20), h, top=0.9)
    gap = (day(2022, 7, 10), day(2022, 9, 20))
    values, days = observe(ndvi, gaps=(gap,))
    rng = np.random.default_rng(5)
    radar_days = np.arange(0, GRID.n_days, 6, dtype=np.int64)
    ratio = -16.0 + 10.0 * ndvi[radar_days] + rng.normal(0, 0.4, radar_days.size)  # dB, speckled
    optical = analyse(values, days)
    fused = analyse(values, days, radar=(ratio, radar_days))
    assert fused["CPMCHCL"] < optical["CPMCHCL"]  # optical alone: beyond the cap (flagged)
    assert abs(as_day(fused["CPMCH"]) - h) <= 12  # the smoother spreads the step over about two weeks
    assert abs(as_day(fused["CPMCH"]) - h) < abs(as_day(optical["CPMCH"]) - h)


def test_radar_that_does_not_follow_the_ndvi_is_ignored():
    ndvi = bare_curve()
    crop(ndvi, day(2022, 4, 25), day(2022, 6, 20), day(2022, 8, 20), top=0.9)
    values, days = observe(ndvi, gaps=((day(2022, 7, 10), day(2022, 9, 20)),))
    radar_days = np.arange(0, GRID.n_days, 6, dtype=np.int64)
    noise = np.random.default_rng(6).normal(-15, 2, radar_days.size)
    assert analyse(values, days, radar=(noise, radar_days)) == analyse(values, days)


# --- series that start after the autumn or end before the harvest ---------------------------------------


def analyse_window(
    truth: np.ndarray,
    first: date,
    last: date,
    every: int = 5,
    seed: int = 1,
    gaps: tuple[tuple[int, int], ...] = (),
    **params: object,
) -> tuple[dict[str, float], DailyGrid]:
    """The analysis of ``truth`` observed from ``first`` to ``last`` only, as the product runs it on a
    catalog that holds no more (day 0 is the first view): (layers, the series' daily grid)."""
    values, days = observe(truth, every, gaps, seed=seed)
    keep = (days >= GRID.day(first)) & (days <= GRID.day(last))
    values, days = values[keep], days[keep]
    grid = DailyGrid(GRID.first + timedelta(days=int(days[0])), GRID.first + timedelta(days=int(days[-1])))
    kwargs = kernel_arguments(SeasonsConfig(**params), grid, YEAR, days - days[0])  # type: ignore[arg-type]
    out = k.analyse_pixels(values[:, None], cropland=np.array([-1], np.int8), sowing=np.zeros(1, np.int8),
                           radar=np.zeros((0, 1)), radar_days=np.zeros(0, np.int64), **kwargs)  # fmt: skip
    return dict(zip(k.LAYERS, out[:, 0], strict=True)), grid


@pytest.mark.parametrize("first", [date(2022, 1, 10), date(2022, 3, 1)])
def test_a_winter_crop_up_before_the_series_starts_has_no_date_and_never_one_after_its_harvest(first):
    # the case: a series from January on a wheat sown the autumn before; the calendar places
    # its unseen emergence in October 2021, before day 0, where a negative index read the table's end
    ndvi, truth = winter_wheat()
    out, grid = analyse_window(ndvi, first, date(2022, 12, 31))
    assert grid.first > date(2021, 12, 31)
    assert out["CPMCE"] == k.FEW_OBSERVATIONS and out["CPMCD"] == k.FEW_OBSERVATIONS  # the data cannot tell
    assert out["CPMCECL"] == k.NO_CONFIDENCE and out["CPMCDCL"] == k.NO_CONFIDENCE
    assert abs(as_day(out["CPMCH"]) - truth["h"]) <= 6  # the harvest is in the data
    assert out["CPBSB"] == k.BARE_OUTSIDE_YEAR  # a winter crop: the main season began before the year
    assert abs(out["CPBSA"] - (truth["next"] - truth["h"])) <= 10
    assert out["CPCSY"] == 1


def test_no_event_is_never_a_day_even_the_day_before_the_series():
    # a wheat bare to the eye until its green-up, on a series starting the day after the typical
    # winter emergence (15 October): the calendar places the emergence on day -1, a day all the same
    ndvi = bare_curve()
    h = day(2022, 7, 25)
    crop(ndvi, day(2022, 2, 20), day(2022, 6, 1), h, senescence=day(2022, 6, 25))
    out, grid = analyse_window(ndvi, date(2021, 10, 16), date(2022, 12, 31), winter_season_days=0)
    assert grid.day(date(2021, 10, 15)) == -1 and NO_EVENT < -(10**6)
    assert out["CPMCE"] == k.FEW_OBSERVATIONS  # before the series: not a date, and not "no season"
    assert abs(as_day(out["CPMCH"]) - h) <= 6
    assert out["CPBSA"] == day(2023, 1, 1) - as_day(out["CPMCH"])


def test_a_series_ending_before_the_harvest_says_the_data_cannot_tell():
    wheat, _ = winter_wheat()  # harvested on 1 August, never bare from January to June
    maize = bare_curve()  # bare in spring, harvested on 10 October
    crop(maize, day(2022, 5, 15), day(2022, 8, 1), day(2022, 10, 10), senescence=day(2022, 9, 1))
    for ndvi, last in ((wheat, date(2022, 6, 20)), (maize, date(2022, 8, 20))):
        out, _ = analyse_window(ndvi, date(2022, 1, 10), last)
        assert set(out.values()) == {k.FEW_OBSERVATIONS}  # neither a date nor "no annual cropland"
    full, _ = analyse_window(maize, date(2022, 1, 10), date(2022, 12, 31))
    assert abs(as_day(full["CPMCH"]) - day(2022, 10, 10)) <= 6  # observed to the end: a season


def test_bare_soil_from_1_january_on_a_series_starting_later_carries_the_unseen_days():
    maize = bare_curve()
    e = day(2022, 5, 15)
    crop(maize, e, day(2022, 8, 1), day(2022, 10, 10), senescence=day(2022, 9, 1))
    results = {}
    for first in (date(2021, 12, 20), date(2022, 1, 12), date(2022, 3, 1), date(2022, 4, 10)):
        out, grid = analyse_window(maize, first, date(2022, 12, 31))
        assert abs(out["CPBSB"] - (e - day(2022, 1, 1) + 1)) <= 8  # from 1 January, not from day 0 or -1
        results[first] = (out["CPBSBCL"], out["CPMCECL"], max(0, grid.day(date(2022, 1, 1)) * -1))
    cl, cl_e, unseen = results[date(2021, 12, 20)]
    assert unseen == 0 and cl == cl_e  # the series holds 1 January: the emergence's confidence alone
    for first in (date(2022, 1, 12), date(2022, 3, 1)):
        cl, cl_e, unseen = results[first]
        assert unseen > 10 and cl == cl_e + unseen  # seasons.combine = sum
    assert results[date(2022, 4, 10)][0] == k.NO_CONFIDENCE  # 100 days unseen: beyond the cap


SCENARIOS = {
    "winter wheat": lambda: winter_wheat()[0],
    "maize": lambda: _one_crop(day(2022, 5, 15), day(2022, 8, 1), day(2022, 10, 10), day(2022, 9, 1)),
    "sugar beet": lambda: _one_crop(day(2022, 4, 25), day(2022, 7, 1), day(2022, 10, 20), None),
    "maize then late wheat": lambda: maize_then_late_wheat(BARE + 0.01)[0],
    "cereal then cover crop": lambda: _cereal_then_cover(),
}
"""Truths on the 2021-2023 grid whose observed windows the property test draws."""


def _one_crop(e: int, peak: int, h: int, senescence: int | None) -> np.ndarray:
    ndvi = bare_curve()
    crop(ndvi, e, peak, h, senescence=senescence)
    return ndvi


def _cereal_then_cover() -> np.ndarray:
    ndvi = _one_crop(day(2022, 3, 20), day(2022, 6, 1), day(2022, 7, 20), day(2022, 6, 25))
    crop(ndvi, day(2022, 8, 20), day(2022, 10, 10), day(2022, 11, 25), top=0.6)
    return ndvi


RANGES = {"CPMCD": (40, 366), "CPSCD": (40, 366), "CPBSB": (1, 366), "CPBSA": (1, 366), "CPCSY": (1, 2),
          "CPMCECL": (1, 40), "CPMCHCL": (1, 40)}  # fmt: skip
"""Value ranges of the layers that are no dates (HRL PUM); confidences of two events: 1-80.  The bare
periods are bounded by their main event instead (``_check_layers``)."""


def _check_layers(out: dict[str, float], grid: DailyGrid) -> None:
    """Every layer a registry flag of its own or a value in its range; dates within the series, the
    emergence on or before the harvest and the duration between them."""
    from baresoil import registry

    dates = {}
    for code, value in out.items():
        if int(value) in registry.layer(code).flags:
            continue
        assert np.isfinite(value) and value == int(value), (code, value)
        if code in ("CPMCE", "CPMCH", "CPSCE"):
            dates[code] = decode_yydoy(int(value))
            assert grid.first <= dates[code] <= grid.first + timedelta(days=grid.n_days - 1), (code, value)
        else:
            low, high = RANGES.get(code, (1, 80))
            assert low <= value <= high, (code, value)
    if "CPMCE" in dates and "CPMCH" in dates:
        assert dates["CPMCE"] <= dates["CPMCH"]
        assert out["CPMCD"] == (dates["CPMCH"] - dates["CPMCE"]).days
    elif "CPMCH" in dates:
        assert out["CPMCE"] == k.FEW_OBSERVATIONS == out["CPMCD"]  # an emergence before the series
    # the bare periods lie within the year on their side of the main crop, both ends counted: the HRL's
    # maxima (CPBSB 295, CPBSA 275) hold for an emergence by 22 October and a harvest from 1 April
    if "CPMCH" in dates and out["CPBSA"] not in registry.layer("CPBSA").flags:
        assert out["CPBSA"] <= (date(YEAR, 12, 31) - dates["CPMCH"]).days + 1, (out["CPBSA"], dates)
    if "CPMCE" in dates and out["CPBSB"] not in registry.layer("CPBSB").flags:
        assert out["CPBSB"] <= (dates["CPMCE"] - date(YEAR, 1, 1)).days + 1, (out["CPBSB"], dates)


@given(
    scenario=st.sampled_from(sorted(SCENARIOS)),
    start=st.integers(0, day(2022, 6, 30)),
    end=st.integers(day(2022, 3, 1), GRID.n_days - 1),
    every=st.sampled_from([5, 10]),
    seed=st.integers(0, 5),
)
@settings(max_examples=50)
def test_any_window_of_a_series_gives_registry_flags_or_dates_inside_it(scenario, start, end, every, seed):
    assume(end - start >= 60)
    first, last = (GRID.first + timedelta(days=d) for d in (start, end))
    out, grid = analyse_window(SCENARIOS[scenario](), first, last, every=every, seed=seed)
    _check_layers(out, grid)


@st.composite
def crop_sequences(draw: st.DrawFn) -> np.ndarray:
    """A daily NDVI truth on the 2021-2023 grid: bare soil and one to three crops one after the other, of
    drawn timing, vigour and form (ripening or harvested green; winter crops with an autumn rise)."""
    ndvi = bare_curve()
    start = draw(st.integers(0, 250))
    for _ in range(draw(st.integers(1, 3))):
        emergence = start + draw(st.integers(5, 120))
        peak = emergence + draw(st.integers(30, 150))
        harvest = peak + draw(st.integers(15, 90))
        if harvest >= GRID.n_days - 1:
            break
        senescence = peak + (harvest - peak) // 2 if draw(st.booleans()) else None
        autumn = None
        if peak - emergence > 100 and draw(st.booleans()):  # sown in the autumn, green again in spring
            autumn = (emergence + draw(st.integers(40, peak - emergence - 30)), draw(st.floats(0.25, 0.45)))
        crop(ndvi, emergence, peak, harvest, top=draw(st.floats(0.4, 0.9)), senescence=senescence,
             autumn=autumn)  # fmt: skip
        start = harvest
    return ndvi


@given(
    truth=crop_sequences(),
    every=st.sampled_from([3, 5, 10]),
    gaps=st.lists(st.tuples(st.integers(0, GRID.n_days - 1), st.integers(10, 60)), max_size=2),
    window=st.tuples(st.integers(0, day(2022, 3, 1)), st.integers(day(2022, 10, 1), GRID.n_days - 1)),
    seed=st.integers(0, 5),
)
def test_events_of_any_crop_sequence_are_ordered_inside_the_series_with_confidences_in_range(
    truth, every, gaps, window, seed
):
    """Whatever the crops, the cadence and the cloudy gaps: dates inside the series, the emergence before
    the harvest, confidences within their documented range, no flag but the registry's."""
    first, last = (GRID.first + timedelta(days=d) for d in window)
    gaps = tuple((lo, lo + length) for lo, length in gaps)
    out, grid = analyse_window(truth, first, last, every=every, seed=seed, gaps=gaps)
    _check_layers(out, grid)
    from baresoil import registry

    assert (out["CPCSY"] == 2) == (int(out["CPSCE"]) not in registry.layer("CPSCE").flags)


def test_a_dormancy_before_the_series_is_read_from_its_first_day_not_from_its_end():
    from baresoil.kernels.events import SPRING_RISE_DAYS, _late_spring_rise

    # a series from January: the dormancy (-30) and nothing of the autumn in it; bare stubble at its end
    z = np.concatenate([np.full(100, 0.3), np.linspace(0.3, 0.8, 60), np.full(40, 0.8), np.full(60, 0.1)])
    winter = np.array([-30, 90, -80, -110, -200, 120])
    when = winter[1] + SPRING_RISE_DAYS
    assert z[when] - 0.30 < 0.2 * (0.80 - 0.30)  # from the winter's level the rise has barely begun
    assert _late_spring_rise(z, 170, winter)  # the stubble at the end is no level of this winter


# --- flags -------------------------------------------------------------------------------------------


def test_too_few_observations_and_no_observation_at_all():
    ndvi, _ = winter_wheat()
    values, days = observe(ndvi, every=120)
    assert all(v == k.FEW_OBSERVATIONS for v in analyse(values, days).values())
    nothing = analyse(np.full(10, np.nan), np.arange(10, dtype=np.int64) * 5)
    assert all(np.isnan(v) for v in nothing.values())  # outside the area: nodata (65535)


def test_no_season_on_declared_cropland_and_land_cover_says_no_cropland():
    values, days = observe(bare_curve())
    assert all(v == k.NO_SEASON for v in analyse(values, days, cropland=1).values())
    assert all(v == k.NO_CROPLAND for v in analyse(values, days, cropland=0).values())


def test_a_season_outside_the_main_windows():
    ndvi = bare_curve()
    crop(ndvi, day(2022, 8, 10), day(2022, 9, 30), day(2022, 11, 25))  # late vegetables
    out = analyse(*observe(ndvi), main_season="windows")
    assert all(v == k.OUTSIDE_WINDOW for v in out.values())
    harvested = analyse(*observe(ndvi))  # the contract: the crop harvested in the year is the main one
    assert abs(as_day(harvested["CPMCH"]) - day(2022, 11, 25)) <= 6


def test_harvest_after_the_year_makes_bare_soil_after_flagged_in_zone_2():
    ndvi = bare_curve()
    crop(ndvi, day(2022, 7, 1), day(2022, 10, 1), day(2023, 1, 20))
    out = analyse(*observe(ndvi), zone=2, main_season="windows")
    assert int(out["CPMCH"]) // 1000 == 23  # harvest carries the next year
    assert out["CPBSA"] == k.BARE_OUTSIDE_YEAR and out["CPBSACL"] == k.BARE_OUTSIDE_YEAR
    zone1 = analyse(*observe(ndvi), main_season="windows")
    assert zone1["CPMCE"] == k.OUTSIDE_WINDOW  # zone 1 ends the spring-crop harvest window on 31 December
    contract = analyse(*observe(ndvi), zone=2)
    assert contract["CPMCE"] == k.OUTSIDE_WINDOW  # not harvested in the year: not the year's main crop


def test_confidence_beyond_its_cap_is_flagged():
    ndvi, _ = winter_wheat()
    out = analyse(*observe(ndvi), min_event_confidence=0, max_event_confidence=1)  # a cap the band exceeds
    assert out["CPMCHCL"] == k.NO_CONFIDENCE
    assert out["CPMCH"] < 65000  # the event itself stays


def test_combining_confidences_sum_and_average():
    ndvi = bare_curve()
    crop(ndvi, day(2022, 5, 15), day(2022, 8, 1), day(2022, 10, 10), senescence=day(2022, 9, 1))
    values, days = observe(ndvi)
    total = analyse(values, days, combine="sum")
    mean = analyse(values, days, combine="average")
    events = total["CPMCECL"] + total["CPMCHCL"]
    assert abs(total["CPMCDCL"] - events) <= 1
    assert abs(mean["CPMCDCL"] - events / 2) <= 1


def test_bare_soil_after_that_runs_unseen_to_december_carries_the_unseen_days():
    ndvi = bare_curve()
    h = day(2022, 10, 10)
    crop(ndvi, day(2022, 5, 15), day(2022, 8, 1), h, senescence=day(2022, 9, 1))
    values, days = observe(ndvi, gaps=((day(2022, 11, 12), day(2023, 2, 1)),))  # a cloudy November on
    unseen = day(2022, 12, 31) - days[days < day(2022, 11, 12)].max()
    total = analyse(values, days, combine="sum")
    mean = analyse(values, days, combine="average")
    assert abs(total["CPBSA"] - (day(2023, 1, 1) - h)) <= 6  # the HRL's period: to 31 December
    assert total["CPBSACL"] == total["CPMCHCL"] + unseen  # a crop may have emerged on any unseen day
    assert abs(mean["CPBSACL"] - (mean["CPMCHCL"] + unseen) / 2) <= 1
    seen_to_the_end = analyse(*observe(ndvi), combine="sum")
    assert seen_to_the_end["CPBSACL"] - seen_to_the_end["CPMCHCL"] <= 5  # views to the end: the harvest's


# --- the pieces ----------------------------------------------------------------------------------------


def test_yydoy_across_year_boundaries():
    assert yydoy(date(2021, 10, 20)) == 21293
    assert yydoy(date(2022, 1, 1)) == 22001
    assert yydoy(date(2024, 12, 31)) == 24366  # leap year
    assert decode_yydoy(23001) == date(2023, 1, 1)
    table = GRID.yydoy_table()
    assert table[day(2021, 12, 31)] == 21365 and table[day(2022, 1, 1)] == 22001


def test_prominent_peaks_ignore_small_bumps():
    t = np.arange(200, dtype=float)
    z = 0.2 + 0.6 * np.exp(-(((t - 100) / 20) ** 2)) + 0.05 * np.exp(-(((t - 30) / 5) ** 2))
    assert list(prominent_peaks(z, 0.2)) == [100]


def test_season_events_on_a_clean_curve():
    ndvi = bare_curve()
    e, h = day(2022, 5, 1), day(2022, 9, 20)
    crop(ndvi, e, day(2022, 7, 15), h)
    emergence, peaks, harvest, seen = season_events(ndvi, 0.2, 0.1, 0.2, 0.1)
    assert peaks[0] >= day(2022, 7, 15)
    assert abs(emergence[0] - e) <= 25  # smoothstep: 10 % of the rise after about a fifth of it
    assert emergence[0] > e
    assert seen[0] > emergence[0]  # seen where the rise crosses a tenth of its amplitude, dated earlier
    assert harvest[0] == h


def _dormant_winter_crop() -> tuple[np.ndarray, int]:
    """A winter crop that grows to 0.55 by December, falls back to 0.38 over winter, then grows again."""
    ndvi = bare_curve()
    e = day(2021, 10, 25)
    crop(ndvi, e, day(2022, 6, 1), day(2022, 7, 25))
    t = np.arange(ndvi.size, dtype=float)
    autumn = slice(e, day(2022, 3, 1))
    ndvi[autumn] = BARE + 0.37 * np.exp(-(((t[autumn] - day(2021, 12, 15)) / 30) ** 2))
    ndvi[autumn] = np.maximum(ndvi[autumn], np.where(t[autumn] > day(2021, 12, 15), 0.38, BARE))
    return ndvi, e


def test_a_winter_dip_above_the_bare_level_stays_inside_one_season():
    ndvi, e = _dormant_winter_crop()
    split = season_events(ndvi, 0.15, 0.1, 0.2, 0.1)  # without a bare level: two seasons
    assert split[1][0] < day(2022, 1, 1) and split[0][1] > day(2022, 1, 1)
    emergence, peaks, harvest, _ = season_events(ndvi, 0.15, 0.1, 0.2, 0.1, 0.3)
    assert peaks[0] > day(2022, 5, 1) and peaks[1] == NO_EVENT  # one season, the summer peak
    assert abs(emergence[0] - e) <= 15 and harvest[0] == day(2022, 7, 25)
    # a fall to bare soil between the two is a harvest: two seasons again
    ndvi[day(2022, 1, 10) : day(2022, 2, 10)] = BARE
    assert season_events(ndvi, 0.15, 0.1, 0.2, 0.1, 0.3)[1][1] > day(2022, 5, 1)


def test_emergence_is_found_when_the_steepest_day_is_still_below_the_level():
    # an abrupt rise from bare soil that slows down: its steepest day is its first
    ndvi = bare_curve()
    e, top = day(2022, 4, 1), day(2022, 7, 1)
    t = np.arange(ndvi.size, dtype=float)
    ndvi[e:top] = BARE + 0.6 * np.sqrt((t[e:top] - e) / (top - e))
    ndvi[top : day(2022, 9, 1)] = BARE + 0.6
    emergence, _, _, _ = season_events(ndvi, 0.2, 0.1, 0.2, 0.1)
    assert 0 <= emergence[0] - e <= 3


NO_WINTER = np.zeros((0, 6), np.int64)
"""No autumn in a short test series: no crop is harvested green."""
WINTERS = winter_dates(GRID.fallback_calendar(YEAR, SeasonsConfig()))
"""The winter rules' dates of the configured calendar."""
YEAR_LAST = day(YEAR, 12, 31)


def between_views(z, views, peaks, harvest, winters):  # type: ignore[no-untyped-def]
    """``harvests_between_views`` on seasons none of which was placed in a gap by the long-season split."""
    placed = np.zeros(harvest.shape[0], np.bool_)
    return harvests_between_views(z, views, peaks, harvest, winters, placed, YEAR_LAST)


def _views(n: int, seen: dict[int, float]) -> np.ndarray:
    views = np.full(n, np.nan)
    for t, value in seen.items():
        views[t] = value
    return views


def test_a_harvest_the_smoother_dates_after_the_first_harvested_view_is_moved_onto_it():
    # the field stands at 0.8 up to day 25 and is bare from day 26; views every 5 days, the smoother
    # spreads the step over days 20-40 and crosses the harvest level late
    z = np.interp(np.arange(80), [0, 20, 40, 79], [0.8, 0.8, 0.2, 0.2])
    read = harvest_day(z, 0, 79, 0.15)
    assert read > 30
    views = _views(80, {t: (0.8 if t <= 25 else 0.2) for t in range(0, 80, 5)})
    harvest = np.array([read])
    between_views(z, views, np.array([0]), harvest, NO_WINTER)
    assert harvest[0] == 30  # the first view showing the field harvested


def test_a_harvest_the_smoother_dates_before_the_last_standing_view_is_moved_after_it():
    z = np.interp(np.arange(80), [0, 60, 79], [0.8, 0.2, 0.2])  # a long senescence
    views = _views(80, {0: 0.8, 35: 0.55, 45: 0.2})  # straw still standing above the level on day 35
    harvest = np.array([30, NO_EVENT])  # read where z is 0.5; a second season without a harvest
    between_views(z, views, np.array([0, 70]), harvest, NO_WINTER)
    assert list(harvest) == [36, NO_EVENT]
    unseen = np.array([30])  # no view ever shows the field harvested: the smoother's date stays
    between_views(z, _views(80, {0: 0.8, 35: 0.55}), np.array([0]), unseen, NO_WINTER)
    assert unseen[0] == 30


def test_regrowth_on_the_stubble_above_the_harvest_level_does_not_keep_the_crop_standing():
    # a maize falls from 0.78 to 0.17 in October; weeds then green the stubble to 0.3 over the winter,
    # just above the level the harvest is read at, until a spring tillage takes it down to 0.11
    n = 400
    z = np.interp(np.arange(n), [0, 60, 80, 100, 120, 150, 240, 300, 399],
                  [0.78, 0.78, 0.70, 0.25, 0.17, 0.17, 0.33, 0.11, 0.11])  # fmt: skip
    read = harvest_day(z, 0, 150, 0.15)
    level = z[read]
    assert level < 0.29  # the weeds' views lie above it
    views = _views(n, {30: 0.75, 100: level + 0.005, 200: 0.30, 250: 0.31, 300: 0.11})
    harvest = np.array([read])
    brackets = between_views(z, views, np.array([0]), harvest, NO_WINTER)
    assert read <= harvest[0] <= 200  # not after the winter's last view of the weeds (day 250)
    assert list(brackets[0]) == [100, 200]


@pytest.mark.parametrize(
    ("standing", "gone", "last_seen", "green"),
    [
        (day(2022, 10, 3), day(2022, 11, 12), 0.8, True),  # sugar beet lifted in a cloudy October
        (day(2022, 6, 20), day(2022, 7, 30), 0.8, False),  # a cereal green in June ripens before its harvest
        (day(2022, 10, 3), day(2022, 11, 12), 0.55, False),  # a maize already drying in October
    ],
)
def test_a_crop_green_in_the_autumn_and_gone_after_a_long_gap_is_harvested_midway(
    standing, gone, last_seen, green
):
    n = GRID.n_days
    z = np.interp(np.arange(n), [0, standing, gone, n - 1], [0.8, 0.8, 0.2, 0.2])  # the smoother's step
    peak = standing - 30
    read = harvest_day(z, peak, n - 1, 0.15)
    assert read > (standing + gone) // 2 + 10  # the crossing of the harvest level comes late in the gap
    views = _views(n, {peak: 0.8, standing: last_seen, gone: 0.2})
    harvest = np.array([read])
    between_views(z, views, np.array([peak]), harvest, WINTERS)
    assert harvest[0] == ((standing + gone) // 2 if green else read)


def test_a_crop_green_in_the_autumn_is_read_on_its_fall_when_views_show_it():
    n = GRID.n_days
    standing, gone = day(2022, 10, 3), day(2022, 10, 13)  # ten days apart: the smoother's date stands
    z = np.interp(np.arange(n), [0, standing, gone, n - 1], [0.8, 0.8, 0.2, 0.2])
    harvest = np.array([day(2022, 10, 11)])
    views = _views(n, {standing - 30: 0.8, standing: 0.8, gone: 0.2})
    between_views(z, views, np.array([standing - 30]), harvest, WINTERS)
    assert harvest[0] == day(2022, 10, 11)


def test_event_confidence_is_band_width_over_slope_with_a_flat_fallback():
    t = np.arange(100, dtype=float)
    q50 = 0.01 * t
    q10, q90 = q50 - 0.05, q50 + 0.05
    assert event_confidence(q10, q50, q90, 50, True) == pytest.approx(10.0)
    # on a straight band the crossings give the same width
    assert event_confidence(q10, q50, q90, 50, True, crossing=True) == pytest.approx(10.0)
    steps = np.full(100, 0.5)
    steps[:20], steps[60:] = 0.3, 0.8
    # flat at the event (day 40): 20 days until the lower band reaches its level (day 60), plus 21 days
    # since the upper band last did (day 19)
    assert event_confidence(steps - 0.1, steps, steps + 0.1, 40, True) == pytest.approx(41.0)
    # and mirrored for a harvest
    down = steps[::-1].copy()
    assert event_confidence(down - 0.1, down, down + 0.1, 59, False) == pytest.approx(41.0)
    never = np.where(np.arange(100) < 60, 0.5, 0.8)
    assert np.isnan(event_confidence(never - 0.1, never, never + 0.1, 40, True))  # upper band never low
    assert np.isnan(event_confidence(q10, q50, q90, 0, True))


def test_fit_band_keeps_a_lone_view_of_bare_soil_before_a_long_gap():
    # a crop at 0.8, harvested and seen bare once (0.2), then 45 days without a clear view
    # until the next crop shows at 0.45: the dip is the harvest, not a cloud
    n = 200
    y, w = np.zeros(n), np.zeros(n)
    crop = np.arange(0, 100, 5)
    y[crop], w[crop] = 0.8, 1
    y[105], w[105] = 0.2, 1
    regrown = np.arange(150, n, 5)
    y[regrown], w[regrown] = 0.45, 1
    z, _, used = fit_band(y, w, 100.0, 0.005, 0.1, 20, 0.3)
    assert used == crop.size + 1 + regrown.size
    assert z[105] < 0.3
    # the old rule (no gap allowance) drops it and the curve never comes down to soil
    z_old, _, used_old = fit_band(y, w, 100.0, 0.005, 0.1)
    assert used_old == used - 1
    assert z_old[100:150].min() > 0.3
    # a dip that stays above the soil level is still a missed cloud, however long the gap
    y[105] = 0.32
    _, _, used_cloud = fit_band(y, w, 100.0, 0.005, 0.1, 20, 0.3)
    assert used_cloud == used - 1
    # and so is a dip to soil level seen again soon at the crop's level
    y[105], y[115], w[115] = 0.2, 0.8, 1
    _, _, used_short = fit_band(y, w, 100.0, 0.005, 0.1, 20, 0.3)
    assert used_short == used


def test_fit_band_does_not_undershoot_the_lowest_observation_in_a_gap():
    # a crop harvested in one step, seen bare twice, then 40 cloudy days: the curve must not carry
    # the fall on below the bare soil it saw
    n = 160
    y, w = np.zeros(n), np.zeros(n)
    crop = np.arange(0, 80, 5)
    y[crop], w[crop] = 0.8, 1
    y[[82, 86]], w[[82, 86]] = 0.15, 1
    y[[130, 140, 150]], w[[130, 140, 150]] = 0.3, 1
    z, _, _ = fit_band(y, w, 100.0, 0.005, 0.1, 20, 0.3)
    assert z.min() >= 0.15
    assert z[88:128].min() == 0.15  # the undershoot is cut at the bare level, not moved elsewhere


def test_fit_band_drops_isolated_dips_and_estimates_the_noise():
    rng = np.random.default_rng(3)
    n = 200
    y = np.zeros(n)
    w = np.zeros(n)
    obs = np.arange(0, n, 4)
    y[obs] = 0.6 + rng.normal(0, 0.02, obs.size)
    w[obs] = 1
    y[obs[20]] = 0.2  # a missed cloud
    z, std, used = fit_band(y, w, 100.0, 0.005, 0.1)
    assert used == obs.size - 1
    assert abs(z[obs[20]] - 0.6) < 0.03
    # the band's width reflects the estimated noise, not the floor
    assert 0.005 < std[obs[10]] < 0.02
    assert std[1:4].mean() >= std[obs[10]] * 0.9


def test_a_wheat_whose_autumn_growth_the_frost_takes_back_emerged_in_the_autumn():
    """Autumn growth to 0.42, frost down to the bare level in January, green-up in March: the
    short 'season' before the winter is the wheat itself, not a crop harvested in January."""
    ndvi = bare_curve()
    t = np.arange(ndvi.size, dtype=float)
    e, top, frost = day(2021, 10, 20), day(2021, 11, 25), day(2022, 1, 20)
    greenup, peak, h = day(2022, 3, 1), day(2022, 6, 1), day(2022, 8, 1)
    ndvi[e:top] = BARE + 0.24 * smoothstep((t[e:top] - e) / 30)
    ndvi[top:frost] = 0.42 - 0.18 * smoothstep((t[top:frost] - top) / (frost - top))
    ndvi[frost:greenup] = 0.24
    ndvi[greenup:h] = 0.24 + 0.61 * smoothstep((t[greenup:h] - greenup) / (peak - greenup))
    ndvi[day(2022, 6, 25) : h] -= 0.45 * smoothstep((t[day(2022, 6, 25) : h] - day(2022, 6, 25)) / 37)
    ndvi[h:] = RESIDUE
    out = analyse(*observe(ndvi, every=10))
    assert abs(as_day(out["CPMCE"]) - e) <= 10, "the autumn rise, not the previous crop's harvest + 25 days"
    assert abs(as_day(out["CPMCH"]) - h) <= 6


def test_weeds_over_a_cloudy_winter_before_maize_are_not_a_crop_ending_the_bare_period():
    """Volunteers at 0.40 seen three times from November to April, ploughed in mid-April, maize in
    May: across the long gaps the smoother rises above a crop's NDVI, the views do not."""
    ndvi = bare_curve()
    t = np.arange(ndvi.size, dtype=float)
    crop(ndvi, day(2021, 5, 10), day(2021, 7, 25), day(2021, 9, 25), senescence=day(2021, 9, 1))
    start, plough = day(2021, 10, 10), day(2022, 4, 15)  # still spreading when ploughed in
    ndvi[start:plough] = 0.26 + 0.14 * np.sqrt((t[start:plough] - start) / (plough - start))
    e = day(2022, 5, 15)
    crop(ndvi, e, day(2022, 8, 10), day(2022, 9, 25), senescence=day(2022, 9, 1))
    gaps = ((day(2021, 10, 20), day(2021, 11, 19)), (day(2021, 11, 24), day(2022, 1, 24)),
            (day(2022, 1, 28), day(2022, 4, 3)), (day(2022, 4, 8), day(2022, 4, 18)))  # fmt: skip
    values, days = observe(ndvi, gaps=gaps)
    out = analyse(values, days)
    assert abs(as_day(out["CPMCE"]) - e) <= 8
    assert abs(out["CPBSB"] - (e - day(2022, 1, 1))) <= 10, "bare (for the HRL) from 1 January"


def test_the_observed_level_stays_between_the_edges_of_long_gaps_only():
    z = np.array([0.3, 0.45, 0.6, 0.5, 0.4, 0.2, 0.7, 0.1])
    w = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    level = k.observed_level(z, w, 3)
    np.testing.assert_allclose(level, [0.3, 0.45, 0.45, 0.45, 0.4, 0.2, 0.7, 0.1])  # 1-4 clipped, 5-7 short
    np.testing.assert_allclose(k.observed_level(z, w, 2), [0.3, 0.45, 0.45, 0.45, 0.4, 0.2, 0.2, 0.1])
    assert z[2] == 0.6, "the band itself is left as it is"


def test_a_spring_crop_still_rising_at_the_end_of_june_is_not_a_winter_crop_sown_in_the_autumn():
    """Winter barley harvested in July, bare soil over the winter (a wet dip in February), sugar
    beet rising from May and still climbing on 30 June: the bare period runs to 31 December."""
    ndvi = bare_curve()
    h = day(2022, 7, 10)
    crop(ndvi, day(2021, 10, 5), day(2022, 5, 15), h, senescence=day(2022, 6, 10),
         autumn=(day(2022, 3, 1), 0.4))  # fmt: skip
    t = np.arange(ndvi.size, dtype=float)
    wet = slice(day(2023, 2, 1), day(2023, 3, 10))
    ndvi[wet] = BARE - 0.09 * np.sin(np.pi * (t[wet] - day(2023, 2, 1)) / 37)
    rise = slice(day(2023, 4, 20), GRID.n_days)
    ndvi[rise] = BARE + 0.62 * smoothstep((t[rise] - day(2023, 4, 20)) / 80)  # not at its peak by 30 June
    out = analyse(*observe(ndvi, every=10))
    assert abs(as_day(out["CPMCH"]) - h) <= 6
    assert out["CPBSA"] == day(2022, 12, 31) - as_day(out["CPMCH"]) + 1, "no crop emerged in the autumn"
