"""Change of agricultural category between two years, as Sen4CAP's change-detection product.

For the parcels declared in both years (matched by id), each year gets Sen4CAP's
evidence from the markers table — bare-soil days (``TTdaysS2``, from the bare-soil
periods of that calendar year), outliers of a marker (NDVI by default; Sen4CAP uses
LAI) against the distribution of the parcels declared with the same crop that year,
and the area under the 10-day NDVI curve (``AreaVeg``) — and a score by the category
declared in the reference (first) year.  The consolidation flags a change in the
reference year (score ≥ 2.5) and in the current year (score ≥ 3.0).  The declared
category of each year is reported beside the evidence (``LC_P1``, ``LC_P2``).
Kernels: :mod:`baresoil.kernels.category`.

Declarations come as a long table ``parcel_id, year, category, crop`` (category
as Sen4CAP's LC code 1/2/3 or a name, crop any label); a missing category is
derived from the crop (:func:`category_of_crop`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from ...config import Config, ParcelsConfig
from ...errors import BaresoilError
from ...kernels import category as kc
from .bare_periods import BareSoilPeriods, bare_soil_periods, wide_means
from .tables import ParcelContext, TableProduct

EVIDENCE = (
    "TTdaysS2",
    "NbrTTS2",
    "count",
    "ConsecC_stability",
    "total_non_nan",
    "Ratio_stability",
    "AreaVeg",
)
"""Per-year evidence columns (suffixed ``_P1`` for the reference year, ``_P2`` for the current one)."""
PERMANENT_CROP_WORDS = ("vine", "orchard", "fruit", "olive", "hop", "nursery", "berry", "nut", "citrus",
                        "permanent_crop", "permanent crop")  # fmt: skip


class DeclarationError(BaresoilError):
    """The declarations lack a column or a year the change detection needs."""


def category_of_crop(crop: object) -> int:
    """Sen4CAP's LC code of a declared crop label: grass → 3, permanent crops (vines, orchards, …) → 2,
    any other crop → 1 (arable), nothing → 0."""
    if crop is None or (isinstance(crop, float) and np.isnan(crop)):
        return 0
    text = str(crop).strip().lower()
    if not text:
        return 0
    if "grass" in text or "meadow" in text or "pasture" in text:
        return kc.GRASSLAND
    if any(word in text for word in PERMANENT_CROP_WORDS):
        return kc.PERMANENT_CROP
    return kc.ARABLE


def declarations_from_columns(
    frame: pd.DataFrame,
    crop_columns: Mapping[int, str] | None = None,
    category_columns: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """The long declarations table from a parcel file with one column per year (e.g. ``crop_2021``)."""
    years = sorted({*(crop_columns or {}), *(category_columns or {})})
    parts = []
    for year in years:
        part = pd.DataFrame({"parcel_id": frame["parcel_id"].to_numpy(), "year": year})
        if crop_columns and year in crop_columns:
            part["crop"] = frame[crop_columns[year]].to_numpy()
        if category_columns and year in category_columns:
            part["category"] = frame[category_columns[year]].to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["parcel_id", "year"])


def category_change(
    markers: pd.DataFrame,
    declarations: pd.DataFrame,
    years: tuple[int, int],
    config: Config | None = None,
    bare: Mapping[int, BareSoilPeriods] | None = None,
    parcels: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Sen4CAP's change of agricultural category between ``years`` (reference, current) per parcel.

    ``bare`` optionally gives the bare-soil product of each year (else computed from
    ``markers``).  Returns one row per parcel declared in both years: parcel_id,
    LC_P1, LC_P2, crop_P1, crop_P2, declared_change, the :data:`EVIDENCE` of each year,
    ChangeP1, ChangeP2 (NaN for parcels of no scored category or without observations
    that year), pred_changeP1, pred_changeP2, pred_change_P1_P2, and ``change``: the current
    year's evidence flags a change (pred_changeP2) or the two declarations give different
    categories — with the parcel geometry when ``parcels`` is a GeoDataFrame.
    """
    params = (config or Config()).parcels
    table = _matched(declarations, years)
    for tag, year in zip(("P1", "P2"), years, strict=True):
        evidence = _evidence(markers, table, year, tag, params, config, (bare or {}).get(year))
        table = table.merge(evidence, on="parcel_id", how="left")
    for tag, rules in (("P1", kc.ChangeRules.reference()), ("P2", kc.ChangeRules())):
        score = kc.change_score(
            table["LC_P1"].to_numpy(),
            table[f"TTdaysS2_{tag}"].to_numpy(),
            table[f"Ratio_stability_{tag}"].to_numpy(),
            table[f"ConsecC_stability_{tag}"].to_numpy(),
            table[f"AreaVeg_{tag}"].to_numpy(),
            rules,
        )
        seen = table[f"NbrTTS2_{tag}"].fillna(0).to_numpy() > 0
        table[f"Change{tag}"] = np.where(seen, score, np.nan)
    p1, p2, both = kc.predict_change(
        table["ChangeP1"].to_numpy(),
        table["ChangeP2"].to_numpy(),
        params.consolidation(),
    )
    table["pred_changeP1"], table["pred_changeP2"], table["pred_change_P1_P2"] = p1, p2, both
    table["change"] = (table["pred_changeP2"] == 1) | table["declared_change"]
    if isinstance(parcels, gpd.GeoDataFrame):
        shapes = parcels[["parcel_id", parcels.geometry.name]].drop_duplicates("parcel_id")
        merged = table.merge(shapes, on="parcel_id", how="left")
        table = gpd.GeoDataFrame(merged, geometry=parcels.geometry.name, crs=parcels.crs)
    return table


