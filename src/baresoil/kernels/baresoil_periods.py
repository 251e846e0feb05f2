"""Bare-soil periods of a parcel from per-observation classes, as Sen4CAP's L4E processor.

Three steps, each a function of plain arrays:

1. :func:`calibration_labels` — Sen4CAP's threshold calibration of parcel means:
   bare (BS) when NDVI < 0.15 and NDTI <= 0.10; not bare (NBS) when NDVI > 0.45
   and NDTI > 0.25 and FCOVER > 0.01 (all three); everything else unlabelled.
2. :func:`classify_observations` — a Random Forest (30 trees, random state 11, as
   Sen4CAP) trained on the labelled observations classifies every observation,
   with the winning class's probability as its confidence; optionally
   :func:`within_envelope` keeps its bare calls near the calibration's bare rule
   (an addition: the forest learns from the extremes only).
3. :func:`parcel_periods` — the marker state machine of Sen4CAP's ``GetPeriodsBS``
   over one parcel's dated classes: M1 (a confident BS observation starts a
   period), M2/M3 (confirmation after the start), M4 (a confident NBS observation
   ends it), M5/M6 (vegetation after the end), START/END and a confidence class,
   for up to ``n_periods`` successive periods; :func:`all_parcel_periods` runs it
   for many parcels in one compiled loop; :func:`fuse_s1` bumps an S2 period's
   class when an S1 period overlaps it and sums the bare days.
4. :func:`start_window` and :func:`s1_step_window` (not in Sen4CAP) — when each
   period most likely began, between the last observation not classified bare
   and START: the middle of those days, or the S1 interval of a backscatter step.

Deviations from Sen4CAP 4.x, on purpose (its faults):

* the "previous observation" is the parcel's own previous observation in time,
  not the data-frame row labelled ``index - 1`` (which can belong to another
  parcel or not exist);
* a period whose START is the parcel's last observation ends ``Continue`` with
  class Poor (Sen4CAP leaves END and the class undefined);
* a next period is only searched after an END that is a date;
* S1 may give no period, or be absent, without failing (:func:`fuse_s1`).

Days are integer day numbers (``datetime64[D]`` as int64); missing days and
markers are NaN in the float result arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from .cover import SOIL_MAX_NDVI

# --- calibration ------------------------------------------------------------------------------

LABEL_NONE, LABEL_NBS, LABEL_BS = -1, 0, 1


@dataclass(frozen=True)
class CalibrationThresholds:
    """Sen4CAP's S2 calibration thresholds (``s4c_bs_calibration_s2.py``)."""

    bs_ndvi: float = 0.15
    """Bare when NDVI is below this …"""
    bs_ndti: float = 0.10
    """… and NDTI at most this."""
    nbs_ndvi: float = 0.45
    """Not bare when NDVI is above this …"""
    nbs_ndti: float = 0.25
    """… and NDTI above this …"""
    nbs_fcover: float = 0.01
    """… and FCOVER above this."""


def calibration_labels(
    ndvi: np.ndarray,
    ndti: np.ndarray,
    fcover: np.ndarray | None = None,
    thresholds: CalibrationThresholds = CalibrationThresholds(),
) -> np.ndarray:
    """Per observation: LABEL_BS, LABEL_NBS or LABEL_NONE (int8); NaN inputs never label.

    ``fcover`` None (no FCOVER marker) leaves the FCOVER condition out of the NBS rule.
    """
    ndvi = np.asarray(ndvi, np.float64)
    ndti = np.asarray(ndti, np.float64)
    with np.errstate(invalid="ignore"):
        bare = (ndvi < thresholds.bs_ndvi) & (ndti <= thresholds.bs_ndti)
        green = (ndvi > thresholds.nbs_ndvi) & (ndti > thresholds.nbs_ndti)
        if fcover is not None:
            green &= np.asarray(fcover, np.float64) > thresholds.nbs_fcover
    labels = np.full(ndvi.shape, LABEL_NONE, np.int8)
    labels[green] = LABEL_NBS
    labels[bare] = LABEL_BS
    return labels


# --- per-observation classifier ---------------------------------------------------------------


@dataclass(frozen=True)
class Classified:
    """The classifier's answer for every observation (rows of the feature matrix)."""

    bare: np.ndarray
    """True where the predicted class is BS."""
    confidence: np.ndarray
    """Probability of the predicted class (0.5 … 1); NaN where the features were not all finite."""
    trained: bool
    """False when the labels lacked a class: then only labelled rows are classified (confidence 1)."""


@dataclass(frozen=True)
class ForestSettings:
    """Sen4CAP's per-observation Random Forest: its defaults are Sen4CAP's (30 trees, random state 11)."""

    trees: int = 30
    """Trees of the forest."""
    random_state: int = 11
    """Seed of the forest (and of the training subset beyond ``max_training`` rows)."""
    max_training: int = 200_000
    """Most labelled rows the forest is trained on (a random subset beyond that)."""
    min_per_class: int = 5
    """Fewer labelled rows of a class: no forest (it cannot tell the classes apart)."""


