"""SoilSuite: bare-surface detection and bare-soil composites, as DLR's SCMaP.

Per clear-sky observation: a bare-surface rule (PVIR2 <= threshold by default,
or GEOS3, or Sen4CAP's), water observations and excluded land cover removed;
then the haze and cirrus screen (the SCL misses both; see ``kernels.haze``), the
cover screen (each observation's share of exposed soil; see ``kernels.cover``) and
the per-pixel blue-band outlier filter against what haze is left.  Per period
(the whole period and each calendar year): valid and bare observation counts,
bare-soil frequency, the bare-soil reflectance composite (mean, standard
deviation, 95 % confidence half-width), the mean reflectance of all clear
observations and the 3-class mask; per year also the first and last bare day
and the number of separate bare periods.

The work of one spatial chunk (all dates) is one call of ``_soilsuite_block``
through the kernel adapter (``products.apply``), which returns every period's
layers by name, so the cube is read once for all layers and periods.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import xarray as xr

from ..catalog.layouts import BAND_CENTRE_NM, REFLECTANCE_BANDS
from ..catalog.source import TimeRange
from ..config import Config, SoilSuiteConfig
from ..cube.aux import aux_raster
from ..kernels.bare import (
    bare_geos3,
    bare_periods,
    bare_sen4cap,
    blue_outliers,
    dark_outliers,
    mask_classes,
)
from ..kernels.composite import ci95, masked_stats
from ..kernels.cover import (
    decontaminate,
    green_endmember,
    mostly_soil,
    own_soil,
    regional_soil_ndti,
    scene_endmembers,
    shares_of,
    soil_ndvi_ceiling,
    soil_reference,
    unmix,
)
from ..kernels.haze import flat_shape, haze_shape, hazy_observations
from ..kernels.indices import mndwi, ndvi, pvir2
from ..kernels.surfaces import (
    MIN_SERIES_DAYS,
    bright_mineral,
    clustered,
    mostly_water,
    spans_a_growing_season,
    steady_and_never_green,
)
from ..kernels.threshold import pixel_pvir2_threshold
from ..registry import DAY_OF_YEAR, Layer, register
from .apply import Input, per_chunk_groups
from .base import ProductPeriod, whole_and_yearly_periods

log = logging.getLogger(__name__)

FAMILY = "soilsuite"
SCL_WATER = 6
PURE_SOIL = 0.97
"""An observation with at least this soil share is composited as it is: its residue and green parts
are fitting noise, and taking them out would only add the endmembers' errors."""
MASK_CLASSES = {1: "bare surface", 2: "permanent vegetation", 3: "other surfaces (built-up, water)"}


def _reflectance_layer(code: str, title: str, description: str, quicklook: bool = False) -> Layer:
    return Layer(code, FAMILY, title, description, "int16", -32768, scale=1e-4, unit="1",
                 bands=REFLECTANCE_BANDS, quicklook=quicklook)  # fmt: skip