def _matched(declarations: pd.DataFrame, years: tuple[int, int]) -> pd.DataFrame:
    for column in ("parcel_id", "year"):
        if column not in declarations.columns:
            raise DeclarationError(f"declarations lack column {column!r}")
    if "category" not in declarations.columns and "crop" not in declarations.columns:
        raise DeclarationError("declarations need a 'category' or a 'crop' column")
    frames = []
    for tag, year in zip(("P1", "P2"), years, strict=True):
        rows = declarations[declarations["year"] == year]
        if rows.empty:
            raise DeclarationError(f"no declaration for year {year}")
        crop = rows["crop"] if "crop" in rows.columns else pd.Series([None] * len(rows), index=rows.index)
        if "category" in rows.columns:
            code = rows["category"].map(kc.category_code)
            code = code.where(code > 0, crop.map(category_of_crop))
        else:
            code = crop.map(category_of_crop)
        frame = pd.DataFrame(
            {
                "parcel_id": rows["parcel_id"].to_numpy(),
                f"LC_{tag}": code.to_numpy(),
                f"crop_{tag}": crop.to_numpy(),
            }
        )
        frames.append(frame.drop_duplicates("parcel_id"))
    table = frames[0].merge(frames[1], on="parcel_id", how="inner")
    known = (table["LC_P1"] > 0) & (table["LC_P2"] > 0)
    table["declared_change"] = known & (table["LC_P1"] != table["LC_P2"])
    return table[["parcel_id", "LC_P1", "LC_P2", "crop_P1", "crop_P2", "declared_change"]]


