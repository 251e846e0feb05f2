"""Temporal composites: clear-sky surface reflectance per calendar period (the Sentinel-2 Global Mosaic's).

Per period (dekad, month, quarter or year, see :mod:`.calendar`) and pixel, the
valid observations are the cube's clear-sky ones (SCL clear classes outside the
cloud buffer, see ``cube.masks``) with every composited band present; their
median, mean or geometric median is the composite, and their number is
``NVALID``.  A period without any valid observation at a pixel leaves it nodata
there, with ``NVALID`` 0; a period without any scene at all is still written (all
nodata), so that every run has the same sequence of periods.

The work of one spatial chunk (all dates) is one call of ``_composite_block``
through the kernel adapter (``products.apply``), which returns every period's
layers by name, as for SoilSuite: the cube is read once for all periods.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import xarray as xr

from ..catalog.layouts import BAND_CENTRE_NM, COMMON_NAME, REFLECTANCE_BANDS
from ..catalog.source import TimeRange
from ..config import CompositeConfig, Config
from ..errors import ConfigError
from ..kernels.temporal import temporal_composite, valid_counts
from ..registry import Layer, register
from .apply import Input, per_chunk_groups
from .base import ProductPeriod
from .calendar import calendar_periods

FAMILY = "composite"
VALID_COUNT = "NVALID"
STAT_TITLES = {"median": "median", "mean": "mean", "geomedian": "geometric median"}


def _band_layer(band: str) -> Layer:
    name = f"{COMMON_NAME[band]}, " if band in COMMON_NAME else ""
    return Layer(band, FAMILY, f"{band} composite",
                 f"Surface reflectance of {band} ({name}{BAND_CENTRE_NM[band]} nm) composited over the "
                 "period's valid observations (the statistic is the item's baresoil:stat).",
                 "int16", -32768, scale=1e-4, unit="1", quicklook=False)  # fmt: skip


register(
    *(_band_layer(band) for band in REFLECTANCE_BANDS),
    Layer(VALID_COUNT, FAMILY, "Valid observations",
          "Clear-sky observations with every composited band in the period: what the composite is made of "
          "(0 where the period saw the pixel only under clouds, or not at all).", "uint16", 65535,
          unit="count"),
)  # fmt: skip


def composite_bands(params: CompositeConfig) -> tuple[str, ...]:
    """The bands composited, in the cube's order; an unknown band is a :class:`ConfigError`."""
    if not params.bands:
        return REFLECTANCE_BANDS
    unknown = [b for b in params.bands if b not in REFLECTANCE_BANDS]
    if unknown:
        raise ConfigError(
            f"unknown band(s) {', '.join(unknown)}; composites have {', '.join(REFLECTANCE_BANDS)}"
        )
    return tuple(b for b in REFLECTANCE_BANDS if b in params.bands)


def check_settings(params: CompositeConfig) -> None:
    """Refuse settings the product cannot honour before anything is read."""
    composite_bands(params)


def composite(cube: xr.Dataset, period: TimeRange, config: Config) -> list[ProductPeriod]:
    """The composite bands and NVALID of ``cube`` for every calendar period of ``period``."""
    params = config.composite
    check_settings(params)
    bands = composite_bands(params)
    periods = calendar_periods(params.every, period)
    times = cube.time.values.astype("datetime64[D]")
    masks = tuple(
        (times >= np.datetime64(p.span.start)) & (times <= np.datetime64(p.span.end)) for p in periods
    )
    kernel = partial(
        _composite_block,
        periods=masks,
        stat=params.stat,
        min_valid=params.min_valid_obs,
        max_iterations=params.geomedian_max_iterations,
        tolerance=params.geomedian_tolerance,
        bands=bands,
    )
    inputs = [Input([cube[b].data for b in bands], "btyx"), Input(cube.clear.data, "tyx")]
    layers = dict.fromkeys((*bands, VALID_COUNT), 1)
    results = per_chunk_groups(kernel, inputs, [layers] * len(periods), y=cube.y, x=cube.x)
    return [ProductPeriod(p.span, p.label, ds) for p, ds in zip(periods, results, strict=True)]


def _composite_block(
    refl: np.ndarray,
    clear: np.ndarray,
    *,
    shape: tuple[int, int],
    periods: tuple[np.ndarray, ...],
    stat: str,
    min_valid: int,
    max_iterations: int,
    tolerance: float,
    bands: tuple[str, ...],
) -> dict[tuple[int, str], np.ndarray]:
    """Every period's composite bands and count for one chunk, from reflectance (band, time, pixel) and
    clear (time, pixel): keyed by (period index, layer code), float32 with NaN = missing."""
    valid = clear & np.isfinite(refl).all(axis=0)
    out: dict[tuple[int, str], np.ndarray] = {}
    for i, dates in enumerate(periods):
        when = valid[dates]
        values = temporal_composite(refl[:, dates], when, stat, min_valid, max_iterations, tolerance)
        out |= {(i, band): value for band, value in zip(bands, values, strict=True)}
        out[(i, VALID_COUNT)] = valid_counts(when)
    return out