register(
    Layer("MASK", FAMILY, "Bare-surface mask",
          "1 bare surface (at least the minimum number of bare observations), 2 permanent vegetation "
          "(never bare), 3 other surfaces (built-up, water); nodata where undecidable.",
          "uint8", 0, classes=MASK_CLASSES),
    Layer("BSF", FAMILY, "Bare-soil frequency", "Bare observations in percent of valid observations.",
          "uint16", 65535, scale=0.01, unit="%"),
    Layer("VOBS", FAMILY, "Valid observations",
          "Clear-sky observations with all bands (not snow), without those the haze screen and the blue "
          "and dark filters find hazy or shadowed.", "uint16", 65535, unit="count"),
    Layer("BOBS", FAMILY, "Bare observations",
          "Observations detected as bare surface after the haze, cover and blue filters.",
          "uint16", 65535, unit="count"),
    _reflectance_layer("SRC_MEAN", "Bare-soil reflectance composite",
                       "Mean surface reflectance of the bare observations (B02 … B12).", quicklook=True),
    _reflectance_layer("SRC_STD", "Bare-soil reflectance standard deviation",
                       "Sample standard deviation of the bare observations' reflectance."),
    _reflectance_layer("SRC_CI95", "Bare-soil reflectance 95 % confidence",
                       "Half-width of the 95 % confidence interval of the mean: 1.96 std / sqrt(n)."),
    _reflectance_layer("MREF", "Mean reflectance",
                       "Mean reflectance of all clear observations (blue-filtered)."),
    Layer("FIRST_BARE", FAMILY, "First bare day", "Day of year of the first bare observation.",
          "uint16", 0, unit=DAY_OF_YEAR),
    Layer("LAST_BARE", FAMILY, "Last bare day", "Day of year of the last bare observation.",
          "uint16", 0, unit=DAY_OF_YEAR, quicklook=False),
    Layer("NBARE", FAMILY, "Bare periods",
          "Number of separate bare periods in the year (runs of bare observations), an indicator of tillage.",
          "uint8", 255, unit="count"),
    Layer("PVIR2_THR", FAMILY, "PVIR2 threshold", "The PVIR2 threshold applied (pvir2 rule only).",
          "int16", -32768, scale=1e-4, unit="1", quicklook=False),
)  # fmt: skip

NB = len(REFLECTANCE_BANDS)
PERIOD_LAYERS: dict[str, int] = {
    "MASK": 1, "BSF": 1, "VOBS": 1, "BOBS": 1, "SRC_MEAN": NB, "SRC_STD": NB, "SRC_CI95": NB, "MREF": NB,
    "PVIR2_THR": 1,
}  # fmt: skip
YEAR_LAYERS: dict[str, int] = {**PERIOD_LAYERS, "FIRST_BARE": 1, "LAST_BARE": 1, "NBARE": 1}


@dataclass(frozen=True)
class _PeriodSpec:
    label: str
    period: TimeRange
    dates: np.ndarray
    """Boolean over the cube's dates."""
    layers: dict[str, int]

    @property
    def yearly(self) -> bool:
        return "FIRST_BARE" in self.layers


def soilsuite(cube: xr.Dataset, period: TimeRange, config: Config) -> list[ProductPeriod]:
    """The SoilSuite layers of ``cube`` for the whole period and each calendar year."""
    params = config.soilsuite
    specs = _period_specs(cube, period)
    times = cube.time.values.astype("datetime64[D]")
    if params.builtup_from_data and not params.landcover and not spans_a_growing_season(times):
        log.warning("the series spans less than %d days: built-up land is not told from bare fields without "
                    "a growing season; give --landcover to mask it", MIN_SERIES_DAYS)  # fmt: skip
        params = replace(params, builtup_from_data=False)
    threshold, auto = _threshold_input(cube, params)
    landcover = aux_raster(params.landcover, cube.SCL, "nearest").data if params.landcover else None
    kernel = partial(
        _soilsuite_block,
        params=params,
        auto=auto,
        doy=(times - times.astype("datetime64[Y]")).astype(int) + 1,
        haze_window=_window_px(params.haze_window_m, float(cube.attrs["resolution"])),
        builtup_window=_window_px(params.builtup_window_m, float(cube.attrs["resolution"])),
        specs=tuple((s.dates, s.yearly) for s in specs),
    )
    inputs = [
        Input([cube[b].data for b in REFLECTANCE_BANDS], "btyx"),
        Input(cube.SCL.data, "tyx"),
        Input(cube.clear.data, "tyx"),
        Input(threshold.data, "yx"),
        None if landcover is None else Input(landcover, "yx"),
    ]
    prepare = partial(_prepare_kernels, kernel, len(times), None if landcover is None else landcover.dtype)
    layers = per_chunk_groups(kernel, inputs, [s.layers for s in specs], y=cube.y, x=cube.x,
                              bands=REFLECTANCE_BANDS, prepare=prepare)  # fmt: skip
    return [ProductPeriod(s.period, s.label, ds) for s, ds in zip(specs, layers, strict=True)]