def _evidence(
    markers: pd.DataFrame,
    table: pd.DataFrame,
    year: int,
    tag: str,
    params: ParcelsConfig,
    config: Config | None,
    bare: BareSoilPeriods | None,
) -> pd.DataFrame:
    start, end = date(year, 1, 1), date(year, 12, 31)
    ids = table["parcel_id"].to_numpy()
    if bare is None:
        subset = markers[markers["parcel_id"].isin(ids)]
        bare = bare_soil_periods(subset, start, end, config, parcels=table[["parcel_id"]])
    out = pd.DataFrame({"parcel_id": ids})
    bs = bare.markers_all.set_index("parcel_id")
    out["TTdaysS2"] = out["parcel_id"].map(bs["TTdaysS2"]).astype(float)
    out["NbrTTS2"] = out["parcel_id"].map(bs["NbrTTS2"]).fillna(0).astype(int)
    feature = params.change_outlier_feature
    wide = wide_means(markers[markers["parcel_id"].isin(ids)], "S2", sorted({feature, "NDVI"}), start, end)
    if not wide.empty and feature not in wide.columns:
        raise DeclarationError(f"markers table has no S2 feature {feature!r} for the outliers")
    matrix = _matrix(wide, ids, feature)
    crops = (
        table[f"crop_{tag}"].where(table[f"crop_{tag}"].notna(), table[f"LC_{tag}"]).astype(str).to_numpy()
    )
    outliers = kc.outlier_counts(matrix, crops, params.change_outlier_std)
    out["count"] = outliers.count
    out["ConsecC_stability"] = outliers.consec_count
    out["total_non_nan"] = outliers.total_non_nan
    out["Ratio_stability"] = outliers.ratio_obs
    ndvi = _matrix(wide, ids, "NDVI")
    steps = _date_grid(wide)
    first = int(np.datetime64(start, "D").astype(np.int64))
    last = int(np.datetime64(end, "D").astype(np.int64))
    out["AreaVeg"] = [kc.area_under_curve(steps, ndvi[i], first, last) for i in range(len(ids))]
    return out.rename(columns={c: f"{c}_{tag}" for c in EVIDENCE})


def _date_grid(wide: pd.DataFrame) -> np.ndarray:
    if wide.empty:
        return np.zeros(0, np.int64)
    return np.sort(pd.unique(wide["date"].to_numpy().astype("datetime64[D]").astype(np.int64)))


def _matrix(wide: pd.DataFrame, ids: np.ndarray, feature: str) -> np.ndarray:
    """(parcel of ``ids``, date of the table) values of ``feature``; NaN where not observed."""
    dates = _date_grid(wide)
    out = np.full((len(ids), dates.size), np.nan)
    if wide.empty or feature not in wide.columns:
        return out
    row = pd.Index(ids).get_indexer(wide["parcel_id"])
    col = np.searchsorted(dates, wide["date"].to_numpy().astype("datetime64[D]").astype(np.int64))
    ok = row >= 0
    out[row[ok], col[ok]] = wide[feature].to_numpy(np.float64)[ok]
    return out


# --- as a table product of ``baresoil parcels`` -------------------------------------------------


def category_change_tables(context: ParcelContext) -> dict[str, pd.DataFrame]:
    """``category_change`` between the last two calendar years of a parcel run, when the parcels have a
    category (or crop) column; the same declaration then holds for both years, so that the evidence
    tests the declared category.  Nothing for a run within one year or without categories."""
    years = context.period.years()
    frame = context.parcels.frame
    if len(years) < 2 or "category" not in frame.columns:
        return {}
    pair = (years[-2], years[-1])
    declared = frame[["parcel_id", "category"]]
    declarations = pd.concat(
        [declared.assign(year=y, crop=declared["category"]) for y in pair], ignore_index=True
    )
    return {
        "category_change": category_change(context.markers, declarations, pair, context.config, parcels=frame)
    }


CATEGORY_PRODUCT = TableProduct(
    "category_change",
    "Change of agricultural category",
    "Sen4CAP change detection between the last two years: bare-soil days, outliers against the crop's NDVI "
    "distribution, area under the NDVI curve, scores ChangeP1/ChangeP2 by the declared category and the "
    "predicted changes.",
    category_change_tables,
)
"""Register with :func:`.tables.register_table_product` to have ``baresoil parcels`` write this table."""


__all__ = [
    "CATEGORY_PRODUCT",
    "DeclarationError",
    "category_change",
    "category_change_tables",
    "category_of_crop",
    "declarations_from_columns",
]
