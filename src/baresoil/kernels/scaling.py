"""Digital numbers to surface reflectance."""

from __future__ import annotations

import numpy as np


def dn_to_reflectance(dn: np.ndarray, scale: np.ndarray, offset: np.ndarray, nodata: float) -> np.ndarray:
    """float32 reflectance from DN of shape (time, ...), with per-date scale and offset.

    ``scale`` and ``offset`` have one value per date, because the baseline-04.00
    offset changes from one acquisition to the next. Nodata becomes NaN.
    """
    shape = (-1,) + (1,) * (dn.ndim - 1)
    out = dn.astype(np.float32)
    out *= np.asarray(scale, dtype=np.float32).reshape(shape)
    out += np.asarray(offset, dtype=np.float32).reshape(shape)
    out[dn == nodata] = np.nan
    return out