def _prepare_kernels(
    kernel: Callable[..., object], n_dates: int, landcover_dtype: np.dtype[Any] | None
) -> None:
    """One call of the block kernel on a made-up block of 4 x 4 pixels over the cube's dates, of the
    dtypes the cube's chunks have: numba loads the machine code of the kernels the chunks call, while the
    reads run (``products.apply``'s ``prepare``).  Varied reflectance takes most of the kernel's paths."""
    ny, nx = 4, 4
    rng = np.random.default_rng(0)
    refl = rng.uniform(0.01, 0.5, (NB, n_dates, ny * nx)).astype(np.float32)
    scl = np.full((n_dates, ny * nx), 4, np.uint8)
    clear = np.ones((n_dates, ny * nx), bool)
    threshold = np.full(ny * nx, 0.2, np.float32)
    landcover = None if landcover_dtype is None else np.zeros(ny * nx, landcover_dtype)
    kernel(refl, scl, clear, threshold, landcover, shape=(ny, nx))


def _window_px(metres: float, resolution: float) -> int:
    """An odd window side in pixels, at least 1."""
    return 2 * round(metres / resolution / 2) + 1


SKY_SHAPES = (haze_shape([BAND_CENTRE_NM[b] for b in REFLECTANCE_BANDS]), flat_shape(len(REFLECTANCE_BANDS)))
"""Spectral shapes of the haze and thin cirrus the screen looks for."""


def _period_specs(cube: xr.Dataset, period: TimeRange) -> list[_PeriodSpec]:
    times = cube.time.values.astype("datetime64[D]")
    specs = []
    for sub, label in whole_and_yearly_periods(period):
        dates = (times >= np.datetime64(sub.start)) & (times <= np.datetime64(sub.end))
        if not dates.any():
            continue  # a year without any scene gets no item rather than an empty one
        within_one_year = sub.start.year == sub.end.year  # yearly layers need one calendar year
        specs.append(_PeriodSpec(label, sub, dates, YEAR_LAYERS if within_one_year else PERIOD_LAYERS))
    return specs


def _threshold_input(cube: xr.Dataset, params: SoilSuiteConfig) -> tuple[xr.DataArray, bool]:
    """The threshold on the (y, x) grid, and whether to estimate it per chunk instead."""
    template = cube.SCL.isel(time=0, drop=True)
    if params.threshold == "auto":
        return xr.full_like(template, params.fixed_threshold, dtype=np.float32), True
    try:
        value = float(params.threshold)
    except ValueError:
        return aux_raster(params.threshold, cube.SCL, "bilinear"), False
    return xr.full_like(template, value, dtype=np.float32), False