def fit_forest(
    features: np.ndarray, labels: np.ndarray, settings: ForestSettings = ForestSettings()
) -> Any | None:
    """A Random Forest (``settings``) on the labelled rows with finite features.

    At most ``settings.max_training`` rows are used (a random subset beyond that).  None when a class
    has fewer than ``settings.min_per_class`` rows: no forest can tell the classes apart.
    """
    from sklearn.ensemble import RandomForestClassifier

    x = np.asarray(features, np.float64)
    labels = np.asarray(labels)
    if x.ndim != 2 or x.shape[1] == 0 or x.shape[0] == 0:
        return None
    rows = np.flatnonzero(np.isfinite(x).all(axis=1) & (labels != LABEL_NONE))
    if min(int((labels[rows] == c).sum()) for c in (LABEL_NBS, LABEL_BS)) < max(settings.min_per_class, 1):
        return None
    if rows.size > settings.max_training:
        rng = np.random.default_rng(settings.random_state)
        rows = np.sort(rng.choice(rows, settings.max_training, replace=False))
    forest = RandomForestClassifier(n_estimators=settings.trees, random_state=settings.random_state)
    return forest.fit(x[rows], labels[rows] == LABEL_BS)


def predict_forest(forest: Any, features: np.ndarray) -> Classified:
    """The forest's class (BS or not) and its probability for every row with finite features."""
    x = np.asarray(features, np.float64)
    n = x.shape[0]
    bare = np.zeros(n, bool)
    confidence = np.full(n, np.nan)
    todo = np.flatnonzero(np.isfinite(x).all(axis=1)) if x.ndim == 2 and x.shape[1] else np.zeros(0, int)
    if todo.size:
        proba = forest.predict_proba(x[todo])
        p_bs = proba[:, list(forest.classes_).index(True)]
        bare[todo] = p_bs > 0.5
        confidence[todo] = np.maximum(p_bs, 1.0 - p_bs)
    return Classified(bare, confidence, trained=True)


def classify_observations(
    features: np.ndarray,
    labels: np.ndarray,
    trainable: np.ndarray | None = None,
    settings: ForestSettings = ForestSettings(),
) -> Classified:
    """Sen4CAP's per-observation model: a forest trained on the labelled rows (of ``trainable``
    parcels only, when given; Sen4CAP trains on parcels of at least 50 pixels) classifies every row.

    Rows with a non-finite feature are neither used nor classified (Sen4CAP drops them).
    Without a forest (a class too rare) the labelled rows keep their label with confidence 1
    and the others stay unclassified.
    """
    labels = np.asarray(labels)
    train_labels = labels if trainable is None else np.where(np.asarray(trainable, bool), labels, LABEL_NONE)
    forest = fit_forest(features, train_labels, settings)
    if forest is not None:
        return predict_forest(forest, features)
    x = np.asarray(features, np.float64)
    finite = np.isfinite(x).all(axis=1) if x.ndim == 2 and x.shape[1] else np.zeros(len(labels), bool)
    known = finite & (labels != LABEL_NONE)
    confidence = np.where(known, 1.0, np.nan)
    return Classified(known & (labels == LABEL_BS), confidence, trained=False)


@dataclass(frozen=True)
class BareEnvelope:
    """Limits a BS observation must also meet (not in Sen4CAP; see :func:`within_envelope`)."""

    max_ndti: float = np.inf
    """Crop residue raises NDTI (cellulose absorbs SWIR2): bare soil stays near the BS rule's 0.10."""
    max_fcover: float = np.inf
    """Green cover estimate."""
    max_ndvi_rise: float = np.inf
    """NDVI above the parcel's own bare level (its 10th percentile NDVI in the window): emerging or
    sparse green cover on a soil whose NDVI is already high."""
    max_ndti_rise: float = np.inf
    """NDTI above the parcel's own bare level (its 10th percentile NDTI): residue on a soil whose own
    NDTI is low, which stays under ``max_ndti`` (soils differ in NDTI by more than residue adds)."""


def parcel_low(values: np.ndarray, owner: np.ndarray, q: float = 10.0) -> np.ndarray:
    """Per row, the ``q``-th percentile of ``values`` over the rows of the same ``owner`` (NaN ignored;
    linear interpolation between order statistics, as :func:`numpy.percentile`)."""
    values = np.asarray(values, np.float64)
    out = np.full(values.shape, np.nan)
    if values.size == 0:
        return out
    _, group = np.unique(np.asarray(owner), return_inverse=True)
    group = group.ravel()
    finite = np.isfinite(values)
    rows = np.flatnonzero(finite)
    order = rows[np.lexsort((values[rows], group[rows]))]
    counts = np.bincount(group[order], minlength=int(group.max()) + 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    position = (counts[has] - 1) * q / 100.0
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, counts[has] - 1)
    sorted_values = values[order]
    low, high = sorted_values[starts[has] + below], sorted_values[starts[has] + above]
    level = np.full(counts.size, np.nan)
    level[has] = low + (position - below) * (high - low)
    return level[group].reshape(values.shape) if values.ndim else level[group][0]


def within_envelope(
    ndti: np.ndarray,
    fcover: np.ndarray | None,
    ndvi_rise: np.ndarray,
    envelope: BareEnvelope,
    ndti_rise: np.ndarray | None = None,
) -> np.ndarray:
    """True where an observation may be bare by the envelope's limits (NaN never fails a limit).

    Sen4CAP's forest learns only from the extremes (bare below NDVI 0.15, green above 0.45), so
    it calls bare everything closer to bare soil than to green vegetation: stubble and crop
    residue, ripe cereals, a winter crop with 10 % cover.  The envelope keeps the bare class
    near the calibration's bare rule; an observation outside it is taken as not bare.
    """
    ok = ~(np.asarray(ndti, np.float64) > envelope.max_ndti)
    ok &= ~(np.asarray(ndvi_rise, np.float64) > envelope.max_ndvi_rise)
    if ndti_rise is not None:
        ok &= ~(np.asarray(ndti_rise, np.float64) > envelope.max_ndti_rise)
    if fcover is not None:
        ok &= ~(np.asarray(fcover, np.float64) > envelope.max_fcover)
    return ok


