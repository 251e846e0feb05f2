"""Product families: functions from the observation cube to labelled layers.

Importing this package registers every family's layers in the product
registry, so any reader of the registry (COG writer, STAC, report) sees them all.
"""

from . import composite, observations, seasons, soil, soilsuite
from .base import ProductPeriod, period_label, whole_and_yearly_periods

__all__ = [
    "ProductPeriod",
    "composite",
    "observations",
    "period_label",
    "seasons",
    "soil",
    "soilsuite",
    "whole_and_yearly_periods",
]
