"""Conformal calibration of intervals: scores, margins, and margins that never see their own fold."""

import numpy as np
import pytest

from baresoil.kernels.conformal import (
    LAB_SHARE_MOST,
    conformal_margin,
    cross_fitted_margins,
    interval_scores,
    lab_error_factor,
)


def test_scores_are_the_distance_outside_the_interval():
    scores = interval_scores(np.array([0.0, 5.0, -3.0, 1.0]), np.full(4, -1.0), np.full(4, 2.0))
    np.testing.assert_allclose(scores, [-1.0, 3.0, 2.0, -1.0])


def test_margin_is_the_conformal_rank_of_the_scores():
    scores = np.arange(1.0, 20.0)  # 19 scores: ceil(20 x 0.9) = 18th smallest
    assert conformal_margin(scores, 0.9) == 18.0
    assert conformal_margin(np.array([1.0, 2.0, np.nan]), 0.9) == 2.0  # too few: the largest
    assert conformal_margin(np.array([]), 0.9) == 0.0


@pytest.mark.parametrize(("half_width", "widens"), [(0.5, True), (3.0, False)])
def test_margin_moves_intervals_to_the_stated_coverage(half_width, widens):
    """Standard normal values in [-w, w]: the margin brings the interval to +-1.645 (90 %)."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=4000)
    margin = conformal_margin(
        interval_scores(y, np.full(y.size, -half_width), np.full(y.size, half_width)), 0.9
    )
    assert (margin > 0) == widens
    assert half_width + margin == pytest.approx(1.645, abs=0.06)
    fresh = rng.normal(size=4000)
    covered = np.mean(np.abs(fresh) <= half_width + margin)
    assert covered == pytest.approx(0.90, abs=0.02)


def test_cross_fitted_margins_never_use_their_own_fold():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=60)
    folds = np.repeat(np.arange(3), 20)
    per_sample, per_fold = cross_fitted_margins(scores, folds, 0.9)
    assert per_fold[1] == conformal_margin(scores[folds != 1], 0.9)
    np.testing.assert_array_equal(per_sample[folds == 2], per_fold[2])
    # fold 0's own scores blown up: its margin is unchanged, the others' grow
    changed = scores.copy()
    changed[folds == 0] += 100
    _, again = cross_fitted_margins(changed, folds, 0.9)
    assert again[0] == per_fold[0]
    assert again[1] > per_fold[1] and again[2] > per_fold[2]


def test_lab_error_factor_known_answers():
    residuals = np.array([2.0, -2.0, 2.0, -2.0])  # mean square 4
    assert lab_error_factor(residuals, 0.0) == 1.0
    assert lab_error_factor(residuals, 1.0) == pytest.approx(np.sqrt(1 - 1 / 4))
    # a lab error as large as the residuals: capped, never a zero-width interval
    assert lab_error_factor(residuals, 3.0) == pytest.approx(np.sqrt(1 - LAB_SHARE_MOST))
    assert lab_error_factor(np.array([np.nan]), 1.0) == 1.0


def test_lab_error_factor_gives_the_true_values_coverage():
    """Lab values = truth + lab error: the interval scaled by the factor holds 90 % of the true values."""
    rng = np.random.default_rng(0)
    truth_error = rng.normal(0, 1.0, 200_000)
    lab = truth_error + rng.normal(0, 1.0, truth_error.size)
    half = np.quantile(np.abs(lab), 0.9)  # calibrated on lab values
    factor = lab_error_factor(lab, 1.0)
    assert factor == pytest.approx(np.sqrt(0.5), abs=0.01)
    assert np.mean(np.abs(truth_error) <= half * factor) == pytest.approx(0.9, abs=0.01)
