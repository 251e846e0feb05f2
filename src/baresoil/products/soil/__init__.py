"""Soil property maps with uncertainty: digital soil mapping on SoilSuite composites and other covariates.

Soil samples (``samples``) and a covariate stack (``covariates``: any rasters,
SoilSuite composites, terrain) make one quantile regression forest per property
(``model``), validated by spatial block cross-validation, its intervals
calibrated conformally, and mapped as Q05, Q50, Q95 and the uncertainty, the
layers of ``properties``.
"""

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
