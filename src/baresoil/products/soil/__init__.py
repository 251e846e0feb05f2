"""Soil property maps with uncertainty: digital soil mapping on the SoilSuite composites.

Soil samples (``samples``) and a covariate stack (``covariates``: SoilSuite
composites, terrain, extra rasters) make one quantile regression forest per
property (``model``), validated by spatial block cross-validation and mapped as
Q05, Q50, Q95 and the uncertainty, the layers of ``properties``.
"""

from .covariates import (
    Covariate,
    CovariateError,
    CovariateStack,
    CovariateTile,
    covariate_stack,
    find_covariate_tiles,
)
from .model import PropertyModel, PropertyResult, map_property, predict_layers
from .properties import FAMILY, PROPERTIES, QUANTILES, SoilProperty
from .samples import PropertyColumn, SampleColumns, SampleError, Samples, parse_property, read_samples

__all__ = [
    "FAMILY",
    "PROPERTIES",
    "QUANTILES",
    "Covariate",
    "CovariateError",
    "CovariateStack",
    "CovariateTile",
    "PropertyColumn",
    "PropertyModel",
    "PropertyResult",
    "SampleColumns",
    "SampleError",
    "Samples",
    "SoilProperty",
    "covariate_stack",
    "find_covariate_tiles",
    "map_property",
    "parse_property",
    "predict_layers",
    "read_samples",
]
