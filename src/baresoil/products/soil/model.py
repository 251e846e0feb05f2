"""Quantile regression forests per soil property: validation, covariate comparison, prediction.

One forest per property (Meinshausen's QRF, as SoilGrids): it keeps every
training value in its leaves, so any quantile of the prediction comes from the
same fit.  Skewed properties (SOC, N) are modelled as log(1 + value); quantiles
commute with that monotone transform, so they come back exactly.

Validation is spatial block cross-validation (``kernels.blockcv``): RMSE, MEC,
bias and the coverage of the 90 % interval of the out-of-fold predictions, and
the same with random folds for reference.  The forest's intervals are then
calibrated (``kernels.conformal``, CQR) on a second cross-validation whose folds
are chosen so that each held-out sample is as far from the other folds' samples
as the map's pixels are from the nearest sample (``kernels.blockcv.
map_distance_folds``): the spatial blocks make every fold an extrapolation the
map seldom does, and their residuals would widen the map's intervals far beyond
its errors.  Its out-of-fold residuals give the margin by which the map's Q05 and
Q95 move out (or in) so that 90 % of held-out samples fall inside, in the model's
space (log(1 + value) for skewed properties, so intervals stay positive).  The
coverage reported is that of each fold's intervals calibrated on the other folds'
residuals only.  Those residuals hold the lab's analytical error too, which the
true value does not: it is taken out of the calibrated width
(``kernels.conformal.lab_error_factor``, ``soil.lab_error``).  The covariate
comparison refits the cross-validation on growing covariate sets (terrain, +
MREF, + SRC) on the same samples and folds, as CUP4SOIL compared them.

Prediction over pixels is one kernel per chunk of the covariate stack (``products.apply.per_chunk``):
each chunk's pixels with every covariate go through all the forests at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from odc.geo.xr import xr_coords

from ...config import SoilMapConfig
from ...kernels.blockcv import block_folds, interval_metrics, map_distance_folds, random_folds
from ...kernels.conformal import conformal_margin, cross_fitted_margins, interval_scores, lab_error_factor
from ..apply import Input, per_chunk
from .covariates import GROUPS, Covariate, CovariateStack
from .properties import QUANTILES, SoilProperty
from .samples import SampleError

if TYPE_CHECKING:
    from quantile_forest import RandomForestQuantileRegressor

GROUP_LABELS = {"terrain": "terrain", "mref": "MREF", "src": "SRC"}
STATED_COVERAGE = round(QUANTILES[2] - QUANTILES[0], 6)
"""The coverage the Q05 … Q95 interval states (0.90)."""


@dataclass(frozen=True)
class PropertyModel:
    """A fitted forest and how to read its output."""

    prop: SoilProperty
    log: bool
    covariates: tuple[str, ...]
    forest: RandomForestQuantileRegressor
    margin: float = 0.0
    """Conformal margin: Q05 moves down and Q95 up by this much in the model's space (< 0: inwards)."""
    width_factor: float = 1.0
    """Scale of the calibrated interval about the median that takes the samples' lab error out."""

    def quantiles(self, X: np.ndarray) -> np.ndarray:
        """(3, n) Q05, Q50, Q95 (calibrated) in physical units for covariate rows ``X``."""
        return widen(predict_quantiles(self.forest, X, self.log), self.margin, self.log, self.width_factor)


@dataclass(frozen=True)
class Validation:
    """Out-of-fold predictions and their figures."""

    folds: np.ndarray
    quantiles: np.ndarray
    """(3, n) out-of-fold Q05, Q50, Q95."""
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class Calibration:
    """The conformal calibration of the 90 % interval and the coverage before and after (spatial CV)."""

    stated: float
    """The coverage the interval states (0.90)."""
    observed: float
    """Share of held-out lab values inside their calibrated interval (each fold calibrated on the
    others), before the lab error is taken out."""
    observed_uncalibrated: float
    """The same for the forest's own interval."""
    margin: float
    """Margin of the maps, from every fold's residuals (model space)."""
    fold_margins: Mapping[int, float]
    """Margin each fold was checked with (from the other folds' residuals)."""
    space: str
    """Where margins apply: ``log1p`` (log properties) or ``value``."""
    lab_error: float = 0.0
    """Lab error (one standard deviation, model space)."""
    width_factor: float = 1.0
    """Scale of the calibrated width about the median that takes the lab error out."""
    folds: Mapping[str, float | str] = field(default_factory=dict)
    """How the calibration folds were chosen (``kernels.blockcv.map_distance_folds``)."""


