"""Sen4CAP's bare-soil markers (L4E) on hand-made series: calibration, classifier, every marker rule.

Series are written as tokens, one observation every 5 days unless days are given:
``B`` bare with confidence 0.9 (> thr_bs 0.75), ``S`` bare at exactly 0.75, ``b`` bare at
0.7 (below thr_bs), ``N`` not bare at 0.9 (> thr_nbs 0.80), ``n`` not bare at 0.6.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from baresoil.kernels import baresoil_periods as bp

CONF = {"B": 0.9, "S": 0.75, "b": 0.7, "N": 0.9, "n": 0.6}
D0 = 18_000  # an arbitrary day number


def series(tokens: str, days: list[int] | None = None):
    marks = tokens.split()
    days_arr = np.array(days if days is not None else [5 * i for i in range(len(marks))]) + D0
    bare = np.array([m in "BSb" for m in marks])
    conf = np.array([CONF[m] for m in marks])
    return days_arr, bare, conf


def run(tokens: str, days: list[int] | None = None, **rules) -> np.ndarray:
    return bp.parcel_periods(*series(tokens, days), bp.PeriodRules(**rules))


def field(row: np.ndarray, name: str) -> float:
    return row[bp.FIELDS.index(name)]


def day(row: np.ndarray, name: str) -> float:
    return field(row, name) - D0


def klass(row: np.ndarray) -> str | None:
    code = field(row, "CONF")
    return None if np.isnan(code) else bp.CLASSES[int(code)]


# --- calibration ------------------------------------------------------------------------------


def test_calibration_thresholds_and_their_edges():
    ndvi = np.array([0.10, 0.15, 0.10, 0.10, 0.50, 0.50, 0.50, 0.45, np.nan, 0.30])
    ndti = np.array([0.10, 0.05, 0.11, np.nan, 0.30, 0.25, 0.30, 0.30, 0.05, 0.20])
    fcov = np.array([0.00, 0.00, 0.00, 0.00, 0.50, 0.50, 0.01, 0.50, 0.00, 0.20])
    labels = bp.calibration_labels(ndvi, ndti, fcov)
    expected = [bp.LABEL_BS, bp.LABEL_NONE, bp.LABEL_NONE, bp.LABEL_NONE,  # NDVI < 0.15 and NDTI <= 0.10
                bp.LABEL_NBS, bp.LABEL_NONE, bp.LABEL_NONE, bp.LABEL_NONE,  # all three strictly above
                bp.LABEL_NONE, bp.LABEL_NONE]  # fmt: skip
    assert labels.tolist() == expected


def test_calibration_without_fcover_leaves_its_condition_out():
    labels = bp.calibration_labels(np.array([0.5]), np.array([0.3]), None)
    assert labels.tolist() == [bp.LABEL_NBS]


# --- classifier -------------------------------------------------------------------------------


def _two_clouds(n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    bare = rng.normal([0.1, 0.05], 0.02, (n, 2))
    green = rng.normal([0.7, 0.3], 0.02, (n, 2))
    middle = np.array([[0.12, 0.06], [0.68, 0.29], [np.nan, 0.1]])
    x = np.vstack([bare, green, middle])
    labels = np.r_[np.full(n, bp.LABEL_BS), np.full(n, bp.LABEL_NBS), np.full(3, bp.LABEL_NONE)]
    return x, labels.astype(np.int8)


def test_forest_learns_labelled_rows_and_classifies_the_others():
    x, labels = _two_clouds()
    result = bp.classify_observations(x, labels)
    assert result.trained
    assert result.bare[-3] and not result.bare[-2]  # unlabelled rows near each cloud
    assert np.isnan(result.confidence[-1])  # a NaN feature: not classified (Sen4CAP drops the row)
    assert np.all(result.confidence[:-1] >= 0.5)
    assert result.bare[:60].all() and not result.bare[60:120].any()


def test_forest_trains_only_on_trainable_rows():
    x, labels = _two_clouds()
    trainable = np.ones(len(labels), bool)
    trainable[:60] = False  # no bare parcel large enough: no forest, labels kept as they are
    result = bp.classify_observations(x, labels, trainable=trainable)
    assert not result.trained
    assert result.bare[:60].all() and np.all(result.confidence[:120] == 1.0)
    assert np.isnan(result.confidence[-3:]).all()


def test_nearest_observation_within_a_maximum_gap():
    s1_days = np.array([0, 6, 12, 30])
    picks = bp.nearest_within(s1_days, np.array([2, 4, 20, 29, 40]), max_gap=5)
    assert picks.tolist() == [0, 1, -1, 3, -1]  # 20 is 8 days from both neighbours: no label moves
    assert bp.nearest_within(np.zeros(0), np.array([1]), 5).tolist() == [-1]


# --- M1 / START -------------------------------------------------------------------------------


def test_m1_starts_at_the_first_confident_bare_observation():
    row = run("N b b S B N N")[0]  # b (0.7) cannot start, S (exactly 0.75) can
    assert field(row, "M1") == 1 and day(row, "START") == 15


def test_no_confident_bare_observation_no_period():
    rows = run("N b n b N")
    assert field(rows[0], "M1") == 0 and np.isnan(field(rows[0], "START"))
    assert klass(rows[0]) is None and field(rows[0], "END_KIND") == bp.END_NONE


# --- M2, M3 after the start -------------------------------------------------------------------


def test_m2_counts_confident_bare_and_m3_weighs_each_observation():
    row = run("B B b B")[0]  # after START: B (+1 M2, +2 M3), b (+1 M3), B (+1, +2)
    assert field(row, "M2") == 2 and field(row, "M3") == 5
    assert field(row, "END_KIND") == bp.END_CONTINUE and klass(row) == "Medium"


def test_exactly_thr_bs_does_not_confirm():
    row = run("B S S")[0]  # S equals thr_bs: bare but not above it
    assert field(row, "M2") == 0 and field(row, "M3") == 2


# --- M4 / END ---------------------------------------------------------------------------------


def test_m4_confident_not_bare_ends_at_the_previous_observation():
    row = run("N B B B N N")[0]
    assert field(row, "M4") == 1 and day(row, "START") == 5 and day(row, "END") == 15


def test_previous_observation_is_the_parcels_own_previous_date():
    # two parcels interleaved and unsorted: each END is its own previous observation (real dates)
    d1, b1, c1 = series("N B B N", [0, 7, 19, 40])
    d2, b2, c2 = series("B B N", [3, 11, 50])
    days = np.r_[d1[::-1], d2]
    bare = np.r_[b1[::-1], b2]
    conf = np.r_[c1[::-1], c2]
    out = bp.all_parcel_periods(np.array([0, 4, 7]), days, bare, conf)
    assert out[0, 0, bp.END] - D0 == 19
    assert out[1, 0, bp.END] - D0 == 11


def test_weak_not_bare_transition_ends_at_the_last_bare_date_and_gives_back_m3():
    row = run("B B n n N N")[0]
    # n n: M3 -2 -2 (transition 4), last bare date day 5; N ends at that date and M3 gets 4 back
    assert day(row, "END") == 5 and field(row, "M3") == 2 and field(row, "M4") == 1
    assert field(row, "NBR_BS") == 4 - 2  # observations counted after START minus the transition


def test_weak_not_bare_then_end_of_series_ends_at_last_bare_date():
    row = run("B B B n n")[0]
    assert field(row, "END_KIND") == bp.END_DATE and day(row, "END") == 10 and field(row, "M4") == 0


# --- M5, M6 after the end, and the cancelled end ----------------------------------------------


def test_m5_m6_count_vegetation_after_the_end_within_p_long():
    row = run("B B B N N n N", days=[0, 5, 10, 15, 20, 25, 80])[0]
    # END day 10 (N at 15); then N at 20 (M5 1, M6 2), n at 25 (M6 3); N at 80 is past P_long
    assert field(row, "M5") == 1 and field(row, "M6") == 3


def test_bare_again_soon_after_the_end_cancels_it():
    row = run("B B B N B B B N", days=[0, 5, 10, 15, 20, 25, 30, 35])[0]
    # END 10; B at 20 and 25 within P_short: M6 -4 -> END cancelled, the period goes on to day 30
    assert field(row, "M4") == 1 and day(row, "END") == 30
    assert field(row, "M2") == 3  # the two B that cancelled the end do not confirm the period (Sen4CAP)


def test_bare_later_after_the_end_lowers_m6_without_cancelling():
    row = run("B B B N N B B", days=[0, 5, 10, 15, 50, 55, 60])[0]
    assert day(row, "END") == 10 and field(row, "M6") == 2 - 2 - 2


# --- P_short, P_long --------------------------------------------------------------------------


def test_unconfirmed_start_collapses_to_one_day_after_p_short():
    rows = run("N B N N N N N N N N")  # START day 5, no confirmation, obs at 40 is > 30 days later
    row = rows[0]
    assert day(row, "END") == day(row, "START") == 5
    assert field(row, "M2") == 0 and klass(row) == "Poor" and field(row, "LOOK_NEXT") == 1


def test_unconfirmed_start_after_weak_not_bare_is_doubtful():
    row = run("N B n N N N N N N N")[0]
    assert field(row, "M3") < 0 and day(row, "END") == 5 and klass(row) == "Doubtful"


def test_p_long_ends_a_period_at_its_last_bare_date():
    tokens = "B B B n n n n n n n n n n n n"  # weak NBS for weeks, never a confident end
    row = run(tokens)[0]
    assert field(row, "M4") == 0 and day(row, "END") == 10


def test_changing_p_short_changes_the_collapse():
    tokens = "N B N N N N N N N N"
    assert day(run(tokens, p_short=50)[0], "END") == 5  # the end of series rule still gives END = START
    assert field(run(tokens, p_short=50)[0], "LOOK_NEXT") == 0


# --- classes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ("N B B B B N N N", "Strong"),  # M2 3, M3 6, M6 4 > 0
        ("N B B N N", "Good"),  # M2 1, M5 1
        ("N B B N", "Medium"),  # M2 1, M5 undefined (nothing after the end)
        ("N B N N N N N N N N", "Poor"),  # M2 0, M3 0
        ("B B n n b n N", "Poor"),  # M2 1, M3 -1: the second Poor clause
        ("N B n N N N N N N N", "Doubtful"),  # M3 < 0 and END = START
    ],
)
def test_confidence_classes(tokens, expected):
    assert klass(run(tokens)[0]) == expected


def test_strong_needs_m6_above_zero():
    row = run("N B B B B N B B", days=[0, 5, 10, 15, 20, 25, 60, 65])[0]
    assert field(row, "M6") < 0 and klass(row) != "Strong"


# --- several periods, edges of the series -----------------------------------------------------


def test_next_period_is_searched_after_end_plus_p_short():
    tokens = "N B B N N N N N N B B N N N N N N N B B B"
    rows = run(tokens)
    assert day(rows[0], "START") == 5 and day(rows[0], "END") == 10
    # only observations after END + 30 days: B at 45 and 50 form period 2, B from 90 period 3
    assert day(rows[1], "START") == 45 and day(rows[1], "END") == 50
    assert day(rows[2], "START") == 90 and field(rows[2], "END_KIND") == bp.END_CONTINUE
    assert field(rows[2], "NBR_TT") == 4  # period 3 sees only the observations after 50 + 30


def test_bare_within_p_short_of_an_end_starts_no_period():
    rows = run("N B B N N B B N N N N N N")  # B at 25 is within 30 days of END 10
    assert field(rows[1], "M1") == 0


def test_series_that_ends_bare_continues_and_stops_the_search():
    rows = run("N N B B B")
    assert field(rows[0], "END_KIND") == bp.END_CONTINUE and field(rows[0], "LOOK_NEXT") == 0
    assert field(rows[1], "M1") == 0 and field(rows[1], "NBR_TT") == 0


def test_start_on_the_last_observation_continues_as_poor():
    row = run("N N N B")[0]
    assert day(row, "START") == 15 and field(row, "END_KIND") == bp.END_CONTINUE and klass(row) == "Poor"


def test_no_observation():
    rows = bp.parcel_periods(np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0))
    assert rows.shape == (3, len(bp.FIELDS))
    assert (rows[:, bp.M1] == 0).all() and (rows[:, bp.NBR_TT] == 0).all()


@pytest.mark.parametrize(("tokens", "m1"), [("B", 1), ("N", 0), ("b", 0)])
def test_one_observation(tokens, m1):
    row = run(tokens)[0]
    assert field(row, "M1") == m1 and field(row, "NBR_TT") == 1
    if m1:
        assert field(row, "END_KIND") == bp.END_CONTINUE and klass(row) == "Poor"


def test_unclassified_observations_are_left_out():
    days, bare, conf = series("N B N B")
    conf[1] = np.nan
    row = bp.parcel_periods(days, bare, conf)[0]
    assert day(row, "START") == 15 and field(row, "NBR_TT") == 3


def test_datetime64_days_are_accepted():
    days = np.array(["2021-03-01", "2021-03-06", "2021-03-11"], dtype="datetime64[D]")
    row = bp.parcel_periods(days, np.array([True, True, False]), np.full(3, 0.9))[0]
    assert np.datetime64(int(row[bp.START]), "D") == np.datetime64("2021-03-01")


# --- fusion with S1 and durations -------------------------------------------------------------


def _period(start: float, end: float, kind: int = bp.END_DATE, conf: float = bp.GOOD) -> np.ndarray:
    row = np.full(len(bp.FIELDS), np.nan)
    row[bp.M1], row[bp.START], row[bp.END], row[bp.END_KIND], row[bp.CONF] = 1, start, end, kind, conf
    return row


def _none() -> np.ndarray:
    row = np.full(len(bp.FIELDS), np.nan)
    row[bp.M1] = 0
    return row


def test_s1_overlap_bumps_the_class_and_counts_shared_days():
    s2 = np.array([[_period(10, 30), _period(60, 60, conf=bp.STRONG)]])
    s1 = np.array([[_period(20, 40), _period(60, 70)]])
    fusion = bp.fuse_s1(s2, np.array([100.0]), s1, np.array([100.0]))
    assert fusion.confirmed.tolist() == [[True, False]]  # the one-day S2 period shares 0 days
    assert bp.class_names(fusion.classes, fusion.confirmed).tolist() == [["Strong_S1", "Strong"]]
    assert fusion.overlap_days.tolist() == [10.0]


def test_strong_becomes_strong_plus():
    s2 = np.array([[_period(10, 30, conf=bp.STRONG)]])
    s1 = np.array([[_period(0, 40)]])
    fusion = bp.fuse_s1(s2, np.array([50.0]), s1, np.array([50.0]))
    assert bp.class_names(fusion.classes, fusion.confirmed).tolist() == [["Strong+_S1"]]


def test_continuing_periods_overlap_up_to_the_last_observation():
    s2 = np.array([[_period(10, np.nan, bp.END_CONTINUE)]])
    s1 = np.array([[_period(20, np.nan, bp.END_CONTINUE)]])
    fusion = bp.fuse_s1(s2, np.array([50.0]), s1, np.array([45.0]))
    assert fusion.overlap_days.tolist() == [25.0]


@pytest.mark.parametrize("s1", [None, np.zeros((1, 0, len(bp.FIELDS))), np.array([[_none(), _none()]])])
def test_no_s1_period_does_not_fail(s1):
    s2 = np.array([[_period(10, 30)]])
    last = None if s1 is None else np.array([50.0])
    fusion = bp.fuse_s1(s2, np.array([50.0]), s1, last)
    assert bp.class_names(fusion.classes, fusion.confirmed).tolist() == [["Good"]]
    if s1 is None or s1.shape[1] == 0:
        assert np.isnan(fusion.overlap_days).all()
    else:
        assert fusion.overlap_days.tolist() == [0.0]


def test_bare_days_count_a_same_day_period_as_one_and_continue_to_the_last_observation():
    periods = np.array([[_period(10, 10), _period(50, np.nan, bp.END_CONTINUE), _none()]])
    assert bp.bare_days(periods, np.array([70.0])).tolist() == [1.0 + 20.0]


# --- when the soil became bare ----------------------------------------------------------------


def test_before_is_the_last_view_not_classified_bare_ahead_of_start():
    # a low-confidence bare view (b) does not start the period, and it may already be bare: the
    # window opens after the last view classified not bare
    row = run("N n b B B B N N N")[0]
    assert day(row, "START") == 15 and day(row, "BEFORE") == 5
    assert np.isnan(field(run("B B B N N N")[0], "BEFORE"))  # bare from the first view
    assert np.isnan(field(run("N N N")[0], "BEFORE"))  # no period


def test_start_window_is_the_middle_of_the_days_after_the_last_green_view():
    rows = np.full((3, 1, len(bp.FIELDS)), np.nan)
    rows[:, 0, bp.START] = 30.0
    rows[0, 0, bp.BEFORE] = 20.0  # bare on one of days 21 … 30
    rows[1, 0, bp.BEFORE] = 29.0  # on day 30 itself
    estimate, uncertainty = bp.start_window(rows)
    assert estimate[:, 0].tolist() == [26.0, 30.0, 30.0]
    assert uncertainty[0, 0] == 5.0 and uncertainty[1, 0] == 0.0  # 26 - 5 = 21, 26 + 4 = 30
    assert np.isnan(uncertainty[2, 0])  # no earlier view: START, and no window


def test_interval_density_puts_the_mass_where_the_windows_overlap():
    # events seen in days 1 … 10 and in days 6 … 15: the estimate keeps them on days 6 … 10
    density, first = bp.interval_density(np.array([0.0, 5.0]), np.array([10.0, 15.0]))
    assert first == 1.0 and density.size == 15
    assert density[5:10].sum() > 0.99 and np.allclose(density[5:10], 0.2, atol=0.01)
    estimate, uncertainty = bp.interval_median(np.array([0.0, 5.0]), np.array([10.0, 15.0]), density, first)
    assert estimate.tolist() == [8.0, 8.0]  # the middle of 6 … 10, not of each window (5 and 10)
    assert uncertainty.tolist() == [7.0, 7.0]  # to the farther end: 1 and 15
    lone, first = bp.interval_density(np.array([0.0]), np.array([10.0]))
    assert np.allclose(lone, 0.1)  # one window alone: uniform
    assert bp.interval_density(np.array([np.nan]), np.array([3.0]))[0].size == 0


def test_start_window_with_the_area_prior_dates_a_long_window_by_the_short_ones():
    # three parcels bared by one event on day 20 or 21, seen within a few days by two of them; the
    # third was not seen from day 10 to day 50: the middle (31) is ten days late, the area's day is not
    rows = np.full((4, 1, len(bp.FIELDS)), np.nan)
    rows[:, 0, bp.START] = [21.0, 22.0, 50.0, 60.0]
    rows[:, 0, bp.BEFORE] = [19.0, 18.0, 10.0, np.nan]
    middle, _ = bp.start_window(rows)
    assert middle[2, 0] == 31.0
    estimate, uncertainty = bp.start_window(rows, area_prior=True)
    assert estimate[2, 0] in (20.0, 21.0) and estimate[0, 0] in (20.0, 21.0)
    assert uncertainty[2, 0] >= 29.0  # the truth may still lie anywhere in 11 … 50
    assert estimate[3, 0] == 60.0 and np.isnan(uncertainty[3, 0])  # no window: START


def test_a_later_period_opens_after_the_last_view_not_bare_among_the_skipped_ones():
    # period 1: days 5 … 15, ended by the N on day 20; the search for the next one starts after
    # END + p_short (day 45), on a bare view: its window opens on the skipped day 45
    row = run("N B B B N N N N N n B B B N N N", p_short=30)
    assert day(row[1], "START") == 50 and day(row[1], "BEFORE") == 45
    assert day(row[0], "BEFORE") == 0
    # the skipped day 45 was bare already: when the soil became bare is not known
    row = run("N B B B N N N N n B B B N N N", p_short=30)
    assert day(row[1], "START") == 50 and np.isnan(field(row[1], "BEFORE"))


def _one_window(before: float, start: float) -> np.ndarray:
    rows = np.full((1, 1, len(bp.FIELDS)), np.nan)
    rows[0, 0, bp.BEFORE], rows[0, 0, bp.START] = before, start
    return rows


def _s1_step(values: list[float], before: float, start: float, canopy: bool = False):
    days = [6 * i for i in range(len(values))]
    estimate, uncertainty = bp.s1_step_window(
        np.array([0, len(values)]), np.array(days), np.array(values), _one_window(before, start), 1.0,
        np.array([[canopy]]),
    )  # fmt: skip
    return estimate[0, 0], uncertainty[0, 0]


def test_s1_step_dates_a_tillage_rise_inside_the_s2_window():
    # S2: not bare on day 2, bare on day 28; VH rises 2 dB between the acquisitions of days 12 and 18
    estimate, uncertainty = _s1_step([-2.0, -2.2, -1.9, 0.1, 0.0, -0.2], before=2, start=28)
    assert (estimate, uncertainty) == (16.0, 3.0)  # one of days 13 … 18


def test_s1_step_prefers_a_rise_to_a_larger_drop():
    # the harvest drop (−4 dB, days 6 … 12) left stubble; the tillage rise (+1.5 dB, days 18 … 24) bared it
    estimate, _ = _s1_step([3.0, 3.0, -1.0, -1.0, 0.5, 0.5], before=0, start=30)
    assert estimate == 22.0  # days 19 … 24


def test_s1_step_after_a_green_canopy_is_its_removal():
    # sugar beet green on the last view: the harvest drop (days 7 … 12) bared the soil, the later
    # rise (wetting, a seedbed) does not move the date
    values = [4.0, 4.0, 0.0, 0.0, 1.5, 1.5]
    assert _s1_step(values, before=1, start=30, canopy=True)[0] == 10.0
    assert _s1_step(values, before=1, start=30, canopy=False)[0] == 22.0  # stubble: the tillage


def test_s1_step_dates_a_harvest_drop_without_a_rise():
    estimate, uncertainty = _s1_step([4.0, 4.1, 0.2, 0.0], before=1, start=17)
    assert (estimate, uncertainty) == (10.0, 3.0)  # days 7 … 12, after the crop was last seen


def test_s1_step_is_clipped_to_the_s2_window_and_absent_without_a_step():
    # the rise is between days 12 and 18, but S2 saw bare soil on day 15: days 13 … 15
    estimate, uncertainty = _s1_step([0.0, 0.0, 0.0, 2.0], before=10, start=15)
    assert (estimate, uncertainty) == (14.0, 1.0)
    assert np.isnan(_s1_step([0.0, 0.4, 0.0, -0.5], before=0, start=18)[0])  # noise only
    assert np.isnan(_s1_step([0.0, 3.0], before=np.nan, start=6)[0])  # no window
    assert np.isnan(_s1_step([0.0], before=0, start=6)[0])  # one acquisition: no step


# --- cover shares from the data's own levels ----------------------------------------------------

SOIL, GREEN_COVER, RESIDUE_COVER = (0.20, 0.06), (0.85, 0.33), (0.30, 0.20)
"""(NDVI, NDTI) of bare soil, full green cover and full residue cover in the synthetic area."""


def _mix(green: float, residue: float, soil=SOIL) -> tuple[float, float]:
    """Index values of a view holding these shares of green and residue (linear in the shares)."""
    s = 1.0 - green - residue
    return tuple(
        s * a + green * b + residue * c for a, b, c in zip(soil, GREEN_COVER, RESIDUE_COVER, strict=True)
    )


def _area(extra: list[tuple[str, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ten arable parcels (bare, residue and green views) plus ``extra`` (owner, green, residue)."""
    rows = []
    for k in range(10):
        soil = (SOIL[0] + 0.01 * (k - 5), SOIL[1] + 0.004 * (k - 5))  # soils differ between parcels
        rows += [(f"p{k}", *_mix(0, 0, soil))] * 6 + [(f"p{k}", *_mix(1.0, 0, soil))] * 2
        rows += [(f"p{k}", *_mix(0, r, soil)) for r in (0.2, 0.6, 1.0)] + [(f"p{k}", *_mix(0.5, 0, soil))] * 3
    rows += [(owner, *_mix(g, r)) for owner, g, r in extra]
    owner, ndvi, ndti = zip(*rows, strict=True)
    return np.array(ndvi), np.array(ndti), np.array(owner)


