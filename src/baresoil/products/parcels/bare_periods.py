"""Bare-soil periods per parcel with a confidence class, as Sen4CAP's L4E product, from the markers table.

Input: the markers database in long form (``parcel_id, date, source, feature, mean, …,
count``; source ``S2`` or ``S1``).  Steps: the class of each S2 view — by default (not in
Sen4CAP) its exposed-soil share read against levels the data set (``parcels.bs_classifier =
"cover"``), else Sen4CAP's threshold calibration of the parcel means and a Random Forest per
observation (its bare calls kept within the bare envelope, ``parcels.bs_max_*``); the marker
state machine (M1–M6, START/END of up to 3 periods, confidence class; not in Sen4CAP: a lone view
not bare between two bare ones is left out, ``bs_skip_lone_nbs``), optionally the same on S1 with
labels transferred from S2 (nearest S1 date within ``bs_s1_max_gap_days``), then the S1
confirmation of S2 periods and the bare-soil durations, and (not in Sen4CAP) when each period most
likely began: a Sentinel-1 backscatter step between the last view not bare and START, else the
middle of those days, and the window's first day for a period under way when the window opened,
which is then its START too (START_EST, START_UNC, START_SRC).  The kernels are in
:mod:`baresoil.kernels.baresoil_periods`; this module only reshapes tables.

Outputs use Sen4CAP's column names (``L4E_BS_MarkersAll``, ``L4E_BS_MarkersS2``,
``…S1``, ``L4E_BS_S2results``) with ``parcel_id`` for the parcel: dates are
``YYYY-MM-DD`` text, END may be ``Continue``, classes are ``Doubtful`` … ``Strong``
(``<class>_S1`` when confirmed by S1), undefined values are null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd

from ...config import Config, ParcelsConfig
from ...errors import BaresoilError
from ...kernels import baresoil_periods as bp
from . import residue
from .markers import SNOW
from .tables import ParcelContext, TableProduct

MARKER_COLUMNS = ("parcel_id", "date", "source", "feature", "mean", "count")
"""Columns of the markers table this module reads."""
S1_RATIO = "VV_VH"


class MarkersTableError(BaresoilError):
    """The markers table lacks a column or a feature a product needs."""


@dataclass(frozen=True)
class BareSoilPeriods:
    """The bare-soil product of a set of parcels."""

    markers_all: pd.DataFrame
    """Sen4CAP's ``L4E_BS_MarkersAll``: parcel_id, START/END/Conf_S2_p (p = 1…3), then (not Sen4CAP's)
    START_EST_S2_p, START_UNC_S2_p and START_SRC_S2_p (when the period most likely began, ± days,
    and what dated it: see :class:`StartEstimate`), NbrTTS2,
    LastObsS2, TTdaysS2, TTdaysS1S2, START/END/Conf_S1_p (p = 1…4), NbrTTS1, LastObsS1, TTdaysS1
    (a GeoDataFrame with the parcel geometry when parcels were given)."""
    markers_s2: pd.DataFrame
    """Sen4CAP's ``L4E_BS_MarkersS2``: every marker of every S2 period."""
    markers_s1: pd.DataFrame | None
    """``L4E_BS_MarkersS1`` (None without S1 observations)."""
    observations: pd.DataFrame
    """Per observation: parcel_id, source, date, cat (calibration label BS/NBS or null), pred
    (BS/NBS), conf (probability of pred)."""
    s2_trained: bool
    """False when the S2 calibration lacked a class: only labelled observations were used."""
    s1_trained: bool | None
    """Same for S1 (None without S1)."""