@dataclass(frozen=True)
class PropertyResult:
    model: PropertyModel
    ids: np.ndarray
    observed: np.ndarray
    spatial: Validation
    """Spatial cross-validation, calibrated intervals (cross-fitted)."""
    random: Validation
    """Random cross-validation, calibrated intervals (cross-fitted on the random folds)."""
    spatial_uncalibrated: Validation
    """Spatial cross-validation, the forest's own intervals."""
    calibration: Calibration
    importance: Mapping[str, float]
    """Covariate -> mean decrease in impurity of the final forest (sums to 1)."""
    comparison: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    calibration_cv: Validation | None = None
    """Cross-validation on the calibration folds (map-like distances), calibrated intervals (cross-fitted)."""


def make_forest(config: SoilMapConfig) -> RandomForestQuantileRegressor:
    from quantile_forest import RandomForestQuantileRegressor  # deferred: scikit-learn is slow to import

    return RandomForestQuantileRegressor(
        n_estimators=config.trees,
        min_samples_leaf=config.min_samples_leaf,
        max_features=config.max_features,
        random_state=config.seed,
        n_jobs=1,
    )


def fit_forest(
    X: np.ndarray, values: np.ndarray, log: bool, config: SoilMapConfig
) -> RandomForestQuantileRegressor:
    forest = make_forest(config)
    forest.fit(X, np.log1p(values) if log else values)
    return forest


def predict_quantiles(forest: RandomForestQuantileRegressor, X: np.ndarray, log: bool) -> np.ndarray:
    q = np.asarray(forest.predict(X, quantiles=list(QUANTILES)), np.float64).reshape(len(X), len(QUANTILES)).T
    return np.expm1(q) if log else q


def cross_validate(
    X: np.ndarray, values: np.ndarray, folds: np.ndarray, log: bool, config: SoilMapConfig
) -> Validation:
    """Out-of-fold quantiles of the forest (uncalibrated) and their figures."""
    out = np.full((len(QUANTILES), len(values)), np.nan)
    for fold in np.unique(folds):
        test = folds == fold
        forest = fit_forest(X[~test], values[~test], log, config)
        out[:, test] = predict_quantiles(forest, X[test], log)
    return Validation(folds, out, interval_metrics(values, *out))


def widen(quantiles: np.ndarray, margin: float | np.ndarray, log: bool, factor: float = 1.0) -> np.ndarray:
    """Q05 - margin and Q95 + margin in the model's space, the median kept inside, then both sides
    scaled by ``factor`` about the median (and, for log properties, the lower bound at 0 or above:
    they cannot be negative)."""
    q = np.log1p(quantiles) if log else np.asarray(quantiles, np.float64)
    low, median, high = q
    low = np.minimum(low - margin, median)
    high = np.maximum(high + margin, median)
    low = median - (median - low) * factor
    high = median + (high - median) * factor
    if log:
        return np.expm1(np.stack([np.maximum(low, 0.0), median, high]))
    return np.stack([low, median, high])


def lab_error_in_model_space(name: str, values: np.ndarray, log: bool, config: SoilMapConfig) -> float:
    """``soil.lab_error`` of property ``name`` as one standard deviation in the model's space (for
    log(1 + value), d log(1 + v) = dv / (1 + v), taken at the samples' median)."""
    error, relative = config.lab_error_of(name)
    if error == 0 or values.size == 0:
        return 0.0
    typical = float(np.median(np.abs(values)))
    if log:
        return error * typical / (1 + typical) if relative else error / (1 + typical)
    return error * typical if relative else error


