"""Per-parcel table products computed from the markers database, run after it.

A table product is a function of a :class:`ParcelContext` (the parcels, the
long markers table, the period and the configuration) returning named tables.
``baresoil parcels`` computes the markers, then runs every registered product
in registration order and writes each returned table as ``<name>.parquet``
(GeoParquet when it is a GeoDataFrame, i.e. has the parcel geometry) and
``<name>.csv``, all described in the output STAC item.

A product module registers itself at import time::

    register_table_product(TableProduct("bare_soil", "Bare-soil periods", "…", bare_soil_tables))

and is imported from :mod:`baresoil.products.parcels` so that the registry knows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ...catalog.source import TimeRange
from ...config import Config
from ...inputs.parcels import ParcelSet


@dataclass(frozen=True)
class PixelNdvi:
    """NDVI of every parcel pixel on every date of the cube (NaN where not clear), kept by the markers
    pass so that products that need the pixels' NDVI (heterogeneity's zones) do not read the scenes
    again."""

    days: np.ndarray
    """Day numbers (days since 1970-01-01) of the cube's dates (time,)."""
    flat: np.ndarray
    """Flat (row-major) indices on the cube's grid of the pixels with a parcel code, ascending (pixel,)."""
    values: np.ndarray
    """(time, pixel) float32."""


@dataclass(frozen=True)
class ParcelContext:
    """Everything a table product may use."""

    parcels: ParcelSet
    """The parcels (EPSG:3035, buffered and clipped), with ``n_pixels`` and, when the command got a
    category column, ``category``."""
    markers: pd.DataFrame
    """The long markers table (:data:`baresoil.products.parcels.markers.MARKER_COLUMNS`)."""
    period: TimeRange
    config: Config
    has_s1: bool
    """Whether Sentinel-1 markers (source ``S1``) were computed."""
    cube: xr.Dataset | None = None
    """The observation cube of the run, for products that need pixels (heterogeneity)."""
    codes: xr.DataArray | None = None
    """The parcel codes on the cube's grid (0 = no parcel)."""
    s1: xr.Dataset | None = None
    """The Sentinel-1 cube (VV, VH in dB) on the same grid, when given."""
    pixel_ndvi: PixelNdvi | None = None
    """The parcel pixels' NDVI, when the markers pass kept it (else products read ``cube``)."""


TableFunction = Callable[[ParcelContext], Mapping[str, pd.DataFrame]]


@dataclass(frozen=True)
class TableProduct:
    """A named product of one or more tables."""

    name: str
    title: str
    description: str
    run: TableFunction
    """Tables by name (file stem: letters, digits, ``_``); names must not clash with other products'."""


_PRODUCTS: dict[str, TableProduct] = {}


def register_table_product(product: TableProduct) -> None:
    """Add (or replace, on re-import) a product; it runs after those registered before it."""
    _PRODUCTS[product.name] = product


def table_products() -> list[TableProduct]:
    """The registered products, in registration order."""
    return list(_PRODUCTS.values())