def wide_means(
    markers: pd.DataFrame, source: str, features: Sequence[str], start: date | None = None,
    end: date | None = None, statistic: str = "mean",
) -> pd.DataFrame:  # fmt: skip
    """Parcel means (or another ``statistic`` column of the markers table) of ``features`` of one
    source, one row per (parcel_id, date), sorted; dates as ``datetime64[D]`` in column ``date``, plus
    ``count`` (the largest valid-pixel count of the row)."""
    missing = [c for c in (*MARKER_COLUMNS, statistic) if c not in markers.columns]
    if missing:
        raise MarkersTableError(f"markers table lacks column(s) {', '.join(missing)}")
    rows = markers[(markers["source"] == source) & markers["feature"].isin(list(features))]
    dates = pd.to_datetime(rows["date"]).to_numpy().astype("datetime64[D]")
    keep = np.ones(len(rows), bool)
    if start is not None:
        keep &= dates >= np.datetime64(start, "D")
    if end is not None:
        keep &= dates <= np.datetime64(end, "D")
    rows = rows[keep].assign(date=dates[keep])
    if rows.empty:
        return pd.DataFrame(columns=["parcel_id", "date", "count", *features])
    wide = rows.pivot_table(index=["parcel_id", "date"], columns="feature", values=statistic, aggfunc="mean")
    wide["count"] = rows.groupby(["parcel_id", "date"])["count"].max()
    wide = wide.reset_index().sort_values(["parcel_id", "date"], kind="stable").reset_index(drop=True)
    wide.columns.name = None
    return wide


def bare_soil_periods(
    markers: pd.DataFrame,
    start: date,
    end: date,
    config: Config | None = None,
    parcels: pd.DataFrame | None = None,
) -> BareSoilPeriods:
    """Sen4CAP's bare-soil periods of every parcel of ``markers`` (and of ``parcels``) in start…end.

    ``parcels`` (optional) lists parcels to report even without any observation (column
    ``parcel_id``) and, as a GeoDataFrame, gives ``markers_all`` their geometry.
    """
    params = (config or Config()).parcels
    ids = _parcel_ids(markers, parcels)
    s2, s2_trained = _classified_s2(markers, start, end, params)
    prior = _last_view_before(ids, markers, start, params)
    bare_before = np.where(np.isfinite(prior[0]), prior[1].astype(np.int64), -1)
    s2_periods, s2_last, s2_count = _periods_per_parcel(
        ids, s2, params.period_rules("s2"), params.bs_skip_lone_nbs, bare_before
    )
    began = _start_estimate(ids, s2_periods, s2, markers, start, end, prior, params)
    s2_periods = bp.open_at(s2_periods, began.source == "S2_before", _day_number(start))
    s1, s1_trained = _classified_s1(markers, start, end, params, s2)
    s1_periods = s1_last = s1_count = None
    if s1 is not None:
        s1_periods, s1_last, s1_count = _periods_per_parcel(ids, s1, params.period_rules("s1"))
    fusion = bp.fuse_s1(s2_periods, s2_last, s1_periods, s1_last)
    markers_all = _markers_all(
        ids, s2_periods, s2_last, s2_count, began, fusion, s1_periods, s1_last, s1_count, params.bs_s1_periods
    )
    if isinstance(parcels, gpd.GeoDataFrame):
        markers_all = _with_geometry(markers_all, parcels)
    observations = pd.concat([t[_OBS_COLUMNS] for t in (s2, s1) if t is not None], ignore_index=True)
    observations["date"] = _iso(observations["date"].to_numpy().astype("datetime64[D]").astype(np.int64))
    return BareSoilPeriods(
        markers_all=markers_all,
        markers_s2=_markers_detail(ids, "S2", s2_periods, s2_last, s2_count),
        markers_s1=None if s1 is None else _markers_detail(ids, "S1", s1_periods, s1_last, s1_count),
        observations=observations,
        s2_trained=s2_trained,
        s1_trained=s1_trained,
    )


# --- classification ---------------------------------------------------------------------------

_OBS_COLUMNS = ["parcel_id", "source", "date", "cat", "pred", "conf"]


