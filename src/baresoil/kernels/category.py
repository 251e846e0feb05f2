"""Change of agricultural category between two years, as Sen4CAP's change-detection processor.

Evidence per parcel and year (each a function of plain arrays):

* bare-soil days ``TTdaysS2`` (from the bare-soil periods, see :mod:`.baresoil_periods`);
* outliers against the crop's distribution (:func:`outlier_counts`): on each date,
  a parcel's mean (LAI in Sen4CAP; NDVI or any marker here) outside the mean ± 1.5
  standard deviations of all parcels declared with the same crop — how many
  (``count``), how many right after another (``ConsecC_stability``) and their share
  of the parcel's valid dates in percent (``Ratio_stability``);
* ``AreaVeg`` (:func:`area_under_curve`): the trapezoidal area under the NDVI
  curve resampled every 10 days, step width 10.

Scores (:func:`change_score`) depend on the category declared in the reference
year (Sen4CAP's LC codes: 1 arable land, 2 permanent crop, 3 grassland):

* grassland: +2 when bare at all; +1 when 0 < Ratio_stability < max (25, reference
  year 50); +1.5 when above max; +1 when ConsecC_stability ≥ 1 (reference year 0);
* permanent crop: +3 when bare at all; +1 when AreaVeg > 25 (reference year 50);
  +1 when Ratio_stability > 20;
* arable land: 1 when never bare, else 0.

Consolidation (:func:`predict_change`): change in the reference year when its score
is at least 2.5, in the current year when at least 3.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ARABLE, PERMANENT_CROP, GRASSLAND = 1, 2, 3
"""Sen4CAP's land-category codes (``LC`` of the declarations); 0 = other or not agricultural."""


@dataclass(frozen=True)
class Outliers:
    """Per-parcel outlier statistics of one year."""

    count: np.ndarray
    consec_count: np.ndarray
    total_non_nan: np.ndarray
    ratio_obs: np.ndarray
    """100 · count / total_non_nan; NaN for a parcel without a valid date."""


def outlier_counts(values: np.ndarray, groups: np.ndarray, nb_std: float) -> Outliers:
    """Outliers of each parcel's (parcel, date) ``values`` against its group's per-date distribution.

    The reference of a date is the mean and sample standard deviation (ddof 1) of the
    finite values of the parcels in the same group that date; a date with fewer than
    two such values has no reference and makes no outlier.  Dates with a NaN value are
    skipped and do not break a run of consecutive outliers (as Sen4CAP).
    """
    values = np.asarray(values, np.float64)
    groups = np.asarray(groups)
    n, n_dates = values.shape if values.ndim == 2 else (len(groups), 0)
    low = np.full(values.shape, np.nan)
    high = np.full(values.shape, np.nan)
    for group in np.unique(groups):
        rows = groups == group
        block = values[rows]
        finite = np.isfinite(block)
        counts = finite.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, np.where(finite, block, 0).sum(axis=0) / counts, np.nan)
            dev = np.where(finite, block - mean, 0.0)
            std = np.where(counts > 1, np.sqrt((dev**2).sum(axis=0) / (counts - 1)), np.nan)
        low[rows] = mean - nb_std * std
        high[rows] = mean + nb_std * std
    with np.errstate(invalid="ignore"):
        out = (values < low) | (values > high)
    valid = np.isfinite(values)
    count = (out & valid).sum(axis=1)
    consec = np.zeros(n, np.int64)
    for i in range(n):
        previous = False
        for j in range(n_dates):
            if not valid[i, j]:
                continue
            if out[i, j]:
                consec[i] += previous
                previous = True
            else:
                previous = False
    total = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, 100.0 * count / np.maximum(total, 1), np.nan)
    return Outliers(count, consec, total, ratio)


def area_under_curve(days: np.ndarray, values: np.ndarray, first: int, last: int, step: int = 10) -> float:
    """Trapezoidal area under ``values`` at ``days`` resampled every ``step`` days from ``first``
    to ``last`` (linear between observations, none outside them), with step width ``step``.

    Sen4CAP integrates its 10-day NDVI series this way; steps outside the observed
    span add nothing.  No valid value gives NaN.
    """
    days = np.asarray(days, np.float64)
    values = np.asarray(values, np.float64)
    ok = np.isfinite(values) & np.isfinite(days)
    if not ok.any():
        return float("nan")
    order = np.argsort(days[ok])
    d, v = days[ok][order], values[ok][order]
    steps = np.arange(first, last + 1, step, dtype=np.float64)
    inside = (steps >= d[0]) & (steps <= d[-1])
    series = np.where(inside, np.interp(steps, d, v), np.nan)
    pairs = np.isfinite(series[:-1]) & np.isfinite(series[1:])
    return float(np.sum(((series[:-1] + series[1:]) * 0.5 * step)[pairs]))


