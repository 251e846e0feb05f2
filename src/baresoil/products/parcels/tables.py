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

import pandas as pd
import xarray as xr

from ...catalog.source import TimeRange
from ...config import Config
from ...inputs.parcels import ParcelSet


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
