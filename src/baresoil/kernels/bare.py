"""Per-observation bare-surface rules and the per-pixel filters around them.

Arrays are (time, pixel) or any shape with time first; reflectance NaN means
no clear observation, and every rule is False there.
"""

from __future__ import annotations

import numba
import numpy as np

from .baresoil_periods import CalibrationThresholds
from .composite import masked_median
from .indices import nbr2, ndti, ndvi, pvir2, vnsir

NMAD_FACTOR = 1.4826
"""Scale of the median absolute deviation to a normal standard deviation."""
_SEN4CAP = CalibrationThresholds()


def bare_pvir2(
    B04: np.ndarray, B08: np.ndarray, B12: np.ndarray, threshold: np.ndarray | float
) -> np.ndarray:
    """SCMaP: bare where PVIR2 <= threshold (a scalar or a per-pixel array)."""
    return pvir2(B04, B08, B12) <= threshold


def bare_geos3(B02: np.ndarray, B03: np.ndarray, B04: np.ndarray, B08: np.ndarray, B11: np.ndarray,
               B12: np.ndarray) -> np.ndarray:  # fmt: skip
    """GEOS3 / SYSI (Demattê et al. 2020): -0.25 <= NDVI <= 0.25, -0.30 <= NBR2 <= 0.10, VNSIR <= 0.9."""
    v = ndvi(B04, B08)
    n2 = nbr2(B11, B12)
    return (v >= -0.25) & (v <= 0.25) & (n2 >= -0.30) & (n2 <= 0.10) & (vnsir(B02, B03, B04, B08, B12) <= 0.9)


def bare_sen4cap(B04: np.ndarray, B08: np.ndarray, B11: np.ndarray, B12: np.ndarray) -> np.ndarray:
    """Sen4CAP bare-soil calibration rule: NDVI < 0.15 and NDTI <= 0.10 (its calibration thresholds,
    :class:`~baresoil.kernels.baresoil_periods.CalibrationThresholds`)."""
    return (ndvi(B04, B08) < _SEN4CAP.bs_ndvi) & (ndti(B11, B12) <= _SEN4CAP.bs_ndti)


def blue_outliers(
    B02: np.ndarray,
    candidates: np.ndarray,
    sigma: float,
    floor: float,
    swir: np.ndarray | None = None,
) -> np.ndarray:
    """Residual haze and cloud: candidate observations too bright in blue for their pixel.

    Per pixel over time, among the candidate observations: outlier where
    B02 > median + sigma * 1.4826 * MAD and B02 > median + floor (SCMaP: sigma 3,
    floor 80 DN = 0.008).  One-sided: haze only brightens.

    With ``swir`` (the same observations' SWIR reflectance), the brightening must also
    have the shape of haze or thin cloud: relative to the pixel's medians, more in the
    blue than in the SWIR.  Haze and cirrus add reflectance that falls with wavelength or
    stays flat over a soil far darker in the blue than in the SWIR, so they raise the
    blue by a larger factor; a drier soil (or a rougher, brighter one) raises every band,
    the SWIR by the larger factor, and is no haze.
    """
    median = masked_median(B02, candidates)
    with np.errstate(invalid="ignore"):
        mad = masked_median(np.abs(B02 - median), candidates)
    limit = np.maximum(median + sigma * NMAD_FACTOR * mad, median + floor)
    with np.errstate(invalid="ignore"):
        outliers = candidates & (limit < B02)
    if swir is None:
        return outliers
    swir_median = masked_median(swir, candidates)
    with np.errstate(invalid="ignore", divide="ignore"):
        return outliers & (B02 * swir_median > swir * median)


@numba.njit(cache=True)
def bare_periods(
    bare: np.ndarray, valid: np.ndarray, doy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last bare day of year and the number of separate bare periods, per pixel.

    ``bare`` and ``valid`` are (time, pixel) booleans, ``doy`` the day of year of
    each date.  A bare period is a run of bare observations that no valid
    non-bare observation interrupts (cloudy dates do not end a period), so the
    count indicates separate tillage events.  Pixels never bare get NaN and 0.
    """
    n_time, n_pix = bare.shape
    first = np.full(n_pix, np.nan, dtype=np.float32)
    last = np.full(n_pix, np.nan, dtype=np.float32)
    count = np.zeros(n_pix, dtype=np.float32)
    for p in range(n_pix):
        in_period = False
        for t in range(n_time):
            if bare[t, p]:
                if np.isnan(first[p]):
                    first[p] = doy[t]
                last[p] = doy[t]
                if not in_period:
                    count[p] += 1
                    in_period = True
            elif valid[t, p]:
                in_period = False
    return first, last, count


def mask_classes(
    vobs: np.ndarray, bobs: np.ndarray, candidates: np.ndarray, other: np.ndarray, min_bare: int
) -> np.ndarray:
    """SCMaP's 3-class mask, later rules winning: 2 never bare, 1 bare often enough, 3 other.

    ``candidates`` counts the observations that ever passed the bare rule (before
    the blue filter): a pixel with valid observations and none passing is
    permanent vegetation.  Pixels with some, but fewer than ``min_bare``, bare
    observations, or with no valid observation, stay undecided (NaN).
    """
    out = np.full(vobs.shape, np.nan, dtype=np.float32)
    out[(vobs > 0) & (candidates == 0)] = 2
    out[bobs >= min_bare] = 1
    out[other] = 3
    return out


def dark_outliers(brightness: np.ndarray, candidates: np.ndarray, ratio: float) -> np.ndarray:
    """Missed cloud shadows: candidate observations far darker than their pixel's median.

    A shadow multiplies every band by 0.2-0.4 (diffuse light only), while soil
    moisture darkens by less than a third, so an observation whose NIR-SWIR
    brightness is below ``ratio`` times the median of the pixel's candidates is
    dropped.  ``ratio`` 0 disables the filter.
    """
    if ratio <= 0:
        return np.zeros_like(candidates)
    median = masked_median(brightness, candidates)
    with np.errstate(invalid="ignore"):
        return candidates & (brightness < ratio * median)