def test_parcel_low_is_each_owner_percentile():
    rng = np.random.default_rng(0)
    values, owner = rng.normal(size=300), rng.integers(0, 5, 300)
    values[::11] = np.nan
    low = bp.parcel_low(values, owner, 10.0)
    for k in range(5):
        assert np.allclose(low[owner == k], np.nanpercentile(values[owner == k], 10.0))


def test_exposed_share_reads_green_and_residue_from_the_area_levels():
    # parcel x: six bare views (its soil), then 20 % and 40 % green, then 40 % residue
    extra = [("x", 0.0, 0.0)] * 6 + [("x", 0.2, 0.0), ("x", 0.4, 0.0), ("x", 0.0, 0.4)]
    ndvi, ndti, owner = _area(extra)
    shares = bp.exposed_share(ndvi, ndti, owner)
    mine = shares.exposed[owner == "x"]
    assert np.allclose(mine[:6], 1.0, atol=0.02)
    assert mine[6] == pytest.approx(0.8, abs=0.03)  # a little green: still bare
    assert mine[7] == pytest.approx(0.6, abs=0.03) and mine[8] < 0.75  # more green, or residue: not bare
    assert shares.green[owner == "x"][6] == pytest.approx(0.2, abs=0.03)


def test_a_parcel_that_never_shows_its_soil_is_never_bare():
    # a meadow: never under 60 % green; its own lowest NDVI is no soil
    ndvi, ndti, owner = _area([("meadow", g, 0.0) for g in (0.6, 0.7, 0.8, 0.9, 1.0)])
    exposed = bp.exposed_share(ndvi, ndti, owner).exposed[owner == "meadow"]
    assert (exposed < 0.75).all()