def _soilsuite_block(
    refl: np.ndarray,
    scl: np.ndarray,
    clear: np.ndarray,
    threshold: np.ndarray,
    landcover: np.ndarray | None,
    *,
    shape: tuple[int, int],
    params: SoilSuiteConfig,
    auto: bool,
    doy: np.ndarray,
    haze_window: int,
    builtup_window: int,
    specs: tuple[tuple[np.ndarray, bool], ...],
) -> dict[tuple[int, str], np.ndarray]:
    """All layers of all periods for one chunk of ``shape`` (y, x), pixels flattened: reflectance
    (band, time, pixel), SCL and clear (time, pixel), threshold and land cover (pixel,).  Keyed by
    (period index, layer code), float32 with NaN = missing."""
    ny, nx = shape
    R = refl
    bands = dict(zip(REFLECTANCE_BANDS, R, strict=True))
    valid = clear & np.isfinite(R).all(axis=0)
    eligible = valid & (scl != SCL_WATER)
    if landcover is not None:
        eligible &= ~np.isin(landcover, params.landcover_not_bare)[None]
    if landcover is None and params.builtup_from_data:
        # built-up land found in the series is never bare, as the land-cover map's would be
        eligible &= ~_other_surfaces(bands, valid, scl, None, params, (ny, nx), builtup_window)[None]
    rule, thr = _apply_rule(bands, eligible, threshold, params, auto)
    candidates = eligible & rule
    if params.haze_limit > 0:
        # haze and thin cirrus over the area: no valid observation, whatever the surface below
        groups = (candidates, valid & ~candidates)
        hazy = hazy_observations(R, valid, groups, SKY_SHAPES, ny, nx, haze_window, params.haze_limit)
        valid = valid & ~hazy
        candidates &= valid
    composite, soil_share = R, None
    if params.min_soil_fraction > 0:
        candidates, own, soil_share = _cover_screen(R, valid, eligible, candidates, params)
        if params.own_soil_composite:
            with np.errstate(invalid="ignore"):
                mixed = np.isfinite(own) & (soil_share < PURE_SOIL)[None]
            # bright rock and sand are bare surfaces of their own: nothing to take out of them
            mixed &= ~bright_mineral(bands["B02"], valid, params.mineral_blue)[None]
            composite = np.where(mixed, own, R)
    swir = (bands["B11"] + bands["B12"]) / 2  # the blue filter drops haze-shaped brightening only
    bare = candidates & ~blue_outliers(bands["B02"], candidates, params.blue_sigma, params.blue_floor, swir)
    brightness = (bands["B8A"] + bands["B11"] + bands["B12"]) / 3
    bare &= ~dark_outliers(brightness, bare, params.shadow_ratio)
    # an observation whose blue or darkness betrays haze or a cloud shadow the SCL missed is no valid
    # observation at all: out of the bare count and of its denominator.  Each state is tested against
    # its own kind (soil is bluer than a canopy): bare candidates above, the others here.
    others = valid & ~candidates
    others &= ~blue_outliers(bands["B02"], others, params.blue_sigma, params.blue_floor, swir)
    others &= ~dark_outliers(brightness, others, params.shadow_ratio)
    valid_obs = bare | others
    mref_obs = valid & ~blue_outliers(bands["B02"], valid, params.mref_blue_sigma, params.blue_floor, swir)
    other = _other_surfaces(bands, valid, scl, landcover, params, (ny, nx), builtup_window)
    purest = _purest(bare, soil_share, params)
    out: dict[tuple[int, str], np.ndarray] = {}
    for i, (dates, yearly) in enumerate(specs):
        when = dates[:, None]
        layers = _period_outputs(R, composite, valid_obs & when, bare & when, purest & when,
                                 candidates & when, mref_obs & when, other, thr, params)  # fmt: skip
        if yearly:
            first, last, count = bare_periods(bare[dates], valid_obs[dates], doy[dates].astype(np.float32))
            layers |= {"FIRST_BARE": first, "LAST_BARE": last, "NBARE": count}
        out |= {(i, code): value for code, value in layers.items()}
    return out


