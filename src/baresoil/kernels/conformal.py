"""Conformal calibration of prediction intervals (conformalized quantile regression, CQR).

A quantile forest's 90 % interval is the spread of the training values in the
leaves a point falls into; on new ground (a spatial block the forest has not
seen) it is often too narrow.  CQR (Romano et al. 2019) measures, on held-out
predictions, how far each observation lies outside its interval (the score:
negative inside), and widens every interval on both sides by the margin that
``level`` of the held-out scores do not exceed, the ceil((n + 1) level)-th
smallest, or narrows it where the scores are negative (intervals too wide).
Under exchangeability, new observations then fall inside with probability at
least ``level``.

The observed coverage of calibrated intervals is honest only on predictions
whose scores were not used to compute their margin: :func:`cross_fitted_margins`
gives each fold the margin of the other folds' scores.
"""

from __future__ import annotations

import math

import numpy as np


def interval_scores(observed: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """How far each observation lies outside [lower, upper]: > 0 outside, <= 0 inside (CQR's score)."""
    o, lo, hi = (np.asarray(a, np.float64) for a in (observed, lower, upper))
    return np.maximum(lo - o, o - hi)


def conformal_margin(scores: np.ndarray, level: float) -> float:
    """The margin for intervals that hold ``level`` of new observations: the ceil((n + 1) level)-th
    smallest finite score (the largest when there are too few scores for that); 0 without scores."""
    s = np.sort(np.asarray(scores, np.float64)[np.isfinite(scores)])
    if s.size == 0:
        return 0.0
    rank = min(s.size, math.ceil((s.size + 1) * level))
    return float(s[rank - 1])


def cross_fitted_margins(
    scores: np.ndarray, folds: np.ndarray, level: float
) -> tuple[np.ndarray, dict[int, float]]:
    """Per sample, the margin computed from the scores of the other folds only; and the margin per fold."""
    scores, folds = np.asarray(scores, np.float64), np.asarray(folds)
    per_fold = {int(f): conformal_margin(scores[folds != f], level) for f in np.unique(folds)}
    return np.array([per_fold[int(f)] for f in folds], np.float64), per_fold


LAB_SHARE_MOST = 0.75
"""The largest share of the residuals' variance the lab error may take: a stated error as large as the
residuals themselves contradicts them, and would shrink the intervals to nothing."""


def lab_error_factor(residuals: np.ndarray, lab_error: float) -> float:
    """The factor that takes the lab error out of intervals fitted and calibrated on lab values.

    Held-out residuals of lab values spread as sqrt(model error**2 + lab error**2); the true value
    only with the model's error, so with errors near normal every interval's width scales by
    sqrt(1 - lab error**2 / mean squared residual) (the share at most ``LAB_SHARE_MOST``).
    """
    r = np.asarray(residuals, np.float64)
    r = r[np.isfinite(r)]
    if lab_error <= 0 or r.size == 0:
        return 1.0
    spread = float(np.mean(r**2))
    share = min(lab_error**2 / spread, LAB_SHARE_MOST) if spread > 0 else LAB_SHARE_MOST
    return math.sqrt(1.0 - share)