def test_an_area_without_soil_has_no_bare_view():
    ndvi = np.array([0.80, 0.82, 0.85, 0.83, 0.78, 0.81])
    owner = np.array(["a", "a", "b", "b", "c", "c"])
    exposed = bp.exposed_share(ndvi, np.full(6, 0.3), owner).exposed
    assert (exposed < 0.75).all()


def test_bare_from_share_is_bare_from_the_least_soil_share_with_a_logistic_confidence():
    result = bp.bare_from_share(np.array([1.0, 0.80, 0.75, 0.70, np.nan]))
    assert result.bare.tolist() == [True, True, True, False, False]
    assert result.confidence[2] == pytest.approx(0.5)
    assert result.confidence[1] == pytest.approx(1 / (1 + np.exp(-1.0)))  # one scale above
    assert result.confidence[3] == pytest.approx(1 / (1 + np.exp(-1.0)))  # one scale below, not bare
    assert result.confidence[0] > 0.99 and np.isnan(result.confidence[4])


def _opening(before: float = np.nan) -> np.ndarray:
    periods = np.full((3, 1, len(bp.FIELDS)), np.nan)
    periods[:, 0, bp.M1] = 1.0
    periods[:, 0, bp.START] = 20.0
    periods[:, 0, bp.BEFORE] = before
    return periods


