"""A learned second opinion on views the cover classifier calls bare: residue and stubble, not soil.

Residue on the soil barely shows in NDTI on some worlds (docs/parcels/algorithm.md, *Known limits*),
so the cover classifier reads a field after harvest as bare from the harvest on.  The other bands
hold more, read against each parcel's own range and the area's: gradient-boosted trees trained on
the tuning worlds' views (``benchmarks/train_residue_veto.py``, truth from each world's simulation)
give the probability that a view is a bare day as the scoring contract defines it.  A view called
bare whose probability is below ``parcels.bs_residue_veto`` is taken as not bare: a veto, which
keeps the classifier's recall where the trees are unsure.

Features (:data:`FEATURES`) are relative, so that they travel between areas of other soils: a
view's value minus its parcel's 10th and 90th percentiles over every view of the markers table,
and minus the area's 10th percentile and median.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from ...kernels.trees import TreeEnsemble, ensemble_from_arrays, predict_proba

BANDS = ("B04", "B08", "B11", "B12")
"""Parcel means the features are made of (with NDVI and NDTI)."""
_PARCEL_RELATIVE = ("NDTI", "NDVI", "DVI", "R1211", "SWIRSUM", "B04", "B12")
_AREA_RELATIVE = ("NDTI", "R1211", "SWIRSUM", "B12")
FEATURES: tuple[str, ...] = (
    *(f"{c}_{s}" for c in _PARCEL_RELATIVE for s in ("p10", "p90")),
    *(f"{c}_{s}" for c in _AREA_RELATIVE for s in ("w10", "w50")),
    "NDVI",
    "DVI",
    "NDTI",
)
"""Model inputs, in order: parcel-relative (``_p10``, ``_p90``), area-relative (``_w10``, ``_w50``),
then NDVI, NIR − red (``DVI``) and NDTI as they are."""
MODEL = "residue_veto.npz"
"""The trained trees, in this package (plain arrays, see :mod:`baresoil.kernels.trees`)."""


def view_features(views: pd.DataFrame) -> np.ndarray:
    """(view, feature) of a table of parcel means (``parcel_id``, NDVI, NDTI and :data:`BANDS`), one
    row per view; the percentiles are taken over the rows given (every view of the markers table)."""
    table = pd.DataFrame(
        {
            "parcel_id": views["parcel_id"].to_numpy(),
            "NDVI": views["NDVI"].to_numpy(np.float64),
            "NDTI": views["NDTI"].to_numpy(np.float64),
            "DVI": (views["B08"] - views["B04"]).to_numpy(np.float64),
            "R1211": (views["B12"] / views["B11"]).to_numpy(np.float64),
            "SWIRSUM": (views["B11"] + views["B12"]).to_numpy(np.float64),
            "B04": views["B04"].to_numpy(np.float64),
            "B12": views["B12"].to_numpy(np.float64),
        }
    )
    by_parcel = table.groupby("parcel_id")[list(_PARCEL_RELATIVE)]
    owner = table[["parcel_id"]]
    low = owner.join(by_parcel.quantile(0.1), on="parcel_id")  # one vectorised pass per percentile
    high = owner.join(by_parcel.quantile(0.9), on="parcel_id")
    columns: dict[str, np.ndarray] = {}
    for name in _PARCEL_RELATIVE:
        values = table[name].to_numpy()
        columns[f"{name}_p10"] = values - low[name].to_numpy(np.float64)
        columns[f"{name}_p90"] = values - high[name].to_numpy(np.float64)
    for name in _AREA_RELATIVE:
        values = table[name].to_numpy()
        columns[f"{name}_w10"] = values - np.nanquantile(values, 0.1) if values.size else values
        columns[f"{name}_w50"] = values - np.nanquantile(values, 0.5) if values.size else values
    for name in ("NDVI", "DVI", "NDTI"):
        columns[name] = table[name].to_numpy()
    if not len(table):
        return np.zeros((0, len(FEATURES)))
    return np.column_stack([columns[name] for name in FEATURES])


@cache
def residue_model() -> TreeEnsemble:
    """The trees shipped with the package."""
    with resources.files(__package__).joinpath(MODEL).open("rb") as stored, np.load(stored) as arrays:
        return ensemble_from_arrays(dict(arrays))


def bare_probability(views: pd.DataFrame, model: TreeEnsemble | None = None) -> np.ndarray:
    """Probability that each view of ``views`` (see :func:`view_features`) is a bare day; NaN where a
    feature is missing."""
    return predict_proba(model or residue_model(), view_features(views))


__all__ = ["BANDS", "FEATURES", "MODEL", "bare_probability", "residue_model", "view_features"]
