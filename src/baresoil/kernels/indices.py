"""Spectral indices of surface reflectance (any array shape, NaN propagates).

Band arguments are named by Sentinel-2 band so that a call reads like its formula.
"""

from __future__ import annotations

import numpy as np


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b); NaN where the sum is zero."""
    total = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total != 0, (a - b) / total, np.nan).astype(np.result_type(a, np.float32))


def ndvi(B04: np.ndarray, B08: np.ndarray) -> np.ndarray:
    """Normalised difference vegetation index."""
    return normalized_difference(B08, B04)


def nbr(B08: np.ndarray, B12: np.ndarray) -> np.ndarray:
    """Normalised burn ratio, NIR against SWIR2 (the NBR of DLR's PVIR2)."""
    return normalized_difference(B08, B12)


def nbr2(B11: np.ndarray, B12: np.ndarray) -> np.ndarray:
    """SWIR1 against SWIR2; the same formula as the tillage index NDTI."""
    return normalized_difference(B11, B12)


ndti = nbr2


def pvir2(B04: np.ndarray, B08: np.ndarray, B12: np.ndarray) -> np.ndarray:
    """PVIR2 = NDVI + NBR (SCMaP): low for soil, high for green and for dry vegetation."""
    return ndvi(B04, B08) + nbr(B08, B12)


def vnsir(B02: np.ndarray, B03: np.ndarray, B04: np.ndarray, B08: np.ndarray, B12: np.ndarray) -> np.ndarray:
    """Visible-NIR-SWIR index of GEOS3: 1 - [(2R - G - B) + 3 (SWIR2 - NIR)]."""
    return 1.0 - ((2 * B04 - B03 - B02) + 3 * (B12 - B08))


def mndwi(B03: np.ndarray, B11: np.ndarray) -> np.ndarray:
    """Modified normalised difference water index: positive over open water."""
    return normalized_difference(B03, B11)