def test_before_window_dates_a_first_period_from_the_view_before_the_window():
    # parcel 0: last view before the window (day -7) not bare; 1: bare; 2: no view before
    out, opening = bp.before_window(
        _opening(), np.array([-7.0, -3.0, np.nan]), np.array([False, True, False]), 0.0
    )
    assert out[0, 0, bp.BEFORE] == -1.0  # clipped to the day before the window: it began inside
    assert opening[:, 0].tolist() == [False, True, True]
    assert np.isnan(out[1:, 0, bp.BEFORE]).all()


def test_before_window_leaves_a_period_dated_inside_the_window():
    out, opening = bp.before_window(_opening(before=12.0), np.array([-7.0] * 3), np.zeros(3, bool), 0.0)
    assert (out[:, 0, bp.BEFORE] == 12.0).all() and not opening.any()


def test_lone_views_differ_from_both_neighbours_within_their_parcel():
    bare = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1], bool)
    offsets = np.array([0, 6, 10])  # parcel 0: rows 0-5, parcel 1: rows 6-9
    lone = bp.lone_views(offsets, bare)
    # row 1 (green between two bare views) is lone; row 6 is its parcel's first, row 5 its parcel's last
    assert lone.tolist() == [False, True, False, False, False, False, False, False, False, False]
    assert bp.lone_views(np.array([0, 3]), np.array([0, 1, 0], bool)).tolist() == [False, True, False]


