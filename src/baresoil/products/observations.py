"""Observation statistics of the cube: how many scenes, how many clear, how many snowy.

The first product every run can make, and the denominator of every frequency
the other products report.
"""

from __future__ import annotations

import xarray as xr

from ..catalog.source import TimeRange
from ..config import Config
from ..registry import Layer, register
from .base import ProductPeriod, period_label

FAMILY = "observations"
register(
    Layer(
        "NOBS",
        FAMILY,
        "Observations",
        "Number of scenes with data at the pixel (after scene filters).",
        "uint16",
        65535,
        unit="count",
    ),
    Layer(
        "NCLEAR",
        FAMILY,
        "Clear-sky observations",
        "Number of observations classified clear (SCL 4, 5, 6) and outside the cloud buffer.",
        "uint16",
        65535,
        unit="count",
    ),
    Layer(
        "NSNOW",
        FAMILY,
        "Snow observations",
        "Number of observations classified snow or ice (SCL 11).",
        "uint16",
        65535,
        unit="count",
    ),
)


def observation_counts(cube: xr.Dataset, period: TimeRange, config: Config) -> list[ProductPeriod]:
    """NOBS, NCLEAR and NSNOW over the whole period."""
    layers = xr.Dataset(
        {
            "NOBS": (cube.SCL > 0).sum("time").astype("float32"),
            "NCLEAR": cube.clear.sum("time").astype("float32"),
            "NSNOW": cube.snow.sum("time").astype("float32"),
        }
    )
    return [ProductPeriod(period, period_label(period), layers)]