# --- cover shares relative to the data's own levels (not in Sen4CAP) -----------------------------


@dataclass(frozen=True)
class CoverRules:
    """How the exposed-soil share of an observation is read from the data (see :func:`exposed_share`)."""

    min_soil: float = 0.75
    """An observation is bare when at least this share of it is exposed soil (the bare-soil definition)."""
    soil_quantile: float = 10.0
    """Percentile of a parcel's own NDVI and NDTI over all its views taken as its bare-soil level."""
    green_quantile: float = 98.0
    """Percentile of the NDVI of all views of the area taken as full green cover."""
    residue_quantile: float = 95.0
    """Percentile of the NDTI excess of the area's views without much green taken as full residue cover."""
    residue_noise: float = 1.0
    """Residue counts only beyond this many robust spreads of the NDTI excess within a parcel's views
    with little green (moisture, haze, noise): where residue's NDTI is close to the soil's, what is
    left of the excess is mostly a wet soil's, not residue."""
    max_soil_ndvi: float = SOIL_MAX_NDVI
    """Highest NDVI of a bare soil (a physical bound: soils reflect at most about twice as much in the
    near infrared as in the red); it caps each parcel's soil level, so that a parcel that never shows
    its soil in the data (grassland, a crop standing all through the window) has no bare view."""
    scale: float = 0.05
    """Spread of the exposed share (share units) over which the confidence goes from 0.73 to 0.5 and
    from 0.5 to 0.27: the confidence is ``1 / (1 + exp(-(share - min_soil) / scale))``."""


@dataclass(frozen=True)
class CoverShares:
    """Per observation: the estimated green and residue shares and the exposed-soil share."""

    green: np.ndarray
    residue: np.ndarray
    exposed: np.ndarray


def exposed_share(
    ndvi: np.ndarray,
    ndti: np.ndarray,
    owner: np.ndarray,
    rules: CoverRules = CoverRules(),
    dvi: np.ndarray | None = None,
) -> CoverShares:
    """Green, residue and exposed-soil shares of each observation from levels the data set itself.

    Rows are the views of many parcels (``owner``) of one area.  Three levels, none fixed:

    * bare soil: each parcel's own low NDVI and NDTI (``soil_quantile`` of its views); the NDVI
      level is at most ``max_soil_ndvi``, the highest a soil has: a parcel whose lowest views are
      greener never shows its soil in the data (grassland, a permanent crop, a crop standing
      throughout the window) and its views are read against that bound;
    * full green cover: the NDVI of the area's greenest views (``green_quantile``) and their NDTI;
    * full residue cover: the largest NDTI excess (``residue_quantile``) over the soil–green mixing
      line among the views with less green than a bare view may hold.

    green = (NDVI − soil NDVI) / (green NDVI − soil NDVI), or, given ``dvi`` (NIR − red), the same on
    it (see :func:`_green_by_dvi`); residue = the NDTI excess over the soil–green line as a share of
    the full-residue excess; exposed = 1 − green − residue (negative shares taken as 0).  NaN inputs
    give NaN shares.
    """
    ndvi = np.asarray(ndvi, np.float64)
    ndti = np.asarray(ndti, np.float64)
    nan = np.full(ndvi.shape, np.nan)
    finite = np.isfinite(ndvi) & np.isfinite(ndti)
    if not finite.any():
        return CoverShares(nan, nan.copy(), nan.copy())
    top = finite & (ndvi >= np.nanpercentile(ndvi[finite], rules.green_quantile))
    green_ndvi, green_ndti = float(np.median(ndvi[top])), float(np.median(ndti[top]))
    soil_ndvi = parcel_low(np.where(finite, ndvi, np.nan), owner, rules.soil_quantile)
    soil_ndti = parcel_low(np.where(finite, ndti, np.nan), owner, rules.soil_quantile)
    allowed = 1.0 - rules.min_soil
    green = None
    if dvi is not None:
        green = _green_by_dvi(np.asarray(dvi, np.float64), finite, top, soil_ndvi, owner, rules)
    if green is None:
        soil_ndvi = np.minimum(soil_ndvi, rules.max_soil_ndvi)
        with np.errstate(invalid="ignore", divide="ignore"):
            green = (ndvi - soil_ndvi) / (green_ndvi - soil_ndvi)
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = ndti - (soil_ndti + np.clip(green, 0.0, 1.0) * (green_ndti - soil_ndti))
        dry = finite & (green < allowed)
        full = np.nanpercentile(excess[dry], rules.residue_quantile) if dry.any() else np.nan
        floor = rules.residue_noise * _within_spread(excess[dry], np.asarray(owner)[dry])
        residue = (
            np.maximum(excess - floor, 0.0) / (full - floor) if full - floor > 0 else np.zeros_like(excess)
        )
    green = np.maximum(green, 0.0)
    exposed = 1.0 - green - residue
    return CoverShares(np.where(finite, green, np.nan), np.where(finite, residue, np.nan),
                       np.where(finite, exposed, np.nan))  # fmt: skip


