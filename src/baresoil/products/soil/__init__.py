"""Soil property maps with uncertainty: digital soil mapping on SoilSuite composites and other covariates.

Soil samples (``samples``) and a covariate stack (``covariates``: any rasters,
SoilSuite composites, terrain) make one quantile regression forest per property
(``model``), validated by spatial block cross-validation, its intervals
calibrated conformally, and mapped as Q05, Q50, Q95 and the uncertainty, the
layers of ``properties``.

Importing this package is cheap: each name is imported from its module on first use (PEP 562), so
reading the property list (``properties``, the CLI's help) costs no scikit-learn or scipy.stats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy import exports

if TYPE_CHECKING:
    from .covariates import (
        Covariate,
        CovariateError,
        CovariateSource,
        CovariateStack,
        CovariateTile,
        MapGrid,
        RasterSource,
        SoilSuiteSource,
        covariate_stack,
        find_covariate_sources,
        find_covariate_tiles,
        map_grids,
    )
    from .model import Calibration, PropertyModel, PropertyResult, map_property, predict_layers
    from .properties import FAMILY, PROPERTIES, QUANTILES, SoilProperty, soil_property
    from .samples import PropertyColumn, SampleColumns, SampleError, Samples, parse_property, read_samples

_DEFINED_IN = {
    "Covariate": "covariates",
    "CovariateError": "covariates",
    "CovariateSource": "covariates",
    "CovariateStack": "covariates",
    "CovariateTile": "covariates",
    "MapGrid": "covariates",
    "RasterSource": "covariates",
    "SoilSuiteSource": "covariates",
    "covariate_stack": "covariates",
    "find_covariate_sources": "covariates",
    "find_covariate_tiles": "covariates",
    "map_grids": "covariates",
    "Calibration": "model",
    "PropertyModel": "model",
    "PropertyResult": "model",
    "map_property": "model",
    "predict_layers": "model",
    "FAMILY": "properties",
    "PROPERTIES": "properties",
    "QUANTILES": "properties",
    "SoilProperty": "properties",
    "soil_property": "properties",
    "PropertyColumn": "samples",
    "SampleColumns": "samples",
    "SampleError": "samples",
    "Samples": "samples",
    "parse_property": "samples",
    "read_samples": "samples",
}
"""Each name and the module defining it."""


__getattr__ = exports(__name__, _DEFINED_IN)


__all__ = [
    "FAMILY",
    "PROPERTIES",
    "QUANTILES",
    "Calibration",
    "Covariate",
    "CovariateError",
    "CovariateSource",
    "CovariateStack",
    "CovariateTile",
    "MapGrid",
    "PropertyColumn",
    "PropertyModel",
    "PropertyResult",
    "RasterSource",
    "SampleColumns",
    "SampleError",
    "Samples",
    "SoilProperty",
    "SoilSuiteSource",
    "covariate_stack",
    "find_covariate_sources",
    "find_covariate_tiles",
    "map_grids",
    "map_property",
    "parse_property",
    "predict_layers",
    "read_samples",
    "soil_property",
]