def calibrate(
    validation: Validation, values: np.ndarray, log: bool, config: SoilMapConfig, lab_error: float = 0.0
) -> tuple[Validation, Calibration]:
    """The cross-validation with conformally calibrated intervals, each fold's from the other folds
    (and the lab error taken out of their width)."""
    space = np.log1p if log else np.asarray
    low, median, high = (space(q) for q in validation.quantiles)
    scores = interval_scores(space(values), low, high)
    factor = lab_error_factor(space(values) - median, lab_error) if config.calibrate else 1.0
    if config.calibrate:
        per_sample, per_fold = cross_fitted_margins(scores, validation.folds, STATED_COVERAGE)
        margin = conformal_margin(scores, STATED_COVERAGE)
    else:
        per_sample, per_fold, margin = np.zeros(len(values)), {}, 0.0
    of_lab_values = interval_metrics(values, *widen(validation.quantiles, per_sample, log))
    quantiles = widen(validation.quantiles, per_sample, log, factor)
    calibrated = Validation(validation.folds, quantiles, interval_metrics(values, *quantiles))
    calibration = Calibration(
        stated=STATED_COVERAGE,
        observed=of_lab_values["picp90"],
        observed_uncalibrated=validation.metrics["picp90"],
        margin=margin,
        fold_margins=per_fold,
        space="log1p" if log else "value",
        lab_error=lab_error,
        width_factor=factor,
    )
    return calibrated, calibration


def spatial_folds(x: np.ndarray, y: np.ndarray, prop: SoilProperty, config: SoilMapConfig) -> np.ndarray:
    try:
        return block_folds(x, y, config.cv_folds, config.cv_block_m, config.cv_neighbour_m, config.seed)
    except ValueError as exc:
        raise SampleError(
            f"{prop.name}: cannot make {config.cv_folds} spatial folds ({exc}); "
            "use fewer folds or smaller blocks (soil.cv_folds, soil.cv_block_m)"
        ) from exc


def map_property(
    prop: SoilProperty,
    ids: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    observed: np.ndarray,
    covariates: Sequence[Covariate],
    config: SoilMapConfig,
    map_points: tuple[np.ndarray, np.ndarray] | None = None,
) -> PropertyResult:
    """Validate, calibrate, compare covariate sets and fit the final forest on complete samples.

    ``map_points`` (x, y in the samples' CRS) stand for the map's pixels: the intervals are calibrated
    on folds whose held-out distances resemble theirs; without them, on the spatial folds.
    """
    if len(observed) < config.min_samples:
        raise SampleError(
            f"{prop.name}: only {len(observed)} usable sample(s), at least {config.min_samples} needed "
            "(soil.min_samples)"
        )
    # log(1 + value) only makes sense for values that cannot be negative
    log = prop.name in config.log_properties and bool(np.all(observed >= 0))
    folds = spatial_folds(x, y, prop, config)
    uncalibrated = cross_validate(X, observed, folds, log, config)
    lab_error = lab_error_in_model_space(prop.name, observed, log, config)
    if map_points is not None:
        cal_folds, choice = map_distance_folds(
            x, y, *map_points, config.cv_folds, config.cv_block_m, config.seed
        )
        cal_cv = cross_validate(X, observed, cal_folds, log, config)
    else:
        choice, cal_cv = {"method": "spatial blocks", "block_m": config.cv_block_m}, uncalibrated
    calibration_cv, calibration = calibrate(cal_cv, observed, log, config, lab_error)
    calibration = replace(calibration, folds=choice)
    # the block cross-validation with the map's own intervals: how they fare on extrapolation
    on_blocks = widen(uncalibrated.quantiles, calibration.margin, log, calibration.width_factor)
    spatial = Validation(folds, on_blocks, interval_metrics(observed, *on_blocks))
    on_blocks_cv, _ = calibrate(uncalibrated, observed, log, config, lab_error)  # for compare_covariates
    rand_folds = random_folds(len(observed), config.cv_folds, config.seed)
    rand_cv = cross_validate(X, observed, rand_folds, log, config)
    rand, _ = calibrate(rand_cv, observed, log, config, lab_error)
    forest = fit_forest(X, observed, log, config)
    names = tuple(c.name for c in covariates)
    importance = dict(zip(names, (float(v) for v in forest.feature_importances_), strict=True))
    comparison = (
        compare_covariates(X, observed, folds, covariates, log, config, on_blocks_cv, lab_error)
        if config.compare_covariates
        else []
    )
    model = PropertyModel(prop, log, names, forest, calibration.margin, calibration.width_factor)
    return PropertyResult(model, ids, observed, spatial, rand, uncalibrated, calibration, importance,
                          comparison, calibration_cv)  # fmt: skip


