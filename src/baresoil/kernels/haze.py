"""Haze and thin cirrus the scene classification missed, found by their spectrum and their extent.

Sen2Cor does not flag haze, and flags cirrus only where it is thick; both add
reflectance with a known spectral shape (haze falls with wavelength as an
Ångström power law, cirrus is flat) over kilometres, while the surface changes
field by field.  Per pixel, each observation's departure from the pixel's
median of the same kind of surface (bare candidates against bare candidates,
the others against the others, since soil and canopy differ far more than any
haze) is projected on each shape with a matched filter: the weights that pass
the shape with gain 1 while damping the departures the surface itself makes,
learnt from the departures' covariance over the block.  Averaged over a window
of a few hundred metres per date, the estimate leaves the surface's own
changes and the sensor noise behind; an observation under an estimate above
the limit is no valid observation.

Arrays are (band, time, pixel) reflectance with NaN where not observed, and
(time, pixel) masks; the window needs the block's (y, x) shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
from scipy import ndimage

from . import parallel_kernel, pixel_stripes

HAZE_ANGSTROM = 1.5
"""Ångström exponent of haze reflectance: aerosol scattering falls as wavelength^-1.5."""


def haze_shape(wavelengths_nm: Sequence[float], exponent: float = HAZE_ANGSTROM) -> np.ndarray:
    """Relative haze reflectance per band, 1 at the shortest wavelength."""
    wl = np.asarray(wavelengths_nm, dtype=np.float64)
    return (wl / wl.min()) ** -exponent


def flat_shape(n_bands: int) -> np.ndarray:
    """Thin cirrus: ice crystals scatter all optical bands alike."""
    return np.ones(n_bands)


def departures(R: np.ndarray, valid: np.ndarray, groups: Sequence[np.ndarray]) -> np.ndarray:
    """(band, time, pixel) departure of each valid observation from its pixel's median of its group.

    ``groups`` are disjoint (time, pixel) masks (kinds of surface); valid observations
    in none of them form one more group.  A pixel without an observation of a group
    falls back to its median of all valid observations.
    """
    label = np.full(valid.shape, -1, dtype=np.int8)
    for index, group in enumerate(groups):
        label[group & valid] = index
    label[valid & (label < 0)] = len(groups)  # valid but in no group: measured against all
    stripes = pixel_stripes(R.shape[2])
    return _departures(np.ascontiguousarray(R, dtype=np.float32), label, len(groups) + 1, stripes)


@parallel_kernel
def _departures(R: np.ndarray, label: np.ndarray, n_groups: int, n_stripes: int) -> np.ndarray:
    n_pix = R.shape[2]
    out = np.full(R.shape, np.nan, dtype=np.float32)
    # pixels are independent: stripes of them on every core (each stripe its own work arrays)
    for stripe in numba.prange(n_stripes):
        first, stop = n_pix * stripe // n_stripes, n_pix * (stripe + 1) // n_stripes
        _departures_of(R, label, n_groups, out, first, stop)
    return out


@numba.njit(cache=True, nogil=True)
def _departures_of(R: np.ndarray, label: np.ndarray, n_groups: int, out: np.ndarray, first: int,
                   stop: int) -> None:  # fmt: skip
    n_band, n_time, _ = R.shape
    values = np.empty(n_time, dtype=np.float32)
    medians = np.empty(n_groups, dtype=np.float32)
    for p in range(first, stop):
        for b in range(n_band):
            n_all = 0
            for t in range(n_time):
                if label[t, p] >= 0:
                    values[n_all] = R[b, t, p]
                    n_all += 1
            if n_all == 0:
                continue
            overall = np.median(values[:n_all])
            for g in range(n_groups):
                n = 0
                for t in range(n_time):
                    if label[t, p] == g:
                        values[n] = R[b, t, p]
                        n += 1
                medians[g] = np.median(values[:n]) if n > 0 else overall
            for t in range(n_time):
                if label[t, p] >= 0:
                    out[b, t, p] = R[b, t, p] - medians[label[t, p]]


COVARIANCE_SAMPLES = 200_000
"""Observations the covariance of the departures is estimated from (evenly spaced; ten bands need no more)."""


def matched_filter(D: np.ndarray, shape: np.ndarray, ridge: float = 1e-8) -> np.ndarray:
    """(time, pixel) amplitude of ``shape`` in the departures ``D`` (NaN where no departure).

    Weights w = C⁻¹s / (sᵀC⁻¹s), with C the covariance of the departures over the
    observations of the block: unbiased for the shape, least variance from the rest.
    """
    flat = D.reshape(D.shape[0], -1)
    observed = np.flatnonzero(np.isfinite(flat).all(axis=0))
    if observed.size <= D.shape[0]:
        return np.full(D.shape[1:], np.nan, dtype=np.float32)
    step = max(1, observed.size // COVARIANCE_SAMPLES)
    cov = np.cov(flat[:, observed[::step]].astype(np.float64)) + ridge * np.eye(D.shape[0])
    weights = np.linalg.solve(cov, shape)
    weights /= weights @ shape
    amplitude = np.zeros(D.shape[1:], dtype=np.float32)
    for band, weight in enumerate(weights.astype(np.float32)):
        amplitude += weight * D[band]  # NaN where the observation has no departure
    return amplitude


def window_mean(values: np.ndarray, ny: int, nx: int, window: int) -> np.ndarray:
    """(time, pixel) mean of the finite ``values`` in a square window, per date (NaN where none).

    The window shrinks at the block's edges instead of inventing values beyond them.
    """
    finite = np.isfinite(values).reshape(-1, ny, nx)
    filled = np.where(finite, values.reshape(-1, ny, nx), 0.0)
    size = (1, window, window)
    total = ndimage.uniform_filter(filled.astype(np.float64), size, mode="constant")
    count = ndimage.uniform_filter(finite.astype(np.float64), size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 1e-9, total / count, np.nan)
    return mean.reshape(values.shape).astype(np.float32)


def hazy_observations(
    R: np.ndarray,
    valid: np.ndarray,
    groups: Sequence[np.ndarray],
    shapes: Sequence[np.ndarray],
    ny: int,
    nx: int,
    window: int,
    limit: float,
) -> np.ndarray:
    """(time, pixel) valid observations under haze or cirrus stronger than ``limit`` (reflectance).

    Each shape is estimated on its own; the window mean of its amplitude over
    ``window`` × ``window`` pixels is compared with ``limit``.
    """
    D = departures(R, valid, groups)
    hazy = np.zeros(valid.shape, dtype=bool)
    for shape in shapes:
        amplitude = window_mean(matched_filter(D, np.asarray(shape, dtype=np.float64)), ny, nx, window)
        with np.errstate(invalid="ignore"):
            hazy |= amplitude > limit
    return hazy & valid


__all__ = [
    "COVARIANCE_SAMPLES",
    "HAZE_ANGSTROM",
    "departures",
    "flat_shape",
    "haze_shape",
    "hazy_observations",
    "matched_filter",
    "window_mean",
]
