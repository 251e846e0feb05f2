"""Parcel heterogeneity as Sen4CAP's L4D product: is a declared parcel farmed as one field?

By default (``parcels.hete_method = "zones"``, not in Sen4CAP) each parcel's pixels are split in
two zones by their NDVI course over the window (the dates on which most of the parcel is clear),
and the zones' separation on each date is measured in units of their own spread
(:func:`baresoil.kernels.heterogeneity.split_zones`): C_INDEX follows from the number of dates on
which the zones differ, and ZONE_SHARE, ZONE_SEP and ZONE_DATES say how.

With ``hete_method = "sen4cap"``, Sen4CAP's processing: each pixel's 10-day series of B02, B03,
B04, B08 and NDVI (clear observations only, linear between them, gaps over 30 days left open); per
30-day period the 3 ten-day images of every parcel pixel of the area are clustered together
(MiniBatchKMeans, 12 clusters by default where Sen4CAP has 4, in Sen4CAP's units: reflectance ×
10000, NDVI × 1000); per parcel, isolated pixels are removed, connectivity is measured and the
markers M1..M4 follow; a parcel is then rated over sliding windows of 3 periods (C_INDEX,
P_Hete_L).  Optional Sentinel-1 (VV, VH in dB, 7-day steps, 4 images per period, 5 clusters) gives
M5..M7 per period with either method.  The kernels are in :mod:`baresoil.kernels.heterogeneity`.

Memory: the NDVI of the window's dates (``zones``) or the 10-day series (``sen4cap``: steps ×
pixels × 5 float64) of the parcel pixels is held at once.  With ``zones``, ``baresoil parcels`` keeps the
parcel pixels' NDVI of every date from the markers pass (:class:`.tables.PixelNdvi`): the scenes are
read once for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from ...config import Config, ParcelsConfig
from ...kernels import heterogeneity as kh
from ...kernels.category import category_code
from ...kernels.indices import ndvi as ndvi_index
from ..apply import Input, Lazy, compute, per_chunk
from .category import category_of_crop
from .tables import ParcelContext, PixelNdvi, TableProduct

REFLECTANCE_SCALE = 10_000.0
NDVI_SCALE = 1_000.0
"""Sen4CAP clusters L2A reflectance in DN (× 10000) and NDVI × 1000; distances depend on the units."""
DECISION_COLUMNS = ("parcel_id", "LC", "ShapeInd", "M1", "M2", "M3", "M4", "P_Hete_L", "C_INDEX", "HoleS2",
                    "HoleS2_PM", "ZONE_SHARE", "ZONE_SEP", "ZONE_DATES")  # fmt: skip
"""Sen4CAP's ``L4D_HeteDecisionS2`` columns (``parcel_id`` for NewID), then the two-zone split's (not
Sen4CAP's): the smaller zone's share of the pixels, the zones' largest separation and on how many dates
they differ (``hete_method = "zones"``; NaN with ``"sen4cap"``, whose M1–M4 are NaN with ``"zones"``)."""
ZONE_PERIOD_COLUMNS = ("ZONE_SEP", "ZONE_DATES")
"""Per-period columns of the two-zone split: the zones' largest separation in the period and on how many
of its dates they differ."""


@dataclass(frozen=True)
class Heterogeneity:
    """The heterogeneity product of a set of parcels."""

    decision: pd.DataFrame
    """One row per parcel, :data:`DECISION_COLUMNS`."""
    periods_s2: pd.DataFrame
    """One row per parcel and S2 period: parcel_id, period (1 …), period_start, then Sen4CAP's
    per-period S2 columns (Hete, clP_k, cl_k, distNDVI, Compact, CompactA, M1..M4, HoleS2, HoleS2Part)."""
    periods_s1: pd.DataFrame | None
    """The same with the S1 columns (M5..M7), when S1 was given."""


@dataclass(frozen=True)
class _Pixels:
    """The parcel pixels of the cube: flat index, row, col, parcel code."""

    flat: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    codes: np.ndarray


def heterogeneity(
    cube: xr.Dataset,
    parcel_codes: np.ndarray | xr.DataArray,
    start: date,
    end: date,
    config: Config | None = None,
    parcels: pd.DataFrame | None = None,
    s1: xr.Dataset | None = None,
    pixel_ndvi: PixelNdvi | None = None,
) -> Heterogeneity:
    """Sen4CAP's heterogeneity of every parcel in ``parcel_codes`` (y, x; 0 = no parcel) over start…end.

    ``cube`` is the observation cube on the same grid (reflectance, ``clear``).
    ``parcels`` (optional) maps codes to ids and gives areas, categories and shapes:
    columns ``code``, ``parcel_id`` and optionally ``area_m2``, ``category``, geometry;
    every parcel listed gets a decision row, even without pixels (C_INDEX NO).
    ``s1`` (optional) holds ``VV`` and ``VH`` backscatter in dB (time, y, x) on the same grid.
    ``pixel_ndvi`` (optional), the parcel pixels' NDVI on the cube's dates, saves the zones reading
    the cube again.
    """
    params = (config or Config()).parcels
    codes = np.asarray(parcel_codes.values if isinstance(parcel_codes, xr.DataArray) else parcel_codes)
    pixels = _parcel_pixels(codes)
    resolution = _resolution(cube)
    info = _parcel_info(parcels, pixels, resolution)
    if params.hete_method == "zones":
        days, values = _window_ndvi(cube, pixels, start, end, pixel_ndvi)
        decision, periods_s2 = _zone_decision(days, values, pixels, start, info, params)
    else:
        s2_steps = _steps(start, end, params.hete_s2_step_days)
        series = _s2_series(cube, pixels, s2_steps, params)
        periods_s2 = _period_tables(series, s2_steps, start, end, pixels, info, params, sensor="s2")
        n_periods = _n_periods(start, end, params.hete_period_days)
        decision = _decision(periods_s2, info, n_periods, params)
    periods_s1 = None
    if s1 is not None:
        s1_steps = _steps(start, end, params.hete_s1_step_days)
        s1_series = _s1_series(s1, pixels, s1_steps, params)
        periods_s1 = _period_tables(s1_series, s1_steps, start, end, pixels, info, params, sensor="s1")
    return Heterogeneity(decision, periods_s2, periods_s1)


# --- pixels and series ------------------------------------------------------------------------


def _resolution(cube: xr.Dataset) -> float:
    """Pixel side in metres: the cube's ``resolution`` attribute, else the spacing of ``x``."""
    if "resolution" in cube.attrs:
        return float(cube.attrs["resolution"])
    x = np.asarray(cube["x"].values, np.float64)
    return float(abs(x[1] - x[0])) if x.size > 1 else 10.0


def _parcel_pixels(codes: np.ndarray) -> _Pixels:
    flat = np.flatnonzero(codes.ravel() > 0)
    rows, cols = np.divmod(flat, codes.shape[1])
    return _Pixels(flat, rows, cols, codes.ravel()[flat].astype(np.int64))


def _steps(start: date, end: date, step: int) -> np.ndarray:
    first = np.datetime64(start, "D").astype(np.int64)
    last = np.datetime64(end, "D").astype(np.int64)
    return np.arange(first, last + 1, step, dtype=np.int64)


def _n_periods(start: date, end: date, period_days: int) -> int:
    return int(((end - start).days + 1 + period_days - 1) // period_days)


def _obs_days(data: xr.Dataset) -> np.ndarray:
    return data.time.values.astype("datetime64[D]").astype(np.int64)


def _resample(values: xr.DataArray, days: np.ndarray, steps: np.ndarray, max_dist: float) -> Lazy:
    """(step, y, x) lazily: each chunk's pixels resampled on the constant steps."""

    def kernel(series: np.ndarray, *, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        return {"steps": kh.step_interpolate(days, series, steps, max_dist)}

    names = [str(step) for step in steps]
    out = per_chunk(kernel, [Input(values.data, "tyx")], {"steps": len(steps)}, y=values.y, x=values.x,
                    bands=names)["steps"]  # fmt: skip
    return out.data if out.ndim == 3 else out.data[None]


def _s2_series(cube: xr.Dataset, pixels: _Pixels, steps: np.ndarray, params: ParcelsConfig) -> np.ndarray:
    """(step, pixel, feature) 10-day series of the parcel pixels: the bands (× 10000), then NDVI (× 1000)."""
    clear = cube["clear"]
    days = _obs_days(cube)
    lazy = [_resample(cube[b].where(clear) * REFLECTANCE_SCALE, days, steps, params.hete_max_dist_days)
            for b in params.hete_s2_bands]  # fmt: skip
    ndvi = xr.apply_ufunc(ndvi_index, cube["B04"], cube["B08"], dask="allowed").where(clear) * NDVI_SCALE
    lazy.append(_resample(ndvi, days, steps, params.hete_max_dist_days))
    return _gather(lazy, pixels)


def _s1_series(s1: xr.Dataset, pixels: _Pixels, steps: np.ndarray, params: ParcelsConfig) -> np.ndarray:
    days = _obs_days(s1)
    lazy = [_resample(s1[b], days, steps, params.hete_max_dist_days) for b in ("VV", "VH")]
    return _gather(lazy, pixels)


def _gather(lazy: list[Lazy], pixels: _Pixels) -> np.ndarray:
    computed = compute(*lazy)
    return np.stack([c.reshape(c.shape[0], -1)[:, pixels.flat] for c in computed], axis=-1)


# --- per period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ParcelInfo:
    ids: pd.Series
    """Parcel id by code."""
    area_m2: pd.Series
    """Area by code."""
    category: pd.Series
    shape_index: pd.Series


def _parcel_info(parcels: pd.DataFrame | None, pixels: _Pixels, resolution: float) -> _ParcelInfo:
    counts = pd.Series(pixels.codes).value_counts()
    if parcels is None:
        codes = np.sort(counts.index.to_numpy())
        ids = pd.Series(codes, index=codes)
        area = counts.reindex(codes).astype(float) * resolution**2
        return _ParcelInfo(ids, area, pd.Series(0, index=codes), pd.Series(np.nan, index=codes))
    frame = parcels.set_index("code")
    ids = frame["parcel_id"]
    pixel_area = counts.reindex(frame.index).fillna(0).astype(float) * resolution**2
    area = frame["area_m2"].astype(float) if "area_m2" in frame.columns else pixel_area
    category = frame["category"].map(_lc_code) if "category" in frame.columns else pd.Series(0, frame.index)
    shape = pd.Series(np.nan, index=frame.index)
    if isinstance(parcels, gpd.GeoDataFrame):
        geoms = parcels.geometry.to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            value = shapely.length(geoms) / (2.0 * np.sqrt(np.pi * area.to_numpy()))
        shape = pd.Series(value, index=frame.index)
    return _ParcelInfo(ids, area, category, shape)


def _lc_code(value: object) -> int:
    """Sen4CAP's LC code of a declared category, or of a crop name (:func:`.category.category_of_crop`)."""
    return category_code(value) or category_of_crop(value)


def _period_tables(
    series: np.ndarray,
    steps: np.ndarray,
    start: date,
    end: date,
    pixels: _Pixels,
    info: _ParcelInfo,
    params: ParcelsConfig,
    sensor: str,
) -> pd.DataFrame:
    s2 = sensor == "s2"
    n_clusters = params.hete_s2_clusters if s2 else params.hete_s1_clusters
    rules = params.cluster_rules()
    order = np.argsort(pixels.codes, kind="stable")
    bounds = np.flatnonzero(np.diff(pixels.codes[order])) + 1
    groups = np.split(order, bounds) if order.size else []
    first = np.datetime64(start, "D").astype(np.int64)
    rows = []
    for p in range(_n_periods(start, end, params.hete_period_days)):
        lo = first + p * params.hete_period_days
        inside = (steps >= lo) & (steps < lo + params.hete_period_days)
        if inside.sum() < 2:
            continue  # Sen4CAP skips a period with fewer than 2 images
        block = series[inside]  # (image, pixel, feature)
        x = np.transpose(block, (1, 0, 2)).reshape(block.shape[1], -1)
        labels = kh.kmeans_missing(x, n_clusters, seed=params.hete_seed)
        ndvi = block[:, :, -1].T / NDVI_SCALE if s2 else None
        period_start = date.fromordinal(date(1970, 1, 1).toordinal() + int(lo))
        for group in groups:
            code = int(pixels.codes[group[0]])
            smooth, connect = kh.filtered_labels(labels[group], pixels.rows[group], pixels.cols[group], rules)
            markers = kh.cluster_markers(smooth, connect, float(info.area_m2.get(code, group.size)),
                                         None if ndvi is None else ndvi[group], rules)  # fmt: skip
            rows.append({"code": code, "period": p + 1, "period_start": period_start.isoformat(), **markers})
    names = kh.S2_COLUMNS if s2 else kh.S1_COLUMNS
    table = pd.DataFrame(rows, columns=["code", "period", "period_start", *names])
    table = table[table["code"].isin(info.ids.index)]  # pixels of codes the parcel table does not list
    table.insert(0, "parcel_id", table["code"].map(info.ids))
    return _as_ints(table.drop(columns="code"))


def _as_ints(table: pd.DataFrame) -> pd.DataFrame:
    ints = [c for c in table.columns if c in ("Hete", "HoleS2", "HoleS2Part") or c.startswith(("cl_", "M"))]
    return table.astype({c: "int64" for c in ints})


# --- two zones per parcel (not in Sen4CAP) -------------------------------------------------------


def _window_ndvi(
    cube: xr.Dataset, pixels: _Pixels, start: date, end: date, kept: PixelNdvi | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of the cube's dates in start…end and the (date, parcel pixel) NDVI of the clear pixels:
    from ``kept`` when given (no read), else read from the cube."""
    days = _obs_days(cube)
    inside = (days >= np.datetime64(start, "D").astype(np.int64)) & (
        days <= np.datetime64(end, "D").astype(np.int64)
    )
    if kept is not None:
        if not (np.array_equal(kept.days, days) and np.array_equal(kept.flat, pixels.flat)):
            raise ValueError("the kept NDVI is not of this cube's dates and parcel pixels")
        return days[inside], kept.values[inside]
    window = cube.isel(time=np.flatnonzero(inside))
    ndvi = xr.apply_ufunc(ndvi_index, window["B04"], window["B08"], dask="allowed").where(window["clear"])
    values = np.asarray(ndvi.values, np.float32).reshape(int(inside.sum()), -1)[:, pixels.flat]
    return days[inside], values


def _zone_decision(
    days: np.ndarray, values: np.ndarray, pixels: _Pixels, start: date, info: _ParcelInfo,
    params: ParcelsConfig,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The decision and per-period table of the two-zone split (``hete_method = "zones"``).

    C_INDEX by the number of dates on which the zones differ (separation at least
    ``hete_zone_separation``): STRONG three or more, MODERATE two, WEAK one; POOR when the largest
    separation reaches half the threshold; NO otherwise or when the parcel is not split (too few
    pixels or counted dates).  P_Hete_L is the period (``hete_period_days``) of the largest separation.
    """
    rules = params.zone_rules()
    period = (days - np.datetime64(start, "D").astype(np.int64)) // params.hete_period_days + 1
    groups = _code_groups(pixels)
    decisions, periods = [], []
    for code, pid in info.ids.items():
        group = groups.get(code, np.zeros(0, np.int64))
        zones = kh.split_zones(values[:, group], rules)
        partly = (zones.holes > 0) & (zones.holes < 1)
        row: dict[str, object] = {"parcel_id": pid, "LC": int(info.category.get(code, 0)),
                                  "ShapeInd": float(info.shape_index.get(code, np.nan)),
                                  "M1": np.nan, "M2": np.nan, "M3": np.nan, "M4": np.nan,
                                  "HoleS2": int((zones.holes == 1).sum()),
                                  "HoleS2_PM": int(partly.sum())}  # fmt: skip
        separated = zones.separation >= rules.separation
        counted = np.isfinite(zones.separation)
        row.update(_zone_class(zones, separated, period, rules))
        decisions.append(row)
        for p in np.unique(period[counted]):
            mine = counted & (period == p)
            periods.append({"parcel_id": pid, "period": int(p),
                            "period_start": period_dates(start, int(p), params)[0].isoformat(),
                            "ZONE_SEP": float(np.max(zones.separation[mine])),
                            "ZONE_DATES": int(separated[mine].sum())})  # fmt: skip
    decision = pd.DataFrame(decisions, columns=list(DECISION_COLUMNS))
    table = pd.DataFrame(periods, columns=["parcel_id", "period", "period_start", *ZONE_PERIOD_COLUMNS])
    return decision, table


def _zone_class(
    zones: kh.Zones, separated: np.ndarray, period: np.ndarray, rules: kh.ZoneRules
) -> dict[str, object]:
    """C_INDEX, P_Hete_L and the ZONE_* columns of one parcel's split."""
    if not np.isfinite(zones.separation).any():
        return {"C_INDEX": kh.C_INDEX[0], "P_Hete_L": np.nan, "ZONE_SHARE": zones.share, "ZONE_SEP": np.nan,
                "ZONE_DATES": 0}  # fmt: skip
    largest = int(np.nanargmax(zones.separation))
    n = int(separated.sum())
    if n >= 3:
        c_index = "STRONG"
    elif n >= 1:
        c_index = ("WEAK", "MODERATE")[n - 1]
    else:
        c_index = "POOR" if zones.separation[largest] >= rules.separation / 2 else "NO"
    where = float(period[largest]) if c_index != "NO" else np.nan
    return {"C_INDEX": c_index, "P_Hete_L": where, "ZONE_SHARE": zones.share,
            "ZONE_SEP": float(zones.separation[largest]), "ZONE_DATES": n}  # fmt: skip


def _code_groups(pixels: _Pixels) -> dict[object, np.ndarray]:
    """Positions (into the parcel pixels) of each code's pixels."""
    order = np.argsort(pixels.codes, kind="stable")
    bounds = np.flatnonzero(np.diff(pixels.codes[order])) + 1
    return {int(pixels.codes[g[0]]): g for g in np.split(order, bounds)} if order.size else {}


def _decision(
    periods: pd.DataFrame, info: _ParcelInfo, n_periods: int, params: ParcelsConfig
) -> pd.DataFrame:
    rules = params.decision_rules()
    by_parcel = {pid: g for pid, g in periods.groupby("parcel_id", sort=False)}
    rows = []
    for code, pid in info.ids.items():
        group = by_parcel.get(pid)
        row: dict[str, object] = {"parcel_id": pid, "LC": int(info.category.get(code, 0)),
                                  "ShapeInd": float(info.shape_index.get(code, np.nan))}  # fmt: skip
        if group is None or group.empty:
            row.update({"M1": np.nan, "M2": np.nan, "M3": np.nan, "M4": np.nan, "P_Hete_L": np.nan,
                        "C_INDEX": kh.C_INDEX[0], "HoleS2": 0, "HoleS2_PM": 0})  # fmt: skip
        else:
            c_index, where, sums = kh.period_decision(
                group["period"].to_numpy(), group[["M1", "M2", "M3", "M4"]].to_numpy(),
                group["CompactA"].to_numpy(), rules, span=(1, n_periods),
                has_data=group["Hete"].to_numpy() != kh.HETE_NO_DATA,
            )  # fmt: skip
            row.update({f"M{k + 1}": sums[k] for k in range(4)})
            row.update({"P_Hete_L": where, "C_INDEX": c_index, "HoleS2": int(group["HoleS2"].sum()),
                        "HoleS2_PM": int(group["HoleS2Part"].sum())})  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=list(DECISION_COLUMNS))


def period_dates(start: date, period: int, params: ParcelsConfig) -> tuple[date, date]:
    """First and last day of heterogeneity period ``period`` (1 …) of an analysis starting ``start``."""
    first = start + timedelta(days=(period - 1) * params.hete_period_days)
    return first, first + timedelta(days=params.hete_period_days - 1)


__all__ = ["DECISION_COLUMNS", "Heterogeneity", "heterogeneity", "period_dates"]


def heterogeneity_tables(context: ParcelContext) -> dict[str, pd.DataFrame]:
    """Sen4CAP's heterogeneity decision (and per-period markers) of each calendar year of a parcel run.

    Needs the pixels: nothing when the run gives no cube."""
    if context.cube is None or context.codes is None:
        return {}
    frame = context.parcels.frame
    decisions, periods = [], []
    for year in context.period.years():
        start = max(context.period.start, date(year, 1, 1))
        end = min(context.period.end, date(year, 12, 31))
        result = heterogeneity(context.cube, context.codes, start, end, context.config, parcels=frame,
                               s1=context.s1, pixel_ndvi=context.pixel_ndvi)  # fmt: skip
        decisions.append(result.decision.assign(year=year))
        periods.append(result.periods_s2.assign(year=year))
    geometry = frame[["parcel_id", "geometry"]]
    decision = gpd.GeoDataFrame(geometry.merge(pd.concat(decisions, ignore_index=True), on="parcel_id"),
                                geometry="geometry", crs=frame.crs)  # fmt: skip
    return {"heterogeneity": decision, "heterogeneity_periods_s2": pd.concat(periods, ignore_index=True)}


HETEROGENEITY_PRODUCT = TableProduct(
    "heterogeneity",
    "Parcel heterogeneity",
    "Sen4CAP L4D per parcel and year: markers M1-M4 (M5-M7 with Sentinel-1), C_INDEX STRONG/MODERATE/"
    "WEAK/POOR and P_Hete_L, from MiniBatchKMeans clusters of the parcel pixels per 30-day period.",
    heterogeneity_tables,
)
"""Register with :func:`.tables.register_table_product` to have ``baresoil parcels`` write these tables."""