def _cover_screen(
    R: np.ndarray, valid: np.ndarray, eligible: np.ndarray, candidates: np.ndarray, params: SoilSuiteConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule's candidates re-judged by their share of exposed soil, where the pixel has a soil of its own,
    each observation's own-soil spectrum (the observation less its residue and green parts) and its
    soil share.

    Any valid observation can qualify, not only the rule's: a bare soil under a little green that
    the threshold missed is recovered, and a straw-covered one it took is dropped.
    """
    # a reference greener than halfway to the block's canopy is no soil (red soils read high NDVI bare)
    pv = green_endmember(R, valid)
    ceiling = soil_ndvi_ceiling(R, candidates, pv)
    soil = soil_reference(R, candidates, max_ndvi=ceiling)
    soil_ndti = regional_soil_ndti(soil) + max(params.soil_ndti_margin, 0.0)
    scene = scene_endmembers(R, valid, npv_min_ndti=soil_ndti, pv=pv)
    if params.soil_ndti_margin >= 0:
        soil = decontaminate(soil, scene.npv, soil_ndti)
    abundances = unmix(R, soil, scene)
    fractions = shares_of(abundances)
    judged = valid & eligible & mostly_soil(fractions, params.min_soil_fraction, params.max_green_fraction)
    screened = np.where(np.isfinite(soil[0])[None], judged, candidates)
    return screened, own_soil(R, abundances, scene), fractions[0]


def _apply_rule(
    bands: dict[str, np.ndarray],
    eligible: np.ndarray,
    threshold: np.ndarray,
    params: SoilSuiteConfig,
    auto: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-observation bare flags of the configured rule, and the threshold used (NaN if none)."""
    if params.rule == "geos3":
        names = ("B02", "B03", "B04", "B08", "B11", "B12")
        return bare_geos3(*(bands[b] for b in names)), np.full(threshold.shape, np.nan, np.float32)
    if params.rule == "sen4cap":
        return bare_sen4cap(bands["B04"], bands["B08"], bands["B11"], bands["B12"]), np.full(
            threshold.shape, np.nan, np.float32
        )
    index = pvir2(bands["B04"], bands["B08"], bands["B12"])
    if auto:
        threshold = pixel_pvir2_threshold(index, eligible, fallback=params.fixed_threshold)
    with np.errstate(invalid="ignore"):
        return index <= threshold[None], threshold


def _other_surfaces(
    bands: dict[str, np.ndarray],
    valid: np.ndarray,
    scl: np.ndarray,
    landcover: np.ndarray | None,
    params: SoilSuiteConfig,
    shape: tuple[int, int],
    window: int,
) -> np.ndarray:
    """Built-up and water: from land cover where given, else from the series (see ``kernels.surfaces``)."""
    if landcover is not None:
        return np.isin(landcover, params.landcover_other)
    water = mostly_water((scl == SCL_WATER) | (mndwi(bands["B03"], bands["B11"]) > 0), valid)
    if not params.builtup_from_data:
        return water
    settled = steady_and_never_green(ndvi(bands["B04"], bands["B08"]), valid, params.builtup_green_share)
    settled &= ~water & ~bright_mineral(bands["B02"], valid, params.mineral_blue)
    return water | clustered(settled, shape, window, params.builtup_share)


def _purest(bare: np.ndarray, soil_share: np.ndarray | None, params: SoilSuiteConfig) -> np.ndarray:
    """The bare observations the composite is made of: those with the most soil where there are enough.

    Frequency counts every bare observation; the soil's own spectrum is best read where little else
    covers it, so a pixel with at least ``min_bare_obs`` observations of ``composite_min_soil`` soil is
    composited from those only.
    """
    if soil_share is None or params.composite_min_soil <= params.min_soil_fraction:
        return bare
    with np.errstate(invalid="ignore"):
        pure = bare & (soil_share >= params.composite_min_soil)
    enough = pure.sum(axis=0) >= params.min_bare_obs
    return np.where(enough[None], pure, bare)


def _period_outputs(
    R: np.ndarray,
    composite: np.ndarray,
    valid: np.ndarray,
    bare: np.ndarray,
    purest: np.ndarray,
    candidates: np.ndarray,
    mref_obs: np.ndarray,
    other: np.ndarray,
    threshold: np.ndarray,
    params: SoilSuiteConfig,
) -> dict[str, np.ndarray]:
    vobs = valid.sum(axis=0).astype(np.float32)
    bobs = bare.sum(axis=0).astype(np.float32)
    mean, std, used = masked_stats(composite, purest & bare)
    too_few = bobs < params.min_bare_obs
    for stat in (mean, std):
        stat[:, too_few] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        bsf = np.where(vobs > 0, 100.0 * bobs / vobs, np.nan).astype(np.float32)
    mref, _, _ = masked_stats(R, mref_obs)
    mask = mask_classes(vobs, bobs, candidates.sum(axis=0), other, params.min_bare_obs)
    no_data = vobs == 0
    bobs_out = np.where(no_data, np.nan, bobs).astype(np.float32)
    vobs_out = np.where(no_data & ~np.isfinite(R[0]).any(axis=0), np.nan, vobs).astype(np.float32)
    return {"MASK": mask, "BSF": bsf, "VOBS": vobs_out, "BOBS": bobs_out, "SRC_MEAN": mean, "SRC_STD": std,
            "SRC_CI95": ci95(std, used), "MREF": mref, "PVIR2_THR": threshold}  # fmt: skip