def test_a_lone_green_view_does_not_split_a_period():
    days = np.array([0, 10, 20, 30, 40, 55, 70, 80, 90, 100])  # clouds around day 55
    bare = np.array([0, 0, 1, 1, 1, 0, 1, 1, 1, 0], bool)
    conf = np.full(10, 0.95)
    split = bp.parcel_periods(days, bare, conf)
    assert split[0, bp.END] == 40 and split[1, bp.START] == 80  # Sen4CAP: the green view ends one period
    lone = bp.lone_views(np.array([0, 10]), bare) & ~bare
    kept = bp.parcel_periods(days, bare, np.where(lone, np.nan, conf))
    assert kept[0, bp.START] == 20 and kept[0, bp.END] == 90 and np.isnan(kept[1, bp.START])


def test_a_period_under_way_when_the_window_opened_starts_on_its_first_day():
    periods = np.full((2, 1, len(bp.FIELDS)), np.nan)
    periods[:, 0, bp.START] = [20.0, 35.0]
    moved = bp.open_at(periods, np.array([[True], [False]]), 0.0)
    assert moved[:, 0, bp.START].tolist() == [0.0, 35.0] and periods[0, 0, bp.START] == 20.0


def test_a_field_alone_under_a_crop_all_through_the_window_is_never_bare():
    # one parcel, no other in the area: its lowest view is a crop covering 45 %, not its soil
    shares = [_mix(g, 0.0) for g in (0.45, 0.45, 0.5, 0.6, 0.8, 0.95, 1.0)]
    ndvi, ndti = (np.array(v) for v in zip(*shares, strict=True))
    exposed = bp.exposed_share(ndvi, ndti, np.zeros(ndvi.size)).exposed
    assert (exposed < 0.75).all()