def _classified_s2(
    markers: pd.DataFrame, start: date | None, end: date, params: ParcelsConfig
) -> tuple[pd.DataFrame, bool]:
    """The S2 observations with calibration label, predicted class and confidence; whether a forest
    was trained."""
    needed = sorted({"NDVI", "NDTI", *params.bs_s2_features})
    wide = wide_means(markers, "S2", needed, start, end)
    for name in ("NDVI", "NDTI"):
        if name not in wide.columns:
            raise MarkersTableError(f"markers table has no S2 feature {name!r} (the calibration needs it)")
    if params.bs_classifier == "cover":
        return _cover_classified(markers, wide, params), True
    features = [f for f in params.bs_s2_features if f in wide.columns]
    fcover = wide["FCOVER"].to_numpy(np.float64) if "FCOVER" in wide.columns else None
    labels = bp.calibration_labels(
        wide["NDVI"].to_numpy(), wide["NDTI"].to_numpy(), fcover, params.calibration()
    )
    pixels = wide.groupby("parcel_id")["count"].transform("max").to_numpy(np.float64)
    result = bp.classify_observations(
        wide[features].to_numpy(np.float64),
        labels,
        trainable=pixels >= params.bs_calib_min_pixels,
        settings=params.forest(),
    )
    rise = {
        name: wide[name].to_numpy(np.float64)
        - wide["parcel_id"].map(_bare_level(markers, name)).to_numpy(np.float64)
        for name in ("NDVI", "NDTI")
    }
    inside = bp.within_envelope(
        wide["NDTI"].to_numpy(), fcover, rise["NDVI"], params.bare_envelope(), rise["NDTI"]
    )
    # an envelope veto turns a bare call into NBS with the forest's own NBS probability (a weak NBS)
    vetoed = result.bare & ~inside
    confidence = np.where(vetoed, 1.0 - result.confidence, result.confidence)
    result = bp.Classified(result.bare & inside, confidence, result.trained)
    out = _observation_frame(wide, "S2", labels, result)
    out["trainable"] = pixels >= params.bs_calib_min_pixels
    out["ndvi"] = wide["NDVI"].to_numpy(np.float64)
    return out, result.trained


def _cover_classified(markers: pd.DataFrame, wide: pd.DataFrame, params: ParcelsConfig) -> pd.DataFrame:
    """The S2 observations of ``wide`` classified by their exposed-soil share
    (:func:`~baresoil.kernels.baresoil_periods.exposed_share`), its levels read from every view of
    the markers table (the soil and the area's covers do not change with the analysis window).
    A markers table without the ``bs_statistic`` column is read by its means.

    The calibration label (``cat``) is the confident class: BS at a confidence of at least
    ``bs_thr_bs_s2``, NBS above ``bs_thr_nbs_s2``; it trains the S1 forest."""
    rules = params.cover_rules()
    statistic = params.bs_statistic if params.bs_statistic in markers.columns else "mean"
    bands = ["B04", "B08"] if params.bs_green_index == "dvi" else []
    views = _mostly_clear(wide_means(markers, "S2", ["NDVI", "NDTI", *bands], statistic=statistic),
                          params.bs_min_clear_share)  # fmt: skip
    ndvi, ndti, owner = (views[c].to_numpy() for c in ("NDVI", "NDTI", "parcel_id"))
    has_bands = all(b in views.columns for b in bands) and bool(bands)
    dvi = (views["B08"] - views["B04"]).to_numpy(np.float64) if has_bands else None
    shares = bp.exposed_share(ndvi, ndti, owner, rules, dvi=dvi)
    exposed = pd.Series(shares.exposed, index=pd.MultiIndex.from_frame(views[["parcel_id", "date"]]))
    mine = exposed.reindex(pd.MultiIndex.from_frame(wide[["parcel_id", "date"]])).to_numpy()
    result = bp.bare_from_share(mine, rules)
    if params.bs_residue_veto > 0:
        result = _residue_vetoed(result, markers, wide, params)
    labels = np.full(len(wide), bp.LABEL_NONE, np.int8)
    labels[result.bare & (result.confidence >= params.bs_thr_bs_s2)] = bp.LABEL_BS
    labels[~result.bare & (result.confidence > params.bs_thr_nbs_s2)] = bp.LABEL_NBS
    out = _observation_frame(wide, "S2", labels, result)
    out["trainable"] = True
    out["ndvi"] = wide["NDVI"].to_numpy(np.float64)
    out["exposed"] = mine
    return out


