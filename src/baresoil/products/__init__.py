"""Product families: functions from the observation cube to labelled layers.

Each family registers its layers in the product registry when its module is imported;
:func:`register_all` imports every family, and the registry calls it (through the loader the
package root adds) before it answers a question about a layer it does not know, so any reader of
the registry (COG writer, STAC, report) sees them all.  Importing this package alone is cheap: a
run of one family does not import the others (the soil maps' scikit-learn and scipy.stats).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

FAMILY_MODULES = ("composite", "observations", "seasons", "soil", "soilsuite")
"""The families with raster layers."""
_LAYER_MODULES = ("composite", "observations", "seasons", "soil.properties", "soilsuite")
"""The modules that register the families' layers, in the order they register them."""

if TYPE_CHECKING:
    from . import composite, observations, seasons, soil, soilsuite
    from .base import ProductPeriod, period_label, whole_and_yearly_periods

_FROM_BASE = ("ProductPeriod", "period_label", "whole_and_yearly_periods")


def register_all() -> None:
    """Import every family's module: each registers its layers."""
    for name in _LAYER_MODULES:
        import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    if name in FAMILY_MODULES:
        return import_module(f"{__name__}.{name}")
    if name in _FROM_BASE:
        return getattr(import_module(f"{__name__}.base"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FAMILY_MODULES",
    "ProductPeriod",
    "composite",
    "observations",
    "period_label",
    "register_all",
    "seasons",
    "soil",
    "soilsuite",
    "whole_and_yearly_periods",
]