def test_the_view_before_the_window_is_the_first_view_s_earlier_neighbour():
    bare = np.array([0, 1, 1, 0, 0, 1], bool)
    offsets = np.array([0, 3, 6])  # parcel 0: not bare, bare, bare; parcel 1: not bare, not bare, bare
    # parcel 0's view before the window was bare: its first view (not bare) lies between two bare ones
    lone = bp.lone_views(offsets, bare, np.array([1, 1]))
    assert lone.tolist() == [True, False, False, False, False, False]
    assert not bp.lone_views(offsets, bare, np.array([-1, 0])).any()  # no view before, or not bare


def test_residue_is_read_only_beyond_the_spread_of_a_wet_soil():
    # residue whose NDTI lies close to the soil's: the soils' own NDTI varies with wetting by 0.01,
    # residue adds up to 0.03
    rows = []
    for k in range(10):
        soil = (SOIL[0] + 0.01 * (k - 5), SOIL[1])
        rows += [(f"p{k}", *_mix(1.0, 0, soil))] * 2
        rows += [(f"p{k}", soil[0], soil[1] + wet) for wet in (0.0, 0.0, 0.01, -0.01, 0.01, -0.01, 0.0)]
        rows += [(f"p{k}", soil[0], soil[1] + r) for r in (0.02, 0.03)]
    owner, ndvi, ndti = (np.array(v) for v in zip(*rows, strict=True))
    wet = (owner == "p3") & np.isclose(ndti, SOIL[1] + 0.01) & (ndvi < 0.3)
    plain = bp.exposed_share(ndvi, ndti, owner, bp.CoverRules(residue_noise=0.0)).exposed
    assert (plain[wet] < 0.75).all()  # half the largest excess: read as half residue
    noisy = bp.exposed_share(ndvi, ndti, owner).exposed
    assert (noisy[wet] >= 0.75).all()  # within about one spread of its soil: bare
    assert (noisy[(ndti >= SOIL[1] + 0.029) & (ndvi < 0.3)] < 0.75).all()  # full residue: not bare