def _residue_vetoed(
    result: bp.Classified, markers: pd.DataFrame, wide: pd.DataFrame, params: ParcelsConfig
) -> bp.Classified:
    """``result`` with the bare views the learned trees find unlikely bare days (probability below
    ``bs_residue_veto``) taken as not bare, at a confidence of one minus that probability
    (:mod:`.residue`).  The features read every mostly clear view of the markers table, as in
    training; a table without the bands is returned as it is."""
    needed = ["NDVI", "NDTI", *residue.BANDS]
    if not set(needed) <= set(markers["feature"].unique()):
        return result
    views = _mostly_clear(wide_means(markers, "S2", needed), params.bs_min_clear_share)
    probability = pd.Series(residue.bare_probability(views),
                            index=pd.MultiIndex.from_frame(views[["parcel_id", "date"]]))  # fmt: skip
    mine = probability.reindex(pd.MultiIndex.from_frame(wide[["parcel_id", "date"]])).to_numpy()
    vetoed = result.bare & (mine < params.bs_residue_veto)  # NaN (no features): no veto
    if not vetoed.any():
        return result
    confidence = np.where(vetoed, 1.0 - mine, result.confidence)
    return bp.Classified(result.bare & ~vetoed, confidence, result.trained)


def _mostly_clear(views: pd.DataFrame, min_share: float) -> pd.DataFrame:
    """The rows of ``views`` (a :func:`wide_means` table) whose clear-pixel count is at least
    ``min_share`` of their parcel's largest count."""
    largest = views.groupby("parcel_id")["count"].transform("max").to_numpy(np.float64)
    return views[views["count"].to_numpy(np.float64) >= min_share * largest]


def _bare_level(markers: pd.DataFrame, feature: str) -> pd.Series:
    """Each parcel's own bare-soil ``feature`` (NDVI, NDTI): the 10th percentile of its S2 values over
    every date of the markers table (the soil does not change with the analysis window)."""
    values = wide_means(markers, "S2", [feature])
    if values.empty or feature not in values.columns:
        return pd.Series(dtype=np.float64)
    low = bp.parcel_low(values[feature].to_numpy(), values["parcel_id"].to_numpy())
    return pd.Series(low, index=values["parcel_id"].to_numpy()).groupby(level=0).first()


def _classified_s1(
    markers: pd.DataFrame, start: date, end: date, params: ParcelsConfig, s2: pd.DataFrame
) -> tuple[pd.DataFrame | None, bool | None]:
    """The S1 observations classified by a forest trained on S2 labels moved to the nearest S1 date."""
    needed = set(params.bs_s1_features) - {S1_RATIO}
    if S1_RATIO in params.bs_s1_features:
        needed |= {"VV", "VH"}
    wide = wide_means(markers, "S1", sorted(needed), start, end)
    if wide.empty:
        return None, None
    if S1_RATIO in params.bs_s1_features and {"VV", "VH"} <= set(wide.columns):
        wide[S1_RATIO] = wide["VV"] - wide["VH"]
    features = [f for f in params.bs_s1_features if f in wide.columns]
    if not features:
        return None, None
    x = wide[features].to_numpy(np.float64)
    train_rows, train_labels = _transfer_labels(s2, wide, params)
    forest = bp.fit_forest(x[train_rows], train_labels, params.forest())
    if forest is None:
        result = bp.Classified(np.zeros(len(wide), bool), np.full(len(wide), np.nan), trained=False)
    else:
        result = bp.predict_forest(forest, x)
    labels = np.full(len(wide), bp.LABEL_NONE, np.int8)
    labels[train_rows] = train_labels  # for the record; a row labelled twice keeps the last label
    return _observation_frame(wide, "S1", labels, result), forest is not None


