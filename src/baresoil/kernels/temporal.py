"""Per-pixel temporal reductions of reflectance: median, mean and geometric median, with counts.

Arrays are (band, time, pixel) reflectance and a (time, pixel) mask of the valid
observations; every reduction returns (band, pixel) float32, NaN where a pixel
has fewer than ``min_valid`` valid observations, and the counts.

* ``median`` and ``mean`` reduce each band on its own (the median of an even count
  is the mean of the two middle values, as numpy's, xarray's and openEO's are);
* ``geomedian`` is the geometric median of the spectra (the point of band space
  with the least summed Euclidean distance to the observations): a spectrum the
  bands agree on, robust to the clouds and shadows the mask missed, as the
  Geoscience Australia / Digital Earth geomedian composites.  It is computed by
  the ``geomad`` library (Geoscience Australia's implementation of the modified
  Weiszfeld algorithm of Vardi and Zhang, the engine of odc-algo's geomedian).
"""

from __future__ import annotations

import warnings

import numpy as np

STATS = ("median", "mean", "geomedian")


def valid_counts(valid: np.ndarray) -> np.ndarray:
    """Valid observations per pixel: (time, pixel) bool -> (pixel,) float32."""
    return valid.sum(axis=0).astype(np.float32)


def temporal_composite(
    R: np.ndarray,
    valid: np.ndarray,
    stat: str,
    min_valid: int = 1,
    max_iterations: int = 1000,
    tolerance: float = 1e-6,
) -> np.ndarray:
    """The composite of ``R`` (band, time, pixel) over its ``valid`` (time, pixel) observations."""
    if stat not in STATS:
        raise ValueError(f"unknown statistic {stat!r}; choose one of {', '.join(STATS)}")
    n_band, _, n_pixel = R.shape
    out = np.full((n_band, n_pixel), np.nan, np.float32)
    count = valid.sum(axis=0)
    enough = count >= max(min_valid, 1)
    if not enough.any():
        return out
    masked = np.where(valid[None, :, enough], R[:, :, enough], np.nan).astype(np.float32)
    if stat == "median":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[:, enough] = np.nanmedian(masked, axis=1)
    elif stat == "mean":
        out[:, enough] = np.nansum(masked, axis=1, dtype=np.float64) / count[enough]
    else:
        out[:, enough] = geometric_median(masked, max_iterations, tolerance)
    return out


def geometric_median(X: np.ndarray, max_iterations: int = 1000, tolerance: float = 1e-6) -> np.ndarray:
    """Geometric median of each pixel's spectra: X (band, time, pixel), NaN for a missing observation
    (all its bands), -> (band, pixel) float32.  Single-threaded: dask runs the blocks in parallel."""
    from geomad import nangeomedian_pcm  # the compiled kernel; imported here, where it is needed

    n_band, n_time, n_pixel = X.shape
    stacked = np.ascontiguousarray(X.transpose(2, 0, 1).reshape(1, n_pixel, n_band, n_time), np.float32)
    result = nangeomedian_pcm(stacked, maxiters=max_iterations, eps=tolerance, num_threads=1)
    return np.asarray(result, np.float32)[0].T