def covariate_sets(covariates: Sequence[Covariate]) -> list[tuple[str, np.ndarray]]:
    """Growing sets (terrain, + MREF, + SRC) as column masks, skipping steps that add nothing."""
    groups = np.array([c.group for c in covariates])
    sets, included, labels = [], np.zeros(len(covariates), bool), []
    for group in GROUPS:
        step = groups == group
        if not step.any():
            continue
        included = included | step
        labels.append(GROUP_LABELS[group])
        sets.append((" + ".join(labels), included.copy()))
    return sets


def compare_covariates(
    X: np.ndarray,
    values: np.ndarray,
    folds: np.ndarray,
    covariates: Sequence[Covariate],
    log: bool,
    config: SoilMapConfig,
    full: Validation | None = None,
    lab_error: float = 0.0,
) -> list[dict[str, Any]]:
    """Spatial cross-validation of each covariate set on the same samples and folds (calibrated intervals).

    ``full``, the (calibrated) cross-validation with every covariate when already done, is reused.
    """
    rows = []
    for label, columns in covariate_sets(covariates):
        if full is not None and columns.all():
            result = full
        else:
            result, _ = calibrate(
                cross_validate(X[:, columns], values, folds, log, config), values, log, config, lab_error
            )
        rows.append({"covariates": label, "n_covariates": int(columns.sum()), **result.metrics})
    return rows


def predict_layers(stack: CovariateStack, models: Sequence[PropertyModel]) -> xr.Dataset:
    """Lazy Q05, Q50, Q95 and UNC layers of every property on the stack's grid (NaN: a covariate missing)."""
    for model in models:
        if model.covariates != stack.names:
            raise ValueError(f"{model.prop.name}: fitted on other covariates than the stack holds")
    names = [code for model in models for code in model.prop.layer_codes]
    coords = xr_coords(stack.grid.geobox)
    kernel = partial(_predict_block, models=tuple(models), names=names)
    layers = per_chunk(
        kernel, [Input(stack.data, "cyx")], dict.fromkeys(names, 1), y=coords["y"], x=coords["x"]
    )
    return layers.assign_coords({name: value for name, value in coords.items() if name not in ("y", "x")})


def _predict_block(
    covariates: np.ndarray, *, models: Sequence[PropertyModel], names: Sequence[str], shape: tuple[int, int]
) -> dict[str, np.ndarray]:
    """Q05, Q50, Q95 and UNC of every property (``names``, in that order) of a chunk's (covariate, pixel)
    values; NaN where a covariate is missing."""
    X = covariates.T
    complete = np.isfinite(X).all(axis=1)
    out = np.full((len(names), X.shape[0]), np.nan, dtype=np.float32)
    if complete.any():
        for k, model in enumerate(models):
            q05, q50, q95 = model.quantiles(X[complete].astype(np.float64))
            with np.errstate(invalid="ignore", divide="ignore"):
                unc = np.where(q50 > 0, (q95 - q05) / q50, np.nan)
            out[4 * k : 4 * k + 4, complete] = np.stack([q05, q50, q95, unc])
    return dict(zip(names, out, strict=True))