def _transfer_labels(
    s2: pd.DataFrame, s1: pd.DataFrame, params: ParcelsConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``s1`` nearest (within the maximum gap) to each labelled S2 observation of a
    calibration parcel, and the S2 labels (one training row per S2 label, as Sen4CAP)."""
    labelled = s2[(s2["label"] != bp.LABEL_NONE) & s2["trainable"]]
    s1_days = s1["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    s1_start = s1.groupby("parcel_id", sort=False).indices
    rows, labels = [], []
    for pid, group in labelled.groupby("parcel_id", sort=False):
        if pid not in s1_start:
            continue
        own = np.sort(s1_start[pid])
        days = group["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        pick = bp.nearest_within(s1_days[own], days, params.bs_s1_max_gap_days)
        found = pick >= 0
        rows.append(own[pick[found]])
        labels.append(group["label"].to_numpy()[found])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int8)
    return np.concatenate(rows), np.concatenate(labels).astype(np.int8)


def _observation_frame(
    wide: pd.DataFrame, source: str, labels: np.ndarray, result: bp.Classified
) -> pd.DataFrame:
    names = np.array(["NBS", "BS"], dtype=object)
    cat = np.where(labels == bp.LABEL_NONE, None, names[np.clip(labels, 0, 1)])
    pred = np.where(np.isfinite(result.confidence), names[result.bare.astype(int)], None)
    out = pd.DataFrame(
        {
            "parcel_id": wide["parcel_id"].to_numpy(),
            "source": source,
            "date": wide["date"].to_numpy().astype("datetime64[D]"),
            "cat": cat,
            "pred": pred,
            "conf": result.confidence,
            "bare": result.bare,
            "label": labels,
        }
    )
    return out


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartEstimate:
    """(parcel, S2 period) day each period most likely began, ± days, and what dated it."""

    day: np.ndarray
    uncertainty: np.ndarray
    source: np.ndarray
    """``S1_step`` (a backscatter step inside the S2 window), ``S2_window`` (the window's middle),
    ``S2_before`` (the parcel was bare when the analysis window opened, or had no view before it: the
    window's first day), ``S2_first`` (no view before START: START itself) or None (no period)."""


def _start_estimate(
    ids: np.ndarray,
    s2_periods: np.ndarray,
    s2: pd.DataFrame,
    markers: pd.DataFrame,
    start: date,
    end: date,
    prior: tuple[np.ndarray, np.ndarray],
    params: ParcelsConfig,
) -> StartEstimate:
    """When each S2 period most likely began; ``prior`` is :func:`_last_view_before`'s answer."""
    prior_day, prior_bare = prior
    window_start = _day_number(start)
    s2_periods, opening = bp.before_window(s2_periods, prior_day, prior_bare, window_start)
    s2_periods = _after_snow(ids, s2_periods, markers, start, end)
    opening &= ~np.isfinite(s2_periods[..., bp.BEFORE])  # a snowy view in the window: began after it
    day, uncertainty = bp.start_window(s2_periods, params.bs_start_area_prior)
    source = np.where(np.isfinite(uncertainty), "S2_window", "S2_first").astype(object)
    day = np.where(opening, window_start, day)
    uncertainty = np.where(opening, s2_periods[..., bp.START] - window_start, uncertainty)
    source[opening] = "S2_before"
    source[~np.isfinite(s2_periods[..., bp.START])] = None
    vh = _relative_vh(markers, start, end)
    if vh is not None and np.isfinite(params.bs_start_s1_step_db):
        position = pd.Index(ids).get_indexer(vh["parcel_id"])
        vh = vh[position >= 0].assign(position=position[position >= 0]).sort_values(["position", "date"])
        offsets = np.concatenate([[0], np.cumsum(np.bincount(vh["position"], minlength=len(ids)))])
        canopy = _ndvi_before(ids, s2_periods, s2) >= params.bs_start_canopy_ndvi
        s1_day, s1_uncertainty = bp.s1_step_window(
            offsets,
            vh["date"].to_numpy(),
            vh["relative"].to_numpy(),
            s2_periods,
            params.bs_start_s1_step_db,
            canopy,
        )
        dated = np.isfinite(s1_day)
        day, uncertainty = np.where(dated, s1_day, day), np.where(dated, s1_uncertainty, uncertainty)
        source[dated] = "S1_step"
    return StartEstimate(day, uncertainty, source)


def _last_view_before(
    ids: np.ndarray, markers: pd.DataFrame, start: date, params: ParcelsConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Per parcel of ``ids``: the day of its last classified S2 view before ``start`` (NaN: none) and
    whether that view was bare (the same classifier, on the views before the window)."""
    day = np.full(len(ids), np.nan)
    bare = np.zeros(len(ids), bool)
    dates = pd.to_datetime(markers.loc[markers["source"] == "S2", "date"]).to_numpy().astype("datetime64[D]")
    if not (dates < np.datetime64(start, "D")).any():
        return day, bare
    before, _ = _classified_s2(markers, None, start - timedelta(days=1), params)
    before = before[np.isfinite(before["conf"].to_numpy(np.float64))]
    last = before.sort_values("date", kind="stable").groupby("parcel_id").tail(1)
    position = pd.Index(ids).get_indexer(last["parcel_id"])
    keep = position >= 0
    day[position[keep]] = last["date"].to_numpy().astype("datetime64[D]").astype(np.int64)[keep]
    bare[position[keep]] = last["bare"].to_numpy(bool)[keep]
    return day, bare


SNOWY_SHARE = 0.5
"""A view of a parcel is snowy when this share of its pixels (of its largest clear count) is snow."""


def _after_snow(
    ids: np.ndarray, periods: np.ndarray, markers: pd.DataFrame, start: date, end: date
) -> np.ndarray:
    """``periods`` with BEFORE moved up to the parcel's last view under snow before START, when later.

    Soil under snow is not bare soil: a period first seen bare after a snowy view began after it
    (when the snow melted), not at a tillage before the snow.  A view is snowy when at least
    ``SNOWY_SHARE`` of the parcel's largest clear count is flagged snow.  Only START_EST uses this.
    """
    snow = wide_means(markers, "S2", [SNOW], start, end)
    if snow.empty or SNOW not in snow.columns:
        return periods
    size = wide_means(markers, "S2", ["NDVI"]).groupby("parcel_id")["count"].max()
    largest = snow["parcel_id"].map(size).fillna(np.inf).to_numpy()
    snow = snow[snow["count"].to_numpy() >= SNOWY_SHARE * largest]
    position = pd.Index(ids).get_indexer(snow["parcel_id"])
    snow = snow[position >= 0].assign(position=position[position >= 0])
    if snow.empty:
        return periods
    days = snow["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    out = periods.copy()
    first = out[..., bp.START]
    k, p = np.nonzero(np.isfinite(first))
    keys = pd.DataFrame({"position": k, "day": first[k, p].astype(np.int64), "row": np.arange(k.size)})
    seen = pd.DataFrame({"position": snow["position"].to_numpy(), "day": days,
                         "snow": days.astype(np.float64)})  # fmt: skip
    last = pd.merge_asof(keys.sort_values("day"), seen.sort_values("day"), on="day", by="position",
                         allow_exact_matches=False).sort_values("row")["snow"].to_numpy()  # fmt: skip
    out[k, p, bp.BEFORE] = np.fmax(out[k, p, bp.BEFORE], last)
    return out


def _ndvi_before(ids: np.ndarray, periods: np.ndarray, s2: pd.DataFrame) -> np.ndarray:
    """(parcel, period) S2 NDVI of the parcel on the day BEFORE of each period (NaN: none), from the
    classified S2 observations."""
    days = s2["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    table = pd.Series(
        s2["ndvi"].to_numpy(np.float64), index=pd.MultiIndex.from_arrays([s2["parcel_id"], days])
    )
    # a period without BEFORE looks up a day no observation has: NaN
    before = np.nan_to_num(periods[..., bp.BEFORE], nan=np.iinfo(np.int32).min).astype(np.int64)
    keys = pd.MultiIndex.from_arrays([np.repeat(ids, periods.shape[1]), before.ravel()])
    return table[~table.index.duplicated()].reindex(keys).to_numpy().reshape(periods.shape[:2])


MIN_PARCELS_RELATIVE = 5
"""Parcels a date needs for their median to stand for the weather of the date."""


def _relative_vh(markers: pd.DataFrame, start: date, end: date) -> pd.DataFrame | None:
    """S1 VH (dB) of each parcel and date minus the median parcel's of the date (the weather's wetting
    and drying of every field), or None without S1 VH.

    Dates with fewer than ``MIN_PARCELS_RELATIVE`` parcels are left out; when no date has
    that many (a run over a handful of parcels), VH is used as it is.
    """
    vh = wide_means(markers, "S1", ["VH"], start, end)
    vh = vh.dropna(subset=["VH"]) if "VH" in vh.columns else vh.iloc[:0]
    if vh.empty:
        return None
    by_date = vh.groupby("date")["VH"]
    enough = (by_date.transform("count") >= MIN_PARCELS_RELATIVE).to_numpy()
    if not enough.any():
        return vh.assign(relative=vh["VH"])
    vh = vh[enough]
    return vh.assign(relative=vh["VH"] - vh.groupby("date")["VH"].transform("median"))


def _periods_per_parcel(
    ids: np.ndarray,
    table: pd.DataFrame,
    rules: bp.PeriodRules,
    skip_lone_nbs: bool = False,
    bare_before: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(parcel, period, FIELDS) markers, last observation day and observation count per parcel of ``ids``;
    with ``skip_lone_nbs``, a view not bare between two bare views of its parcel is left out of the
    periods (it is still counted as an observation); ``bare_before`` (parcel: 1 bare, 0 not, -1 none)
    is the class of each parcel's last view before the window, the first view's earlier neighbour."""
    classified = table[np.isfinite(table["conf"].to_numpy(np.float64))]
    position = pd.Index(ids).get_indexer(classified["parcel_id"])
    classified = classified[position >= 0]
    position = position[position >= 0]
    days = classified["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    order = np.lexsort((days, position))
    days = days[order]
    bare = classified["bare"].to_numpy(bool)[order]
    conf = classified["conf"].to_numpy(np.float64)[order]
    counts = np.bincount(position, minlength=len(ids))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if skip_lone_nbs:
        conf = np.where(bp.lone_views(offsets, bare, bare_before) & ~bare, np.nan, conf)
    periods = bp.all_parcel_periods(offsets, days, bare, conf, rules)
    last = np.full(len(ids), np.nan)
    if days.size:
        last[counts > 0] = np.maximum.reduceat(days, offsets[:-1][counts > 0])
    return periods, last, counts


def _parcel_ids(markers: pd.DataFrame, parcels: pd.DataFrame | None) -> np.ndarray:
    if "parcel_id" not in markers.columns:
        raise MarkersTableError("markers table lacks column parcel_id")
    ids = pd.unique(markers["parcel_id"])
    if parcels is not None:
        ids = pd.unique(np.concatenate([np.asarray(parcels["parcel_id"]), np.asarray(ids)]))
    return np.asarray(ids)


def _day_number(day: date) -> float:
    return float(np.datetime64(day, "D").astype(np.int64))


def _iso(days: np.ndarray) -> np.ndarray:
    """ISO dates (object array, None for NaN) of day numbers."""
    days = np.asarray(days, np.float64)
    out = np.full(days.shape, None, dtype=object)
    ok = np.isfinite(days)
    out[ok] = np.datetime_as_string(days[ok].astype(np.int64).astype("datetime64[D]"))
    return out


def _end_text(periods: np.ndarray) -> np.ndarray:
    end = _iso(periods[..., bp.END])
    end[periods[..., bp.END_KIND] == bp.END_CONTINUE] = "Continue"
    return end


def _markers_all(
    ids: np.ndarray,
    s2: np.ndarray,
    s2_last: np.ndarray,
    s2_count: np.ndarray,
    began: StartEstimate,
    fusion: bp.Fusion,
    s1: np.ndarray | None,
    s1_last: np.ndarray | None,
    s1_count: np.ndarray | None,
    n_s1: int,
) -> pd.DataFrame:
    columns: dict[str, object] = {"parcel_id": ids}
    start2, end2 = _iso(s2[..., bp.START]), _end_text(s2)
    conf2 = bp.class_names(fusion.classes, fusion.confirmed)
    for p in range(s2.shape[1]):
        columns[f"START_S2_{p + 1}"] = start2[:, p]
        columns[f"END_S2_{p + 1}"] = end2[:, p]
        columns[f"Conf_S2_{p + 1}"] = conf2[:, p]
    for p in range(s2.shape[1]):  # not Sen4CAP's: when the period most likely began, and how sure that is
        columns[f"START_EST_S2_{p + 1}"] = _iso(began.day[:, p])
        columns[f"START_UNC_S2_{p + 1}"] = began.uncertainty[:, p]
        columns[f"START_SRC_S2_{p + 1}"] = began.source[:, p]
    columns["NbrTTS2"] = s2_count
    columns["LastObsS2"] = _iso(s2_last)
    columns["TTdaysS2"] = np.where(s2_count > 0, bp.bare_days(s2, s2_last), np.nan)
    columns["TTdaysS1S2"] = fusion.overlap_days
    if s1 is None or s1_last is None or s1_count is None:  # no S1: the same columns, empty
        s1 = np.full((len(ids), n_s1, len(bp.FIELDS)), np.nan)
        s1_last, s1_count = np.full(len(ids), np.nan), np.zeros(len(ids), np.int64)
    start1, end1, conf1 = _iso(s1[..., bp.START]), _end_text(s1), bp.class_names(s1[..., bp.CONF])
    for p in range(s1.shape[1]):
        columns[f"START_S1_{p + 1}"] = start1[:, p]
        columns[f"END_S1_{p + 1}"] = end1[:, p]
        columns[f"Conf_S1_{p + 1}"] = conf1[:, p]
    columns["NbrTTS1"] = s1_count
    columns["LastObsS1"] = _iso(s1_last)
    columns["TTdaysS1"] = np.where(s1_count > 0, bp.bare_days(s1, s1_last), np.nan)
    return pd.DataFrame(columns)


def _markers_detail(
    ids: np.ndarray, sat: str, periods: np.ndarray | None, last: np.ndarray | None, count: np.ndarray | None
) -> pd.DataFrame:
    assert periods is not None and last is not None and count is not None
    columns: dict[str, object] = {"parcel_id": ids, f"NbrTT{sat}": count, f"LastObs{sat}": _iso(last)}
    start, end, conf = _iso(periods[..., bp.START]), _end_text(periods), bp.class_names(periods[..., bp.CONF])
    for p in range(periods.shape[1]):
        for m, field in enumerate((bp.M1, bp.M2, bp.M3, bp.M4, bp.M5, bp.M6), start=1):
            columns[f"M{m}_{sat}_{p + 1}"] = periods[:, p, field]
        columns[f"STARTBS_{sat}_{p + 1}"] = start[:, p]
        columns[f"ENDBS_{sat}_{p + 1}"] = end[:, p]
        columns[f"Conf_{sat}_{p + 1}"] = conf[:, p]
        columns[f"Nbr{sat}BS_{p + 1}"] = periods[:, p, bp.NBR_BS]
        columns[f"Look_next{sat}_{p + 1}"] = periods[:, p, bp.LOOK_NEXT] == 1.0
    return pd.DataFrame(columns)


def _with_geometry(table: pd.DataFrame, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    shapes = parcels[["parcel_id", parcels.geometry.name]].drop_duplicates("parcel_id")
    merged = table.merge(shapes, on="parcel_id", how="left")
    return gpd.GeoDataFrame(merged, geometry=parcels.geometry.name, crs=parcels.crs)


# --- as a table product of ``baresoil parcels`` -------------------------------------------------


def bare_soil_tables(context: ParcelContext) -> dict[str, pd.DataFrame]:
    """The bare-soil tables of a parcel run (see :mod:`.tables`): ``bare_soil_periods`` (Sen4CAP's
    MarkersAll, with geometry), ``bare_soil_markers_s2`` (and ``_s1``) and ``bare_soil_observations``."""
    result = bare_soil_periods(
        context.markers, context.period.start, context.period.end, context.config, context.parcels.frame
    )
    tables = {"bare_soil_periods": result.markers_all, "bare_soil_markers_s2": result.markers_s2}
    if result.markers_s1 is not None:
        tables["bare_soil_markers_s1"] = result.markers_s1
    tables["bare_soil_observations"] = result.observations
    return tables


BARE_SOIL_PRODUCT = TableProduct(
    "bare_soil",
    "Bare-soil periods",
    "Sen4CAP L4E: per parcel up to 3 S2 bare-soil periods (START, END, confidence Strong … Doubtful, "
    "suffixed _S1 when an S1 period overlaps), bare days (TTdaysS2, TTdaysS1S2), the markers M1–M6 of "
    "every period, and the class and confidence of every observation.",
    bare_soil_tables,
)
"""Register with :func:`.tables.register_table_product` to have ``baresoil parcels`` write these tables."""


__all__ = [
    "BARE_SOIL_PRODUCT",
    "BareSoilPeriods",
    "MarkersTableError",
    "bare_soil_periods",
    "bare_soil_tables",
    "wide_means",
]
