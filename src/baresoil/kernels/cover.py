"""How much of a pixel is exposed soil: linear unmixing against the pixel's own soil.

A spectral index with a threshold cannot tell a field half covered by straw
from a bare one: residue lowers PVIR2 as soil does, and a soil under 3 % green
can sit above a threshold a residue mixture sits below.  A pixel's reflectance
is, to first order, a linear mixture of soil, non-photosynthetic vegetation
(residue, dry stalks: NPV) and green vegetation (PV), so the share of each can
be solved for per observation, as fractional-cover products do.

* The soil endmember is the pixel's own: the mean of its ``k`` bare candidates
  with the lowest NDTI (tillage index; residue raises it), so that a reddish
  sandy soil and a dark clay are each measured against themselves.  Moisture
  darkens soil, the SWIR most; a second soil column (the soil times the
  relative darkening per band) absorbs it so that a wet soil is not taken for
  a mixture.
* The NPV and PV endmembers come from the scene: the mean spectrum of the
  observations at the extremes of the block's cloud (the highest NDVI for PV,
  the highest NDTI among bright observations without much green for NPV), as
  image-derived endmember selection does; a library spectrum stands in where a
  block holds too few such observations.

An observation is bare where the soil share of soil + NPV + PV reaches
``min_soil`` and the PV share stays under ``max_green``.

Arrays are (band, time, pixel) reflectance with NaN where not observed and
(time, pixel) masks, in the band order of ``catalog.layouts.REFLECTANCE_BANDS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .indices import ndti, ndvi

BAND_ORDER = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
"""Band order of every spectrum here (that of ``catalog.layouts.REFLECTANCE_BANDS``, checked by a test)."""
_B04, _B08, _B11, _B12 = (BAND_ORDER.index(b) for b in ("B04", "B08", "B11", "B12"))

LIBRARY_PV = np.array([0.03, 0.06, 0.035, 0.10, 0.27, 0.35, 0.39, 0.40, 0.20, 0.10], np.float32)
"""Dense green crop canopy, used where a block has too few green observations of its own."""
LIBRARY_NPV = np.array([0.07, 0.10, 0.12, 0.15, 0.18, 0.21, 0.23, 0.25, 0.32, 0.23], np.float32)
"""Weathered cereal residue, used where a block has too few residue observations of its own."""
MOISTURE_DARKENING = np.array([0.40, 0.40, 0.40, 0.41, 0.41, 0.42, 0.42, 0.42, 0.50, 0.52], np.float32)
"""Relative reflectance loss of a saturated topsoil per band: water absorbs most in the SWIR."""

MIN_ENDMEMBER_OBS = 100
"""Fewer extreme observations than this in a block and the library spectrum is used."""


@dataclass(frozen=True)
class SceneEndmembers:
    pv: np.ndarray
    npv: np.ndarray


def scene_endmembers(
    R: np.ndarray,
    valid: np.ndarray,
    *,
    quantile: float = 0.995,
    npv_max_ndvi: float = 0.35,
    npv_min_swir: float = 0.15,
    npv_min_ndti: float = float("nan"),
    pv_min_ndvi: float = 0.5,
    pv: np.ndarray | None = None,
) -> SceneEndmembers:
    """PV and NPV spectra from the extremes of a block's valid observations (``pv`` when the caller has
    already read it with :func:`green_endmember`).

    NPV is taken only from observations whose NDTI exceeds ``npv_min_ndti`` (the soil's, where known): in
    a block without residue the highest NDTI is its soil's, and soil taken for residue would split every
    bare observation in two.  PV likewise comes only from observations greener than ``pv_min_ndvi``: a
    block without a canopy (a bare year, a winter) takes the library's.
    """
    greenness, tillage = ndvi(R[_B04], R[_B08]), ndti(R[_B11], R[_B12])
    ok = valid & np.isfinite(greenness) & np.isfinite(tillage)
    if pv is None:
        pv = green_endmember(R, valid, quantile=quantile, pv_min_ndvi=pv_min_ndvi)
    # water and shadow have a high NDTI too: NPV is bright in the SWIR and not green
    with np.errstate(invalid="ignore"):
        dry = ok & (greenness < npv_max_ndvi) & (R[_B11] > npv_min_swir)
    npv = _extreme_mean(R, tillage, dry, quantile, LIBRARY_NPV, above=npv_min_ndti)
    return SceneEndmembers(pv=pv, npv=npv)


def green_endmember(R: np.ndarray, valid: np.ndarray, *, quantile: float = 0.995,
                    pv_min_ndvi: float = 0.5) -> np.ndarray:  # fmt: skip
    """The PV spectrum of :func:`scene_endmembers`: the mean of the block's greenest observations."""
    greenness, tillage = ndvi(R[_B04], R[_B08]), ndti(R[_B11], R[_B12])
    ok = valid & np.isfinite(greenness) & np.isfinite(tillage)
    return _extreme_mean(R, greenness, ok, quantile, LIBRARY_PV, above=pv_min_ndvi)


def _extreme_mean(R: np.ndarray, score: np.ndarray, where: np.ndarray, quantile: float,
                  fallback: np.ndarray, above: float = float("nan")) -> np.ndarray:  # fmt: skip
    """Mean spectrum of the observations scoring in the top ``quantile`` (and above ``above``)."""
    values = score[where]
    if values.size == 0:
        return fallback
    top = where & (score >= np.quantile(values, quantile))
    if np.isfinite(above):
        top &= score > above
    if top.sum() < MIN_ENDMEMBER_OBS:
        return fallback
    return R[:, top].mean(axis=1).astype(np.float32)


SOIL_MAX_NDVI = 0.3
"""NDVI ceiling of a soil reference where the data give none (no candidates, no canopy in the block)."""


def soil_reference(R: np.ndarray, candidates: np.ndarray, k: int = 2,
                   max_ndvi: float = SOIL_MAX_NDVI, share: float = 0.5) -> np.ndarray:  # fmt: skip
    """(band, pixel) soil spectrum of each pixel: the per-band median of the less-covered ``share`` of its
    bare candidates that are not green (NDVI under ``max_ndvi``), those with the lowest NDTI, and at least
    the ``k`` lowest; NaN with fewer than ``k``.

    Residue raises NDTI, so the lower half holds the least covered soil.  The median of that half rather
    than the very lowest dates: a series' extremes are where what the sky screens missed sits (a thin
    cloud shadow, bluer and darker than the soil, lowers NDTI), and a reference taken from it makes every
    clear, drier date look like soil mixed with residue.
    """
    tillage = ndti(R[_B11], R[_B12])
    with np.errstate(invalid="ignore"):
        soil_like = candidates & np.isfinite(tillage) & (ndvi(R[_B04], R[_B08]) < max_ndvi)
    count = soil_like.sum(axis=0)
    used = np.maximum(k, np.ceil(share * count).astype(int))  # the lower half, at least k
    out = np.full((R.shape[0], R.shape[2]), np.nan, np.float32)
    pixels = np.flatnonzero(count >= k)
    for start in range(0, pixels.size, PIXEL_BATCH):
        batch = pixels[start : start + PIXEL_BATCH]
        n = used[batch]
        ranked = np.where(soil_like[:, batch], tillage[:, batch], np.inf)
        order = np.argsort(ranked, axis=0)[: n.max()]
        spectra = R[:, order, batch[None, :]]  # (band, used, pixel)
        lower = np.arange(order.shape[0])[:, None] < n[None]
        ordered = np.sort(np.where(lower[None], spectra, np.inf), axis=1)  # the used ones first, per band
        middle = np.take_along_axis(ordered, np.stack([(n - 1) // 2, n // 2])[None], axis=1)
        out[:, batch] = middle.mean(axis=1)  # the median of the n lowest-NDTI dates' values
    return out


def soil_ndvi_ceiling(R: np.ndarray, candidates: np.ndarray, pv: np.ndarray) -> float:
    """The NDVI above which a soil reference is taken for green: midway between the block's bare
    candidates (their median NDVI) and its canopy (the green endmember's NDVI); :data:`SOIL_MAX_NDVI`
    without candidates.

    Soils' NDVI moves with their colour: an iron-rich red soil absorbs the red and reads 0.3–0.45 bare,
    where a grey one reads 0.1.  A ceiling halfway to the canopy follows the block's own soils and
    vegetation rather than one world's.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        greenness = ndvi(R[_B04], R[_B08])[candidates]
        canopy = float((pv[_B08] - pv[_B04]) / (pv[_B08] + pv[_B04]))
    greenness = greenness[np.isfinite(greenness)]
    if greenness.size == 0 or not np.isfinite(canopy):
        return SOIL_MAX_NDVI
    return (float(np.median(greenness)) + canopy) / 2


def cover_fractions(R: np.ndarray, soil: np.ndarray, scene: SceneEndmembers,
                    moisture: np.ndarray = MOISTURE_DARKENING) -> np.ndarray:  # fmt: skip
    """(3, time, pixel) soil, NPV and PV shares (summing to 1); NaN without a soil reference."""
    return shares_of(unmix(R, soil, scene, moisture))


def unmix(R: np.ndarray, soil: np.ndarray, scene: SceneEndmembers,
          moisture: np.ndarray = MOISTURE_DARKENING) -> np.ndarray:  # fmt: skip
    """(4, time, pixel) abundances of the soil, its darkening by moisture, NPV and PV; NaN without a soil
    reference or an observation.

    The endmember matrix is per pixel (its own soil) and the same at every date, so
    each pixel is one small normal-equation solve with every date as a right-hand side.
    Pixels go in batches so that the float64 working copy stays small.
    """
    _, n_time, n_pixel = R.shape
    out = np.full((4, n_time, n_pixel), np.nan, np.float32)
    pixels = np.flatnonzero(np.isfinite(soil).all(axis=0))
    for start in range(0, pixels.size, PIXEL_BATCH):
        batch = pixels[start : start + PIXEL_BATCH]
        out[:, :, batch] = _abundances(R[:, :, batch], soil[:, batch], scene, moisture)
    return out


def shares_of(abundances: np.ndarray) -> np.ndarray:
    """(3, time, pixel) soil, NPV and PV shares summing to 1, from :func:`unmix`'s abundances."""
    shares = np.clip(abundances[[0, 2, 3]], 0.0, None)  # a negative part is fitting noise, not a cover
    with np.errstate(invalid="ignore", divide="ignore"):
        return (shares / shares.sum(axis=0, keepdims=True)).astype(np.float32)


def own_soil(
    R: np.ndarray, abundances: np.ndarray, scene: SceneEndmembers, min_rest: float = 0.6
) -> np.ndarray:
    """(band, time, pixel) reflectance of the soil itself under each observation: the observation less
    its NPV and PV parts, divided by what is left of the pixel (moisture stays: it is the soil's).

    NaN where the abundances are (no soil reference) or the soil's part is under ``min_rest``.
    """
    npv, pv = (np.clip(abundances[k], 0.0, 1.0)[None] for k in (2, 3))  # negative parts are fitting noise
    rest = 1.0 - npv - pv
    with np.errstate(invalid="ignore", divide="ignore"):
        soil = (R - npv * scene.npv[:, None, None] - pv * scene.pv[:, None, None]) / rest
        return np.where(rest >= min_rest, soil, np.nan).astype(np.float32)


PIXEL_BATCH = 4096
"""Pixels unmixed at once: (batch, band, time) float64 takes about 50 MB for 146 dates."""


def _abundances(R: np.ndarray, soil: np.ndarray, scene: SceneEndmembers, moisture: np.ndarray) -> np.ndarray:
    s = soil.T.astype(np.float64)  # (pixel, band)
    columns = [s, -s * moisture, np.broadcast_to(scene.npv, s.shape), np.broadcast_to(scene.pv, s.shape)]
    members = np.stack(columns, axis=-1)  # (pixel, band, 4)
    observed = np.nan_to_num(np.moveaxis(R, 2, 0).astype(np.float64))  # (pixel, band, time)
    gram = members.transpose(0, 2, 1) @ members
    coef = np.linalg.solve(gram + 1e-9 * np.eye(4), members.transpose(0, 2, 1) @ observed)  # (pixel, 4, time)
    seen = np.isfinite(R).all(axis=0)  # (time, pixel)
    return np.where(seen[None], np.moveaxis(coef, 0, 2), np.nan)


def mostly_soil(fractions: np.ndarray, min_soil: float, max_green: float) -> np.ndarray:
    """(time, pixel) True where the soil share reaches ``min_soil`` and green stays under ``max_green``."""
    soil, _, green = fractions
    with np.errstate(invalid="ignore"):
        return (soil >= min_soil) & (green < max_green)


def regional_soil_ndti(soil: np.ndarray, quantile: float = 0.1) -> float:
    """The NDTI of bare soil in a block: a low quantile of its pixels' soil references' NDTI (NaN without).

    Soils' NDTI varies little (the clay absorption moves it by a few hundredths); a pixel that was
    never bare has a reference with residue in it, whose NDTI stands above its neighbours'.
    """
    tillage = ndti(soil[_B11], soil[_B12])
    tillage = tillage[np.isfinite(tillage)]
    return float(np.quantile(tillage, quantile)) if tillage.size else float("nan")


def decontaminate(soil: np.ndarray, npv: np.ndarray, ceiling: float) -> np.ndarray:
    """(band, pixel) soil references whose NDTI exceeds ``ceiling`` with their residue taken out.

    A reference taken from a pixel that was never bare is a mixture of its soil and residue; moving
    it away from the residue spectrum until its NDTI is the ceiling's gives the soil under it.
    """
    if not np.isfinite(ceiling):
        return soil
    target = (1.0 - ceiling) / (1.0 + ceiling)  # B12/B11 at the ceiling's NDTI
    s11, s12 = soil[_B11], soil[_B12]
    n11, n12 = npv[_B11], npv[_B12]
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (s12 - target * s11) / (target * (s11 - n11) - s12 + n12)
        above = ndti(s11, s12) > ceiling
    alpha = np.where(above & np.isfinite(alpha), np.clip(alpha, 0.0, 2.0), 0.0)
    return ((1.0 + alpha) * soil - alpha * npv[:, None]).astype(np.float32)