def test_the_next_period_is_searched_from_the_first_view_after_end():
    # bare days 0-20, a cover crop days 25-40, bare again days 45-60 (25 days after END)
    days = np.arange(0, 75, 5)
    bare = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0], bool)
    conf = np.full(days.size, 0.95)
    sen4cap = bp.parcel_periods(days, bare, conf, bp.PeriodRules())
    assert sen4cap[0, bp.END] == 20 and sen4cap[1, bp.START] == 55  # searched after day 50: late
    found = bp.parcel_periods(days, bare, conf, bp.PeriodRules(next_gap=0))
    assert found[0, bp.END] == 20 and found[1, bp.START] == 45 and found[1, bp.END] == 60


def test_green_read_by_nir_minus_red_mixes_linearly_over_a_dark_soil():
    # reflectance (red, NIR) of a dark wet soil and of a full canopy; views mixed in reflectance, as
    # a field is: 20 % canopy leaves 80 % soil (bare), 40 % leaves 60 % (not bare)
    soil, canopy = np.array([0.06, 0.10]), np.array([0.03, 0.40])
    covers = [0.0] * 6 + [0.2, 0.4] + [1.0] * 4
    spectra = np.array([(1 - g) * soil + g * canopy for g in covers])
    red, nir = spectra[:, 0], spectra[:, 1]
    ndvi, dvi = (nir - red) / (nir + red), nir - red
    owner = np.array(["field"] * 8 + ["meadow"] * 4)
    ndti = np.full(ndvi.size, 0.1)
    by_dvi = bp.exposed_share(ndvi, ndti, owner, dvi=dvi)
    assert by_dvi.green[6] == pytest.approx(0.2, abs=0.01) and by_dvi.exposed[6] >= 0.75
    assert by_dvi.exposed[7] == pytest.approx(0.6, abs=0.01)
    # NDVI saturates: the same 20 % canopy reads as about half the way to the full one
    assert bp.exposed_share(ndvi, ndti, owner).exposed[6] < 0.6