def _green_by_dvi(
    dvi: np.ndarray,
    finite: np.ndarray,
    top: np.ndarray,
    soil_ndvi: np.ndarray,
    owner: np.ndarray,
    rules: CoverRules,
) -> np.ndarray | None:
    """Green share from the difference NIR − red, which mixes linearly with cover where NDVI does not;
    None where no parcel of the area shows its soil (there is no soil level to read it against) or the
    greenest views have no NIR − red.

    Over a dark soil a fifth of green canopy already lifts NDVI halfway to a full canopy's; NIR − red
    of a mixture is the covers' NIR − red weighted by their shares.  A parcel whose lowest NDVI is above
    ``max_soil_ndvi`` never shows its soil: its soil level is the median of the other parcels'.
    """
    finite = finite & np.isfinite(dvi)
    soil = parcel_low(np.where(finite, dvi, np.nan), owner, rules.soil_quantile)
    shows = (soil_ndvi <= rules.max_soil_ndvi) & np.isfinite(soil)
    if not shows.any():
        return None
    if not (top & finite).any():
        return None
    soil = np.where(shows, soil, float(np.median(soil[shows])))
    full = float(np.median(dvi[top & finite]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (dvi - soil) / (full - soil)


def _within_spread(values: np.ndarray, owner: np.ndarray) -> float:
    """Robust spread (1.4826 × median absolute deviation) of ``values`` about their owner's median."""
    if values.size == 0:
        return 0.0
    _, group = np.unique(owner, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    medians = np.array([np.median(values[order[a : a + n]]) for a, n in zip(starts, counts, strict=True)])
    return float(1.4826 * np.median(np.abs(values - medians[group])))


def bare_from_share(exposed: np.ndarray, rules: CoverRules = CoverRules()) -> Classified:
    """Class and confidence from the exposed-soil share: bare when at least ``min_soil``; the
    confidence is the logistic of the distance to ``min_soil`` in units of ``scale`` (NaN stays NaN)."""
    exposed = np.asarray(exposed, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        p_bare = 1.0 / (1.0 + np.exp(-(exposed - rules.min_soil) / rules.scale))
    bare = np.isfinite(exposed) & (exposed >= rules.min_soil)
    confidence = np.where(np.isfinite(exposed), np.where(bare, p_bare, 1.0 - p_bare), np.nan)
    return Classified(bare, confidence, trained=True)


def nearest_within(days: np.ndarray, targets: np.ndarray, max_gap: float) -> np.ndarray:
    """Index into sorted ``days`` of the nearest day to each target, -1 when further than ``max_gap``.

    Sen4CAP transfers S2 labels to the nearest S1 observation however far it is; the
    gap limit keeps a label from crossing a tillage or an emergence.
    """
    days = np.asarray(days, np.int64)
    targets = np.asarray(targets, np.int64)
    out = np.full(targets.shape, -1, np.int64)
    if days.size == 0 or targets.size == 0:
        return out
    right = np.clip(np.searchsorted(days, targets), 0, days.size - 1)
    left = np.clip(right - 1, 0, days.size - 1)
    pick = np.where(np.abs(days[left] - targets) <= np.abs(days[right] - targets), left, right)
    ok = np.abs(days[pick] - targets) <= max_gap
    out[ok] = pick[ok]
    return out


# --- the marker state machine -----------------------------------------------------------------

CLASSES = ("Doubtful", "Poor", "Medium", "Good", "Strong", "Strong+")
"""Confidence classes from worst to best (class code = index); Strong+ only comes from S1 fusion."""
DOUBTFUL, POOR, MEDIUM, GOOD, STRONG = 0, 1, 2, 3, 4

END_NONE, END_DATE, END_CONTINUE = 0, 1, 2
"""How a period ends: undefined, on a date, or still bare at the last observation ('Continue')."""

FIELDS = ("M1", "M2", "M3", "M4", "M5", "M6", "START", "END", "END_KIND", "CONF", "NBR_BS", "LOOK_NEXT",
          "NBR_TT", "BEFORE")  # fmt: skip
"""Columns of a period's result row (float64, NaN = undefined).  ``BEFORE`` is not Sen4CAP's: the day of
the last observation not classified bare before START (the period began after it)."""
(M1, M2, M3, M4, M5, M6, START, END, END_KIND, CONF, NBR_BS, LOOK_NEXT, NBR_TT, BEFORE) = range(len(FIELDS))


@dataclass(frozen=True)
class PeriodRules:
    """Sen4CAP's marker parameters (``s4c_bs_markers.py`` defaults for S2)."""

    thr_bs: float = 0.75
    """Least confidence of a BS observation that starts a period (and, strictly above, confirms it)."""
    thr_nbs: float = 0.80
    """Confidence above which an NBS observation ends a period."""
    p_short: int = 30
    """Days after START within which an unconfirmed period collapses to one day; also the gap
    between a period's END and the search for the next one."""
    p_long: int = 60
    """Days after START after which a period ends at its last BS date; the window after END in which
    vegetation is counted (M5, M6)."""
    n_periods: int = 3
    """How many successive periods are searched."""
    next_gap: int | None = None
    """Days after END before the next period is searched (None: ``p_short``, as Sen4CAP; 0: from the
    first view after END, so a second bare spell a month after the first is not skipped)."""


@numba.njit(cache=True)
def _one_period(
    days: np.ndarray,
    bare: np.ndarray,
    conf: np.ndarray,
    thr_bs: float,
    thr_nbs: float,
    p_short: float,
    p_long: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Sen4CAP's GetPeriodsBS over observations in date order; writes one row of FIELDS into ``out``."""
    nan = np.nan
    m1, m2, m3, m4, m5, m6 = 0.0, nan, nan, nan, nan, nan
    start = nan
    end = nan
    end_kind = END_NONE
    nbr_bs = nan
    nbr_tt = 0
    end_look = False
    look_next = False
    transition = 0.0
    last_bs = nan  # date of the last BS observation before a weak-NBS transition
    d_start = nan
    d_end = nan
    prev = nan
    before = nan  # the last observation not classified bare before START
    for i in range(days.size):
        day = float(days[i])
        bs = bare[i]
        c = conf[i]
        nbr_tt += 1
        if m1 != 1.0 and not bs:
            before = day
        if m1 != 1.0 and bs and c >= thr_bs:
            m1 = 1.0
            start = day
            d_start = day
            nbr_bs = 0.0
            prev = day
            continue
        open_period = end_kind == END_NONE
        if m1 == 1.0 and day - d_start > p_short and open_period and m2 == 0.0:
            end, end_kind = start, END_DATE  # never confirmed: a one-day period
            end_look = False
            look_next = True
        elif m1 == 1.0 and day - d_start > p_long and open_period and m4 == 0.0 and not np.isnan(last_bs):
            end, end_kind = last_bs, END_DATE
            end_look = False
            look_next = True
        elif m1 == 1.0 and open_period:
            nbr_bs += 1.0
            if np.isnan(m2):
                m2 = 0.0
                m3 = 0.0
            if bs:
                end_look = True
                m4 = 0.0
                last_bs = nan
                transition = 0.0
            if bs and c > thr_bs:
                m2 += 1.0
                m3 += 2.0
            elif bs:
                m3 += 1.0
            elif c <= thr_nbs:  # weak NBS: a possible end, remembered
                m3 -= 2.0
                transition += 2.0
                if np.isnan(last_bs):
                    last_bs = prev
        if m1 == 1.0 and end_look:
            look_next = True
            if m4 == 0.0 and (not bs) and c > thr_nbs:
                m4 = 1.0
                if np.isnan(last_bs):
                    end = prev
                else:
                    end = last_bs
                    m3 += transition
                    nbr_bs -= transition / 2.0
                end_kind = END_DATE
                d_end = end
                prev = day
                continue
            elif m4 != 1.0:
                m4 = 0.0
                d_end = d_start
            if m4 == 1.0 and day - d_end < p_long:
                if np.isnan(m5):
                    m5 = 0.0
                    m6 = 0.0
                if (not bs) and c > thr_nbs:
                    m5 += 1.0
                    m6 += 2.0
                elif not bs:
                    m6 += 1.0
                elif c > thr_bs and day - d_end < p_short:
                    m6 -= 2.0
                    if m6 <= -4.0:  # bare again soon after the end: the end is cancelled
                        m4 = 0.0
                        end, end_kind = nan, END_NONE
                        prev = day
                        continue
                else:
                    m6 -= 2.0
        prev = day

    if m1 == 1.0 and nbr_bs == 0.0 and np.isnan(m2):
        # START is the last observation: the series ends bare (Sen4CAP leaves END undefined)
        m2, m3 = 0.0, 0.0
        end, end_kind = nan, END_CONTINUE
        look_next = False
    elif m2 >= 1.0 and m4 == 0.0 and np.isnan(last_bs):
        end, end_kind = nan, END_CONTINUE
        look_next = False
    elif not np.isnan(last_bs):
        end, end_kind = last_bs, END_DATE
    if m2 == 0.0 and (np.isnan(m4) or m4 == 0.0) and end_kind != END_CONTINUE:
        end, end_kind = start, END_DATE
    klass = nan
    if m1 == 1.0 and m2 >= 3.0 and m3 >= 2.0 and m6 > 0.0:
        klass = float(STRONG)
    elif m1 == 1.0 and m2 > 0.0 and m3 >= 0.0 and m5 > 0.0:
        klass = float(GOOD)
    elif m1 == 1.0 and m2 > 0.0 and m3 >= 0.0:
        klass = float(MEDIUM)
    elif (m1 == 1.0 and m2 == 0.0 and m3 >= 0.0) or (m2 >= 0.0 and m3 <= 0.0):
        klass = float(POOR)
    if m1 == 1.0 and m3 < 0.0 and end_kind == END_DATE and end == start:
        klass = float(DOUBTFUL)
    if end_kind == END_NONE:
        klass = nan
    out[M1], out[M2], out[M3], out[M4], out[M5], out[M6] = m1, m2, m3, m4, m5, m6
    out[START], out[END], out[END_KIND], out[CONF] = start, end, end_kind, klass
    out[NBR_BS], out[LOOK_NEXT], out[NBR_TT] = nbr_bs, 1.0 if look_next else 0.0, nbr_tt
    out[BEFORE] = before if m1 == 1.0 else nan


@numba.njit(cache=True)
def _periods(
    days: np.ndarray,
    bare: np.ndarray,
    conf: np.ndarray,
    thr_bs: float,
    thr_nbs: float,
    p_short: float,
    p_long: float,
    next_gap: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Successive periods of one parcel: each next one on observations after END + next_gap.

    A later period whose search begins on a bare view has its BEFORE on the last skipped
    view when that one was not bare (a bare one: the soil was bare already, no window).
    """
    first = 0
    for p in range(out.shape[0]):
        _one_period(days[first:], bare[first:], conf[first:], thr_bs, thr_nbs, p_short, p_long, out[p])
        if out[p, M1] == 1.0 and np.isnan(out[p, BEFORE]) and first > 0 and not bare[first - 1]:
            out[p, BEFORE] = days[first - 1]
        if not (out[p, LOOK_NEXT] == 1.0 and out[p, END_KIND] == END_DATE):
            for q in range(p + 1, out.shape[0]):
                _one_period(days[:0], bare[:0], conf[:0], thr_bs, thr_nbs, p_short, p_long, out[q])
            return
        after = out[p, END] + next_gap
        while first < days.size and days[first] <= after:
            first += 1


@numba.njit(cache=True)
def _all_periods(
    offsets: np.ndarray,
    days: np.ndarray,
    bare: np.ndarray,
    conf: np.ndarray,
    thr_bs: float,
    thr_nbs: float,
    p_short: float,
    p_long: float,
    next_gap: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    for k in range(offsets.size - 1):
        a, b = offsets[k], offsets[k + 1]
        _periods(days[a:b], bare[a:b], conf[a:b], thr_bs, thr_nbs, p_short, p_long, next_gap, out[k])


def _as_days(days: np.ndarray) -> np.ndarray:
    days = np.asarray(days)
    if np.issubdtype(days.dtype, np.datetime64):
        days = days.astype("datetime64[D]")
    return days.astype(np.int64)


def parcel_periods(
    days: np.ndarray,
    bare: np.ndarray,
    confidence: np.ndarray,
    rules: PeriodRules = PeriodRules(),
) -> np.ndarray:
    """(n_periods, len(FIELDS)) markers of one parcel's observations (any order; NaN confidence dropped)."""
    offsets = np.array([0, len(np.asarray(days))], np.int64)
    return all_parcel_periods(offsets, days, bare, confidence, rules)[0]


def all_parcel_periods(
    offsets: np.ndarray,
    days: np.ndarray,
    bare: np.ndarray,
    confidence: np.ndarray,
    rules: PeriodRules = PeriodRules(),
) -> np.ndarray:
    """(parcel, n_periods, len(FIELDS)) markers; parcel k owns rows ``offsets[k]:offsets[k+1]``.

    Within a parcel the rows are put in date order and rows with a NaN confidence
    (not classified) are left out.
    """
    offsets = np.asarray(offsets, np.int64)
    days = _as_days(days)
    bare = np.asarray(bare, bool)
    confidence = np.asarray(confidence, np.float64)
    n = offsets.size - 1
    keep = np.isfinite(confidence)
    owner = np.repeat(np.arange(n), np.diff(offsets))
    order = np.lexsort((days, owner))
    order = order[keep[order]]
    new_offsets = np.concatenate([[0], np.cumsum(np.bincount(owner[order], minlength=n))]).astype(np.int64)
    out = np.full((n, rules.n_periods, len(FIELDS)), np.nan)
    _all_periods(new_offsets, days[order], bare[order], confidence[order], float(rules.thr_bs),
                 float(rules.thr_nbs), float(rules.p_short), float(rules.p_long),
                 float(rules.p_short if rules.next_gap is None else rules.next_gap), out)  # fmt: skip
    return out


# --- S1/S2 fusion and durations ---------------------------------------------------------------


def period_ends(periods: np.ndarray, last_obs: np.ndarray) -> np.ndarray:
    """(parcel, period) day each period ends for durations: END, or the last observation when it
    continues or is undefined (as Sen4CAP counts)."""
    ends = periods[..., END].copy()
    open_end = periods[..., END_KIND] != END_DATE
    return np.where(open_end, np.asarray(last_obs, np.float64)[:, None], ends)


def bare_days(periods: np.ndarray, last_obs: np.ndarray) -> np.ndarray:
    """Sen4CAP's TTdays per parcel: Σ (end − START) over started periods, a same-day period counting 1."""
    started = periods[..., M1] == 1.0
    length = period_ends(periods, last_obs) - periods[..., START]
    length = np.where(length == 0, 1.0, length)
    return np.where(started, length, 0.0).sum(axis=1)


def _middle(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Middle of the days a + 1 … b (the later one of two middles) and the half width (±)."""
    days = b - a
    earlier = np.floor((days - 1) / 2)
    return b - earlier, days - 1 - earlier


def start_window(periods: np.ndarray, area_prior: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(parcel, period) best estimate of the day each period began, and its uncertainty in days (±).

    START is the first observation seen bare, but the soil became bare on some day
    after the last observation not classified bare (``BEFORE``) and at the latest on
    START: the estimate is the middle of that window and the uncertainty its half
    width.  Without an earlier observation: START, uncertainty NaN.

    With ``area_prior``, the estimate is instead the median day, within the window, of the
    density of start days that all the windows of ``periods`` together show
    (:func:`interval_density`): what bares soil (a snowmelt, a harvest or tillage campaign)
    happens to many parcels within days, and the parcels seen on both sides of it place it
    inside the long windows of the others.  The uncertainty is then the days to the window's
    farther end.
    """
    start, before = periods[..., START], periods[..., BEFORE]
    if area_prior:
        density, first = interval_density(before, start)
        estimate, uncertainty = interval_median(before, start, density, first)
    else:
        estimate, uncertainty = _middle(before, start)
    return np.where(np.isfinite(before), estimate, start), uncertainty


def interval_density(after: np.ndarray, last: np.ndarray, iterations: int = 200) -> tuple[np.ndarray, float]:
    """Density of the day an event happened, from many censored observations of it (Turnbull's
    self-consistency estimate): event i happened on one of the days ``after[i] + 1 … last[i]``.

    Returns the density over the days ``first … first + size - 1`` (summing to 1) and ``first``;
    NaN intervals are ignored, an empty set gives an empty density.  Each iteration shares every
    interval's unit of probability among its days in proportion to the current density and
    averages; a day no interval covers keeps none, a lone interval stays uniform.
    """
    after = np.asarray(after, np.float64).ravel()
    last = np.asarray(last, np.float64).ravel()
    keep = np.isfinite(after) & np.isfinite(last) & (last > after)
    if not keep.any():
        return np.zeros(0), 0.0
    lo = after[keep].astype(np.int64) + 1
    hi = last[keep].astype(np.int64)
    first = int(lo.min())
    size = int(hi.max()) - first + 1
    lo, hi = lo - first, hi - first
    covered = np.zeros(size + 1)
    np.add.at(covered, lo, 1.0)
    np.add.at(covered, hi + 1, -1.0)
    density = (np.cumsum(covered)[:size] > 0).astype(np.float64)
    density /= density.sum()
    for _ in range(iterations):
        cumulative = np.concatenate([[0.0], np.cumsum(density)])
        share = cumulative[hi + 1] - cumulative[lo]
        weight = np.zeros(size + 1)
        np.add.at(weight, lo, 1.0 / share)
        np.add.at(weight, hi + 1, -1.0 / share)
        density = density * np.cumsum(weight)[:size] / lo.size
    return density / density.sum(), float(first)


def interval_median(
    after: np.ndarray, last: np.ndarray, density: np.ndarray, first: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per interval ``after + 1 … last``: the median day of ``density`` (from :func:`interval_density`)
    restricted to it, and the days to its farther end (±, so the interval is covered); NaN
    intervals give NaN.  Where the density holds nothing in the interval, its middle."""
    after = np.asarray(after, np.float64)
    last = np.asarray(last, np.float64)
    middle, half = _middle(after, last)
    ok = np.isfinite(after) & np.isfinite(last) & (last > after)
    if density.size == 0 or not ok.any():
        return middle, half
    cumulative = np.concatenate([[0.0], np.cumsum(density)])
    lo = np.clip(np.where(ok, after, first - 1) + 1 - first, 0, density.size).astype(np.int64)
    hi = np.clip(np.where(ok, last, first - 1) + 1 - first, 0, density.size).astype(np.int64)
    below, total = cumulative[lo], cumulative[hi] - cumulative[lo]
    # the first day by which more than half of the interval's probability has come (of two middle
    # days the later, as :func:`_middle`; the margin keeps a sum's rounding from choosing)
    k = np.searchsorted(cumulative, below + (0.5 + 1e-9) * total, side="left")
    median = first + np.clip(k, lo + 1, np.maximum(hi, lo + 1)) - 1
    usable = ok & (total > 0)
    estimate = np.where(usable, median, middle)
    spread = np.where(usable, np.maximum(estimate - (after + 1), last - estimate), half)
    return np.where(ok, estimate, middle), np.where(ok, spread, half)


def before_window(
    periods: np.ndarray, prior_day: np.ndarray, prior_bare: np.ndarray, window_start: float
) -> tuple[np.ndarray, np.ndarray]:
    """The periods with what the views before the analysis window say about the first one.

    A first period with no view not bare before START inside the window (BEFORE NaN) began
    after the parcel's last view before the window when that view was not bare: BEFORE becomes
    that day (clipped to the day before ``window_start``, the period lies in the window).  When
    that view was bare, or the parcel has no view before, the soil was (as far as the data tell)
    bare already when the window opened: those periods are returned as a (parcel, period) mask.
    ``prior_day`` (parcel,) NaN where no view; ``prior_bare`` (parcel,) bool.
    """
    out = periods.copy()
    opening = np.zeros(periods.shape[:2], bool)
    if periods.shape[1] == 0:
        return out, opening
    first = out[:, 0]
    opens = (first[:, M1] == 1.0) & np.isnan(first[:, BEFORE])
    prior_day = np.asarray(prior_day, np.float64)
    seen_not_bare = opens & np.isfinite(prior_day) & ~np.asarray(prior_bare, bool)
    first[seen_not_bare, BEFORE] = np.maximum(prior_day[seen_not_bare], window_start - 1)
    opening[:, 0] = opens & ~seen_not_bare
    return out, opening


def open_at(periods: np.ndarray, opening: np.ndarray, window_start: float) -> np.ndarray:
    """The periods with START moved to ``window_start`` where ``opening`` (parcel, period) is True: a
    period under way when the analysis window opened begins, inside the window, on its first day."""
    out = periods.copy()
    out[..., START] = np.where(np.asarray(opening, bool), window_start, out[..., START])
    return out


def lone_views(offsets: np.ndarray, bare: np.ndarray, bare_before: np.ndarray | None = None) -> np.ndarray:
    """Per row: True where the row's class differs from both its neighbours' in its parcel's series.

    Parcel k owns rows ``offsets[k]:offsets[k+1]``, in date order; a parcel's last row is never lone,
    nor its first unless ``bare_before`` (parcel,) gives the class of its view before the series
    (1 bare, 0 not bare, -1 none): that view is then the first row's earlier neighbour.
    """
    offsets = np.asarray(offsets, np.int64)
    bare = np.asarray(bare, bool)
    owner = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    same_before = np.zeros(bare.size, bool)
    same_before[1:] = owner[1:] == owner[:-1]
    same_after = np.zeros(bare.size, bool)
    same_after[:-1] = owner[:-1] == owner[1:]
    differs_before = np.zeros(bare.size, bool)
    differs_before[1:] = bare[1:] != bare[:-1]
    differs_after = np.zeros(bare.size, bool)
    differs_after[:-1] = bare[:-1] != bare[1:]
    if bare_before is not None:
        prior = np.asarray(bare_before, np.int64)
        first = offsets[:-1][np.diff(offsets) > 0]
        known = prior[owner[first]] >= 0
        first = first[known]
        same_before[first] = True
        differs_before[first] = bare[first] != (prior[owner[first]] == 1)
    return same_before & same_after & differs_before & differs_after


@numba.njit(cache=True)
def _step_intervals(
    offsets: np.ndarray,
    days: np.ndarray,
    values: np.ndarray,
    before: np.ndarray,
    start: np.ndarray,
    canopy: np.ndarray,
    min_step: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Per (parcel, period): the S1 interval of the backscatter step in before … start (see
    :func:`s1_step_window`), written as its first and last day into ``out[k, p]`` (NaN: none)."""
    for k in range(offsets.size - 1):
        d = days[offsets[k] : offsets[k + 1]]
        v = values[offsets[k] : offsets[k + 1]]
        for p in range(before.shape[1]):
            a, b = before[k, p], start[k, p]
            if d.size < 2 or not (np.isfinite(a) and np.isfinite(b)):
                continue
            lo = max(np.searchsorted(d, a, "right") - 1, 0)
            hi = min(np.searchsorted(d, b, "left"), d.size - 1)
            rise, drop = -1, -1
            for j in range(lo, hi):
                step = v[j + 1] - v[j]
                if step >= min_step and (rise < 0 or step > v[rise + 1] - v[rise]):
                    rise = j
                if step <= -min_step and (drop < 0 or step < v[drop + 1] - v[drop]):
                    drop = j
            j = drop if canopy[k, p] and drop >= 0 else (rise if rise >= 0 else drop)
            if j >= 0:
                out[k, p, 0] = max(d[j], a)
                out[k, p, 1] = min(d[j + 1], b)


def s1_step_window(
    offsets: np.ndarray,
    days: np.ndarray,
    relative_db: np.ndarray,
    periods: np.ndarray,
    min_step_db: float,
    canopy: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(parcel, period) start estimate and uncertainty (±) dated by a Sentinel-1 backscatter step
    inside the window of :func:`start_window`; NaN where S1 shows no step.

    Parcel k owns the S1 rows ``offsets[k]:offsets[k+1]`` (in date order) of ``days`` and
    ``relative_db`` (its backscatter relative to the other parcels' on the same date, which
    takes out the weather's soil moisture they share).  Tillage roughens the soil and
    raises backscatter, so the largest rise of at least ``min_step_db`` between two
    successive acquisitions dates a cultivation that bared the soil; without a rise, the
    largest drop of at least ``min_step_db`` dates a harvest that took the canopy off.
    Where ``canopy`` (parcel, period) is True, the last view not bare showed a green canopy
    (a root crop at harvest): its removal bared the soil, so the drop comes first and a
    later rise (tillage or wetting of the bare soil) does not move the date.
    The estimate is the middle of that S1 interval (clipped to the S2 window).
    """
    offsets = np.asarray(offsets, np.int64)
    out = np.full((*periods.shape[:2], 2), np.nan)
    canopy = np.zeros(periods.shape[:2], bool) if canopy is None else np.asarray(canopy, bool)
    _step_intervals(offsets, _as_days(days).astype(np.float64), np.asarray(relative_db, np.float64),
                    periods[..., BEFORE], periods[..., START], canopy, float(min_step_db), out)  # fmt: skip
    return _middle(out[..., 0], out[..., 1])


@dataclass(frozen=True)
class Fusion:
    """S2 periods confirmed by S1."""

    classes: np.ndarray
    """(parcel, S2 period) class code after the bump (NaN: no class)."""
    confirmed: np.ndarray
    """(parcel, S2 period) True where an S1 bare period overlaps the S2 period by more than 0 days
    (the class is then reported with the suffix ``_S1``)."""
    overlap_days: np.ndarray
    """(parcel,) Sen4CAP's TTdaysS1S2: total days shared by S1 and S2 periods."""


def fuse_s1(s2: np.ndarray, s2_last: np.ndarray, s1: np.ndarray | None, s1_last: np.ndarray | None) -> Fusion:
    """Bump each S2 period's class one level when an S1 bare period overlaps it.

    ``s2`` and ``s1`` are (parcel, period, FIELDS) arrays for the same parcels; ``s1``
    None or with no period means no S1 (overlap NaN, classes unchanged).
    """
    classes = s2[..., CONF].copy()
    n = s2.shape[0]
    if s1 is None or s1.shape[1] == 0 or s1_last is None:
        return Fusion(classes, np.zeros(classes.shape, bool), np.full(n, np.nan))
    s2_start, s2_end = s2[..., START], period_ends(s2, s2_last)
    s1_start, s1_end = s1[..., START], period_ends(s1, s1_last)
    both = (s2[..., M1] == 1.0)[:, :, None] & (s1[..., M1] == 1.0)[:, None, :]
    with np.errstate(invalid="ignore"):
        delta = np.minimum(s2_end[:, :, None], s1_end[:, None, :]) - np.maximum(
            s2_start[:, :, None], s1_start[:, None, :]
        )
    delta = np.where(both & np.isfinite(delta), delta, 0.0)
    overlap = np.maximum(delta, 0.0).sum(axis=(1, 2))
    confirmed = (delta > 0).any(axis=2) & np.isfinite(classes)
    classes = np.where(confirmed, np.minimum(classes + 1, len(CLASSES) - 1), classes)
    return Fusion(classes, confirmed, overlap)


def class_names(codes: np.ndarray, confirmed: np.ndarray | None = None) -> np.ndarray:
    """Class names (object array, None where undefined), suffixed ``_S1`` where confirmed by S1."""
    codes = np.asarray(codes, np.float64)
    out = np.full(codes.shape, None, dtype=object)
    for code, name in enumerate(CLASSES):
        out[codes == code] = name
    if confirmed is not None:
        for index in zip(*np.nonzero(np.asarray(confirmed, bool) & np.isfinite(codes)), strict=True):
            out[index] = f"{out[index]}_S1"
    return out