@dataclass(frozen=True)
class ChangeRules:
    """Sen4CAP's scoring parameters for one year (``s4c_change_detection.py``; the defaults are the
    current year's, :meth:`reference` gives the reference year's)."""

    grassland_ttdays_thr: float = 0.0
    grassland_ttdays_incr: float = 2.0
    grassland_ratio_min_thr: float = 0.0
    grassland_ratio_max_thr: float = 25.0
    grassland_ratio_min_incr: float = 1.0
    grassland_ratio_max_incr: float = 1.5
    grassland_consec_thr: float = 1.0
    grassland_consec_incr: float = 1.0
    permcrop_ttdays_thr: float = 0.0
    permcrop_ttdays_incr: float = 3.0
    permcrop_areaveg_thr: float = 25.0
    permcrop_areaveg_incr: float = 1.0
    permcrop_ratio_thr: float = 20.0
    permcrop_ratio_incr: float = 1.0
    arable_ttdays_thr: float = 0.0
    arable_ttdays_incr: float = 1.0

    @classmethod
    def reference(cls) -> ChangeRules:
        """The reference year's defaults (Sen4CAP's ``ref_`` site configuration)."""
        return cls(grassland_ratio_max_thr=50.0, grassland_consec_thr=0.0, permcrop_areaveg_thr=50.0)


def change_score(
    category: np.ndarray,
    ttdays: np.ndarray,
    ratio: np.ndarray,
    consec: np.ndarray,
    area_veg: np.ndarray,
    rules: ChangeRules = ChangeRules(),
) -> np.ndarray:
    """Sen4CAP's ``ChangeP<n>`` score of one year for parcels declared ``category`` in the reference
    year; NaN for other categories.  NaN evidence adds nothing (comparisons with NaN are false)."""
    category = np.asarray(category)
    ttdays, ratio, consec, area_veg = (np.asarray(a, np.float64) for a in (ttdays, ratio, consec, area_veg))
    score = np.full(category.shape, np.nan)
    with np.errstate(invalid="ignore"):
        grass = category == GRASSLAND
        s = np.zeros(category.shape)
        s += np.where(ttdays > rules.grassland_ttdays_thr, rules.grassland_ttdays_incr, 0.0)
        s += np.where((ratio > rules.grassland_ratio_min_thr) & (ratio < rules.grassland_ratio_max_thr),
                      rules.grassland_ratio_min_incr, 0.0)  # fmt: skip
        s += np.where(ratio > rules.grassland_ratio_max_thr, rules.grassland_ratio_max_incr, 0.0)
        s += np.where(consec >= rules.grassland_consec_thr, rules.grassland_consec_incr, 0.0)
        score[grass] = s[grass]
        perm = category == PERMANENT_CROP
        s = np.zeros(category.shape)
        s += np.where(ttdays > rules.permcrop_ttdays_thr, rules.permcrop_ttdays_incr, 0.0)
        s += np.where(area_veg > rules.permcrop_areaveg_thr, rules.permcrop_areaveg_incr, 0.0)
        s += np.where(ratio > rules.permcrop_ratio_thr, rules.permcrop_ratio_incr, 0.0)
        score[perm] = s[perm]
        arable = category == ARABLE
        score[arable] = np.where(ttdays[arable] == rules.arable_ttdays_thr, rules.arable_ttdays_incr, 0.0)
    return score


@dataclass(frozen=True)
class Consolidation:
    """Sen4CAP's consolidation thresholds (``s4c_change_detection_consolidation.py``)."""

    p1_threshold: float = 2.5
    p2_threshold: float = 3.0


def predict_change(
    score_p1: np.ndarray,
    score_p2: np.ndarray,
    rules: Consolidation = Consolidation(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pred_changeP1``, ``pred_changeP2`` (0/1) and their sum ``pred_change_P1_P2`` (0–2)."""
    with np.errstate(invalid="ignore"):
        p1 = (np.asarray(score_p1, np.float64) >= rules.p1_threshold).astype(np.int64)
        p2 = (np.asarray(score_p2, np.float64) >= rules.p2_threshold).astype(np.int64)
    return p1, p2, p1 + p2


def category_code(value: object) -> int:
    """Sen4CAP's LC code of a declared category given as a code or a name (0 when unknown)."""
    if isinstance(value, int | np.integer) or (isinstance(value, float) and np.isfinite(value)):
        code = int(value)
        return code if code in (ARABLE, PERMANENT_CROP, GRASSLAND) else 0
    names = {
        "arable": ARABLE, "arable_land": ARABLE, "cropland": ARABLE,
        "permanent_crop": PERMANENT_CROP, "permanent crop": PERMANENT_CROP,
        "grassland": GRASSLAND, "permanent_grassland": GRASSLAND, "permanent grassland": GRASSLAND,
    }  # fmt: skip
    text = str(value).strip().lower()
    if text.isdigit():
        return category_code(int(text))
    return names.get(text, 0)
