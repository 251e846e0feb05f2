"""Inputs a user brings beside the STAC sources: declared parcels (and, later, other vectors)."""

from .parcels import (
    ParcelError,
    ParcelSet,
    default_buffer_m,
    pixel_counts,
    rasterise_parcels,
    read_parcels,
)

__all__ = [
    "ParcelError",
    "ParcelSet",
    "default_buffer_m",
    "pixel_counts",
    "rasterise_parcels",
    "read_parcels",
]
