"""Sen4CAP's change of agricultural category: outliers, area under the NDVI curve, scores, consolidation."""

import numpy as np
import pytest

from baresoil.kernels import category as kc


def test_outliers_against_the_groups_distribution_per_date():
    typical = [[0.5, 0.5, 0.5, 0.5]] * 5
    values = np.array(
        [
            *typical,
            [0.1, 0.1, 0.5, 0.1],  # outlier on dates 0, 1 and 3 (two in a row, then one)
            [0.9, np.nan, 0.9, 0.9],  # another group: alone, no reference, never an outlier
        ]
    )
    groups = np.array(["grass"] * 6 + ["maize"])
    out = kc.outlier_counts(values, groups, nb_std=1.5)
    assert out.count.tolist() == [0] * 5 + [3, 0]
    assert out.consec_count.tolist() == [0] * 5 + [1, 0]
    assert out.total_non_nan.tolist() == [4] * 6 + [3]
    assert out.ratio_obs[5] == pytest.approx(75.0)
    # with 4 parcels one deviant value cannot leave mean ± 1.5 sd (its z is at most 3 / √4 = 1.5)
    assert kc.outlier_counts(values[2:6], np.zeros(4, int), nb_std=1.5).count.tolist() == [0, 0, 0, 0]


def test_missing_dates_do_not_break_a_run_of_outliers():
    values = np.array([[0.5] * 5] * 4 + [[0.1, np.nan, 0.1, 0.5, 0.1]])
    out = kc.outlier_counts(values, np.zeros(5, int), nb_std=1.5)
    assert out.count[4] == 3 and out.consec_count[4] == 1  # dates 0 and 2 are consecutive valid ones


def test_parcel_without_valid_dates_has_no_ratio():
    out = kc.outlier_counts(np.array([[np.nan, np.nan], [0.2, 0.3]]), np.array([1, 1]), nb_std=1.5)
    assert out.total_non_nan.tolist() == [0, 2] and np.isnan(out.ratio_obs[0])


def test_area_under_the_curve_on_ten_day_steps():
    days = np.array([0, 20, 40])
    ndvi = np.array([0.2, 0.6, 0.2])
    # steps 0, 10, 20, 30, 40: 0.2, 0.4, 0.6, 0.4, 0.2 -> trapezoids of width 10
    area = kc.area_under_curve(days, ndvi, 0, 40)
    assert area == pytest.approx(10 * (0.3 + 0.5 + 0.5 + 0.3))
    # steps outside the observations add nothing
    assert kc.area_under_curve(days, ndvi, -30, 70) == pytest.approx(area)
    assert np.isnan(kc.area_under_curve(days, np.full(3, np.nan), 0, 40))


@pytest.mark.parametrize(
    ("ttdays", "ratio", "consec", "expected"),
    [
        (0, 0, 0, 0.0),
        (10, 0, 0, 2.0),  # bare at all: +2
        (0, 10, 0, 1.0),  # 0 < ratio < 25: +1
        (0, 30, 0, 1.5),  # ratio > 25: +1.5
        (0, 25, 0, 0.0),  # exactly 25: neither
        (10, 30, 2, 4.5),  # + consecutive outliers: +1
    ],
)
def test_grassland_score_current_year(ttdays, ratio, consec, expected):
    score = kc.change_score(np.array([3]), np.array([ttdays]), np.array([ratio]), np.array([consec]),
                            np.array([np.nan]))  # fmt: skip
    assert score[0] == pytest.approx(expected)


def test_grassland_score_reference_year_thresholds():
    rules = kc.ChangeRules.reference()
    # ratio 30 is within (0, 50): +1; consecutive >= 0 always: +1
    score = kc.change_score(np.array([3]), np.array([0]), np.array([30]), np.array([0]), np.array([0]), rules)
    assert score[0] == pytest.approx(2.0)


def test_permanent_crop_and_arable_scores():
    category = np.array([2, 2, 1, 1, 0])
    score = kc.change_score(
        category,
        ttdays=np.array([5, 0, 0, 12, 5]),
        ratio=np.array([25, 10, 0, 0, 0]),
        consec=np.zeros(5),
        area_veg=np.array([30, 10, 0, 0, 0]),
    )
    assert score[:4].tolist() == [3 + 1 + 1, 0, 1, 0]  # arable: 1 only when never bare
    assert np.isnan(score[4])  # not an agricultural category: no score


def test_nan_evidence_adds_nothing():
    score = kc.change_score(np.array([3, 1]), np.full(2, np.nan), np.full(2, np.nan), np.full(2, np.nan),
                            np.full(2, np.nan))  # fmt: skip
    assert score.tolist() == [0.0, 0.0]


def test_consolidation_thresholds():
    p1, p2, both = kc.predict_change(np.array([2.5, 2.4, np.nan, 4]), np.array([3.0, 2.9, 5, np.nan]))
    assert p1.tolist() == [1, 0, 0, 1] and p2.tolist() == [1, 0, 1, 0] and both.tolist() == [2, 0, 1, 1]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (3, 3),
        ("2", 2),
        (1.0, 1),
        ("grassland", 3),
        ("Permanent grassland", 3),
        ("arable", 1),
        (7, 0),
        ("x", 0),
    ],
)
def test_category_codes(value, code):
    assert kc.category_code(value) == code