def test_a_parcel_that_never_shows_its_soil_reads_green_against_the_area_soil():
    soil, canopy = np.array([0.08, 0.12]), np.array([0.03, 0.40])
    covers = [0.0] * 6 + [1.0] * 3 + [0.6, 0.7, 0.8]
    owner = np.array(["field"] * 6 + ["wood"] * 3 + ["meadow"] * 3)
    spectra = np.array([(1 - g) * soil + g * canopy for g in covers])
    red, nir = spectra[:, 0], spectra[:, 1]
    shares = bp.exposed_share((nir - red) / (nir + red), np.full(len(covers), 0.1), owner, dvi=nir - red)
    assert np.allclose(shares.green[owner == "meadow"], [0.6, 0.7, 0.8], atol=0.01)
    assert (shares.exposed[owner == "meadow"] < 0.75).all()


def test_an_area_where_no_parcel_shows_its_soil_reads_green_by_ndvi():
    # every parcel always green: no soil level for NIR − red, and noise must not read as soil
    rng = np.random.default_rng(1)
    red = 0.03 + rng.normal(0, 0.003, 40)
    nir = 0.40 + rng.normal(0, 0.005, 40)
    owner = np.repeat(["a", "b", "c", "d"], 10)
    shares = bp.exposed_share((nir - red) / (nir + red), np.full(40, 0.3), owner, dvi=nir - red)
    assert (shares.exposed < 0.75).all()


@given(
    red=st.floats(0.04, 0.25),
    ratio=st.floats(1.05, 1.6),
    covers=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8),
)
def test_green_by_nir_minus_red_recovers_the_cover_of_any_soil(red, ratio, covers):
    # a parcel whose soil shows (six bare views) beside a full canopy: each mixed view's green share
    # is its canopy cover, whatever the soil's brightness and colour
    soil, canopy = np.array([red, red * ratio]), np.array([0.03, 0.42])
    cover = np.array([0.0] * 6 + covers + [1.0] * 4)
    spectra = (1 - cover)[:, None] * soil + cover[:, None] * canopy
    r, n = spectra[:, 0], spectra[:, 1]
    owner = np.array(["field"] * (6 + len(covers)) + ["wood"] * 4)
    shares = bp.exposed_share((n - r) / (n + r), np.full(cover.size, 0.1), owner, dvi=n - r)
    mine = slice(6, 6 + len(covers))
    assert np.allclose(shares.green[mine], cover[mine], atol=1e-6)
