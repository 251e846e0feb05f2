"""Cropping patterns and bare-soil periods of a reference year, as the Copernicus HRL VLCC croplands layers.

For reference year Y the observations from 1 July Y-1 to 30 June Y+1 (as far
as the cube holds them) give each pixel -- or each field, when parcels are
given -- a daily NDVI band (q10, q50, q90) from the Whittaker posterior; the
main and secondary seasons, their emergence and harvest, and the bare-soil days
before and after the main crop follow (``kernels.seasons``), with confidence
layers in days as the HRL ATBD defines them.  Layers carry the HRL codes,
UINT16 encodings and flags.

Per field, the NDVI of a date is the mean over the field's clear pixels (when
at least half of them are clear); the field's results are written back to its
pixels, and pixels outside every field get the HRL flag 65527.  A field's
declared crop, when given, tells a spring crop from a winter crop's green-up
(:func:`sowing_of_crop`), as the HRL's crop-type layer does.

With Sentinel-1, the cross ratio VH - VV (after a boxcar against speckle) is
fitted to each pixel's (or field's) NDVI and fills the days without an optical
observation, weighted by how well the fit does: cloudy gaps narrow, as the
HRL's S1/S2 fusion does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
import xarray as xr

from ..catalog.source import StacSource, TimeRange
from ..config import Config, SeasonsConfig
from ..cube.aux import aux_raster
from ..cube.s1 import load_s1
from ..errors import ConfigError, TimeRangeError
from ..inputs.parcels import ParcelSet, rasterise_parcels
from ..kernels import seasons as kernel
from ..kernels.calendar import MIN_CALENDAR_SEASONS, scene_calendar
from ..kernels.events import SOWN_IN_AUTUMN, SOWN_IN_SPRING, SOWN_UNKNOWN
from ..kernels.indices import ndvi
from ..registry import YYDOY, Layer, register, yydoy
from .apply import Input, Lazy, as_lazy, compute, per_chunk, per_field, per_neighbourhood
from .base import ProductPeriod

ProductFunction = Callable[[xr.Dataset, TimeRange, Config], Sequence[ProductPeriod]]

FAMILY = "seasons"
NO_FIELD = 65527.0
FIELD_CLEAR_SHARE = 0.5
"""A field's date counts when at least this share of its pixels is clear."""

SPRING_CROP_WORDS = ("spring", "summer", "sommer", "printemps", "maize", "corn", "mais", "beet", "potato",
                     "sunflower", "soy", "sorghum", "rice")  # fmt: skip
"""Words of a declared crop label that make it sown in spring (checked after ``AUTUMN_CROP_WORDS``)."""
AUTUMN_CROP_WORDS = ("winter", "autumn", "hiver")
"""Words of a declared crop label that make it sown in the autumn."""

_COMMON_FLAGS = {
    0: "no annual cropland",
    int(NO_FIELD): "no field delineated here (per-field run)",
    int(kernel.FEW_OBSERVATIONS): "not enough observations",
    int(kernel.NO_SEASON): "no season could be delineated",
    int(kernel.OUTSIDE_WINDOW): "a season was found, but outside the main-season windows",
}
_EVENT_FLAGS = {
    **_COMMON_FLAGS,
    int(kernel.FEW_OBSERVATIONS): "not enough observations, or the emergence lies before the first one (a "
    "winter crop already up when the series starts)",
}
_BARE_FLAGS = {**_COMMON_FLAGS, int(kernel.BARE_OUTSIDE_YEAR): "the bare-soil period is not within the year"}
_SECONDARY_FLAGS = {**_EVENT_FLAGS, int(kernel.NO_SECONDARY): "no secondary season"}


def _with_confidence_flag(flags: dict[int, str]) -> dict[int, str]:
    return {**flags, int(kernel.NO_CONFIDENCE): "confidence not computable or beyond its cap"}


def _hrl(code: str, title: str, description: str, unit: str, flags: dict[int, str], quicklook: bool) -> Layer:
    return Layer(code, FAMILY, title, description, "uint16", 65535, unit=unit, flags=flags,
                 quicklook=quicklook)  # fmt: skip


_DATE = "date as YYDOY (year modulo 100 times 1000 plus day of year; winter crops carry the previous year)"
_CL = (
    "uncertainty in days: the width of the q10-q90 band at the event (HRL ATBD), at least "
    "seasons.min_event_confidence (14 days by default)"
)
register(
    _hrl("CPMCE", "Main crop emergence", f"Emergence of the main crop, {_DATE}.", YYDOY, _EVENT_FLAGS,
         False),
    _hrl("CPMCECL", "Main crop emergence confidence",
         f"Emergence {_CL}; none (65534) for one placed by the calendar, not seen; 1-40.", "days",
         _with_confidence_flag(_COMMON_FLAGS), False),
    _hrl("CPMCH", "Main crop harvest", f"Harvest of the main crop (removal of standing biomass), {_DATE}.",
         YYDOY, _COMMON_FLAGS, True),
    _hrl("CPMCHCL", "Main crop harvest confidence",
         f"Harvest {_CL}, and by default at least the days between the views bracketing it; 1-40.", "days",
         _with_confidence_flag(_COMMON_FLAGS), False),
    _hrl("CPMCD", "Main crop duration", "Days from emergence to harvest of the main crop; 40-366.", "days",
         _EVENT_FLAGS, False),
    _hrl("CPMCDCL", "Main crop duration confidence",
         "Uncertainty of the duration in days, combined from both events; 1-80.", "days",
         _with_confidence_flag(_COMMON_FLAGS), False),
    _hrl("CPBSB", "Bare soil before the main crop",
         "Days of bare soil within the year before the main-crop emergence: from the last harvest, or from "
         "1 January; 1-295.", "days", _BARE_FLAGS, False),
    _hrl("CPBSBCL", "Bare soil before confidence",
         "Uncertainty of CPBSB in days, from its bounding events (from 1 January: the emergence's and the "
         "days before the first observation when the series starts later); 1-80.", "days",
         _with_confidence_flag(_BARE_FLAGS), False),
    _hrl("CPBSA", "Bare soil after the main crop",
         "Days of bare soil within the year after the main-crop harvest: to the next emergence, or to "
         "31 December; 1-275 after a harvest from 1 April (the HRL's windows), up to 365 after a main crop "
         "harvested earlier in the year.", "days", _BARE_FLAGS, True),
    _hrl("CPBSACL", "Bare soil after confidence",
         "Uncertainty of CPBSA in days, from its bounding events (to 31 December: the harvest's and the days "
         "after the last clear view); 1-80.", "days",
         _with_confidence_flag(_BARE_FLAGS), True),
    _hrl("CPSCE", "Secondary crop emergence", f"Emergence of the secondary (e.g. cover) crop, {_DATE}.",
         YYDOY, _SECONDARY_FLAGS, False),
    _hrl("CPSCD", "Secondary crop duration", "Days from emergence to harvest of the secondary crop.", "days",
         _SECONDARY_FLAGS, False),
    _hrl("CPCSY", "Cropping seasons", "Number of cropping seasons in the year: 1 or 2.", "count",
         _COMMON_FLAGS, False),
)  # fmt: skip


def analysis_window(year: int) -> TimeRange:
    """1 July of the year before to 30 June of the year after (HRL: events six months either side)."""
    return TimeRange(date(year - 1, 7, 1), date(year + 1, 6, 30))


def reference_year(period: TimeRange, params: SeasonsConfig) -> int:
    if params.year:
        return params.year
    middle = period.start + (period.end - period.start) / 2
    return middle.year


def season_windows(year: int, zone: int) -> dict[str, tuple[date, date]]:
    """The HRL main and secondary season windows (ATBD table 4) of a climate zone."""
    if zone not in (1, 2):
        raise ConfigError(f"seasons.zone must be 1 or 2, got {zone}")
    y = year
    if zone == 1:
        return {
            "winter_emergence": (date(y - 1, 8, 15), date(y, 4, 30)),
            "winter_harvest": (date(y, 6, 1), date(y, 9, 15)),
            "spring_emergence": (date(y, 4, 1), date(y, 7, 31)),
            "spring_harvest": (date(y, 7, 1), date(y, 12, 31)),
            "before_main": (date(y, 1, 1), date(y, 4, 30)),
            "after_main": (date(y, 7, 15), date(y + 1, 4, 30)),
        }
    return {
        "winter_emergence": (date(y - 1, 8, 15), date(y, 3, 31)),
        "winter_harvest": (date(y, 4, 1), date(y, 8, 31)),
        "spring_emergence": (date(y, 3, 1), date(y, 7, 31)),
        "spring_harvest": (date(y, 6, 1), date(y + 1, 1, 31)),
        "before_main": (date(y, 1, 1), date(y, 3, 31)),
        "after_main": (date(y, 6, 15), date(y + 1, 3, 31)),
    }


class DailyGrid:
    """Day numbers of the analysis: day 0 is the first observation of the window."""

    def __init__(self, first: date, last: date) -> None:
        self.first = first
        self.n_days = (last - first).days + 1

    def day(self, when: date) -> int:
        return (when - self.first).days

    def yydoy_table(self) -> np.ndarray:
        return np.array([yydoy(self.first + timedelta(days=i)) for i in range(self.n_days)], np.float64)

    def windows(self, year: int, zone: int) -> np.ndarray:
        named = season_windows(year, zone)
        order = ("winter_emergence", "winter_harvest", "spring_emergence", "spring_harvest", "before_main",
                 "after_main")  # fmt: skip
        return np.array([[self.day(named[k][0]), self.day(named[k][1])] for k in order], np.int64)

    def fallback_calendar(self, year: int, params: SeasonsConfig) -> np.ndarray:
        """The configured winter-crop calendar (``kernels.calendar``) per winter of the analysis window:
        emergence, green-up, harvest as day numbers, no season read."""
        rows = []
        for spring in (year, year + 1):
            emergence = _month_day(params.winter_emergence, spring - 1, "seasons.winter_emergence")
            greenup = _month_day(params.greenup, spring, "seasons.greenup")
            harvest = _month_day(params.winter_harvest, spring, "seasons.winter_harvest")
            if params.zone == 2:  # the south: spring crops from 1 March, cereals in by 31 August
                greenup, harvest = greenup - timedelta(days=31), harvest - timedelta(days=15)
            rows.append([self.day(emergence), self.day(greenup), self.day(harvest), params.winter_season_days,
                         0])  # fmt: skip
        return np.array(rows, np.float64)


def _month_day(text: str, year: int, name: str) -> date:
    try:
        month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a month-day such as 12-01, got {text!r}") from exc


def seasons(
    cube: xr.Dataset,
    period: TimeRange,
    config: Config,
    fields: xr.DataArray | None = None,
    n_fields: int = 0,
    radar: xr.DataArray | None = None,
    sowing: np.ndarray | None = None,
) -> list[ProductPeriod]:
    """The HRL cropping-pattern layers of the reference year, per pixel or per field.

    ``fields`` (y, x) holds field ids 1..``n_fields`` on the cube grid (0 = none);
    ``radar`` (time, y, x) a Sentinel-1 cross ratio VH - VV (dB) on the cube grid
    and chunks, which fills cloudy gaps (see ``kernels.seasons.daily_band``);
    ``sowing`` (index = field id) when each field's main crop of the year is declared
    sown (``kernels.events.SOWN_*``, see :func:`sowing_of_crops`).
    """
    params = config.seasons
    year = reference_year(period, params)
    cube, grid, observed = _analysis_cube(cube, year)
    index = as_lazy(np.where(cube.clear.data, ndvi(cube.B04.data, cube.B08.data), np.nan).astype(np.float32))
    on_grid, radar_days = _radar_on_grid(radar, grid)
    radar_values = on_grid.data.astype(np.float32) if on_grid is not None else None
    kwargs = {**kernel_arguments(params, grid, year, observed), "radar_days": radar_days}
    if fields is None:
        if params.scene_calendar:
            kwargs["calendar"] = _pixel_calendar(index, kwargs, grid, year)
        inputs = [
            Input(index, "tyx"),
            Input(_cropland(cube, params), "yx"),
            None if radar_values is None else Input(radar_values, "ryx"),
        ]
        block = partial(_pixel_block, **kwargs)
        layers = per_chunk(block, inputs, dict.fromkeys(kernel.LAYERS, 1), y=cube.y, x=cube.x)
    else:
        if sowing is None:
            sowing = np.zeros(n_fields + 1, np.int8)
        if np.shape(sowing) != (n_fields + 1,):
            shape = np.shape(sowing)
            raise ValueError(f"sowing needs one code per field id 0..{n_fields}, got shape {shape}")
        analyse = partial(
            _field_results, kwargs={**kwargs, "sowing": sowing}, read_calendar=params.scene_calendar
        )
        inputs = [Input(index, "tyx"), None if radar_values is None else Input(radar_values, "tyx")]
        layers = per_field(analyse, inputs, fields.data, n_fields, kernel.LAYERS, y=cube.y, x=cube.x)
    return [ProductPeriod(TimeRange(date(year, 1, 1), date(year, 12, 31)), str(year), layers)]


def _analysis_cube(cube: xr.Dataset, year: int) -> tuple[xr.Dataset, DailyGrid, np.ndarray]:
    """The cube's dates in the year's analysis window, their daily grid and day numbers on it."""
    window = analysis_window(year)
    times = cube.time.values.astype("datetime64[D]")
    inside = (times >= np.datetime64(window.start)) & (times <= np.datetime64(window.end))
    if not inside.any():
        raise TimeRangeError(f"no scene between {window.start} and {window.end} for reference year {year}")
    cube = cube.isel(time=np.flatnonzero(inside))
    days_of = cube.time.values.astype("datetime64[D]").astype(date)
    grid = DailyGrid(days_of[0], days_of[-1])
    return cube, grid, np.array([grid.day(d) for d in days_of], np.int64)


def kernel_arguments(
    params: SeasonsConfig, grid: DailyGrid, year: int, observed: np.ndarray
) -> dict[str, Any]:
    """The season kernels' arguments other than the pixels (``kernels.seasons.analyse_pixels``): the
    observed day numbers on ``grid``, the settings as records, the reference ``year``'s bounds,
    windows and fallback calendar, and the YYDOY table."""
    return {
        "days": observed,
        "n_days": grid.n_days,
        "smoothing": kernel.Smoothing(*(float(getattr(params, name)) for name in kernel.Smoothing._fields)),
        "year_bounds": np.array([grid.day(date(year, 1, 1)), grid.day(date(year, 12, 31))], np.int64),
        "windows": grid.windows(year, params.zone),
        "calendar": grid.fallback_calendar(year, params),
        "yydoy": grid.yydoy_table(),
        "rules": season_rules(params),
    }


def season_rules(params: SeasonsConfig) -> kernel.SeasonRules:
    """The season rules' settings from the config: its values by name, its choices as switches."""
    return kernel.SeasonRules(
        min_prominence=float(params.min_prominence),
        emergence_fraction=float(params.emergence_fraction),
        harvest_fraction=float(params.harvest_fraction),
        bare_ndvi=float(params.bare_ndvi),
        min_season_days=float(params.min_season_days),
        max_season_days=float(params.max_season_days),
        min_observations=float(params.min_observations),
        max_event_confidence=float(params.max_event_confidence),
        use_sum=params.combine == "sum",
        min_rise=float(params.min_rise),
        min_peak_ndvi=float(params.min_peak_ndvi),
        crossing=params.confidence == "crossing",
        harvest_to_emergence=float(params.harvest_to_emergence),
        by_views=params.harvest_confidence == "views",
        min_event_confidence=float(params.min_event_confidence),
        by_windows=params.main_season == "windows",
    )


CALENDAR_SAMPLE_ALL = 512 * 512
"""Areas of at most this many pixels read their calendar on every pixel."""
CALENDAR_WINDOW, CALENDAR_SPACING = 16, 512
"""Larger areas read it on windows of this side, this many pixels apart (about 1 pixel in 1,000, in
the chunks the windows fall in: a fraction of the reading, and the same pixels however the area is
chunked)."""


def _pixel_calendar(index: Lazy, kwargs: dict[str, Any], grid: DailyGrid, year: int) -> np.ndarray:
    """The scene's winter-crop calendar (``kernels.calendar``) read on a fixed sample of its pixels."""
    _, ny, nx = index.shape
    if ny * nx <= CALENDAR_SAMPLE_ALL:
        sample = index.reshape(index.shape[0], -1)
    else:
        first = CALENDAR_SPACING // 2 - CALENDAR_WINDOW // 2
        windows = [
            index[:, y : y + CALENDAR_WINDOW, x : x + CALENDAR_WINDOW].reshape(index.shape[0], -1)
            for y in range(first, ny - CALENDAR_WINDOW + 1, CALENDAR_SPACING)
            for x in range(first, nx - CALENDAR_WINDOW + 1, CALENDAR_SPACING)
        ]
        sample = np.concatenate(windows, axis=1) if windows else index.reshape(index.shape[0], -1)[:, :0]
    [sampled] = compute(sample)
    values = np.asarray(sampled, np.float64)
    return _calendar_of(values, np.ones(values.shape[1]), kwargs)


def _calendar_of(values: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]) -> np.ndarray:
    """The calendar read on (time, series) NDVI, each series weighing ``weights`` (its pixels)."""
    rows, owner = kernel.calendar_rows(values, kwargs["days"], kwargs["n_days"], kwargs["smoothing"],
                                       kwargs["rules"])  # fmt: skip
    split = (kwargs["year_bounds"][0] + kwargs["year_bounds"][1]) // 2
    return scene_calendar(rows, weights[owner], split, kwargs["calendar"], float(MIN_CALENDAR_SEASONS))


def _cropland(cube: xr.Dataset, params: SeasonsConfig) -> Lazy:
    """1/0 from a land-cover raster where given, else -1 (decided from the data)."""
    template = cube.SCL.isel(time=0, drop=True)
    if not params.landcover:
        return as_lazy(np.full_like(template.data, -1, dtype=np.int8))
    classes = aux_raster(params.landcover, cube.SCL, "nearest").data
    return as_lazy(np.isin(classes, np.array(params.cropland_classes)).astype(np.int8))


def _radar_on_grid(radar: xr.DataArray | None, grid: DailyGrid) -> tuple[xr.DataArray | None, np.ndarray]:
    """The radar dates within the daily grid, and their day numbers (none without radar)."""
    if radar is None:
        return None, np.zeros(0, np.int64)
    days = np.array([grid.day(d) for d in radar.time.values.astype("datetime64[D]").astype(date)], np.int64)
    inside = (days >= 0) & (days < grid.n_days)
    return radar.isel(time=np.flatnonzero(inside)), days[inside]


def _pixel_block(
    values: np.ndarray,
    cropland: np.ndarray,
    radar: np.ndarray | None,
    *,
    shape: tuple[int, int],
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """The layers of one chunk from NDVI (time, pixel), cropland (pixel,) and radar (time, pixel)."""
    n_pixels = shape[0] * shape[1]
    radar = np.zeros((0, n_pixels)) if radar is None else radar
    out = kernel.analyse_pixels(
        values.astype(np.float64),
        cropland=cropland,
        sowing=np.zeros(n_pixels, np.int8),
        radar=radar.astype(np.float64),
        **kwargs,
    )
    return dict(zip(kernel.LAYERS, out.astype(np.float32), strict=True))


def _field_means(sums: np.ndarray) -> np.ndarray:
    """Per (date, field): the mean of the clear values, NaN when too few of the field's pixels are clear."""
    total, valid, pixels = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid >= FIELD_CLEAR_SHARE * pixels, total / valid, np.nan)


def _field_results(
    index: np.ndarray, radar: np.ndarray | None, *, kwargs: dict[str, Any], read_calendar: bool
) -> dict[str, np.ndarray]:
    """The layers of every field (index = id) from the fields' NDVI (and radar) sums
    (:func:`.apply.per_field`)."""
    mean = _field_means(index)
    radar_mean = _field_means(radar) if radar is not None else np.zeros((0, mean.shape[1]))
    cropland = np.full(mean.shape[1], -1, np.int8)
    pixels = index[2, 0].astype(np.float64)
    if read_calendar:  # the fields' own calendar, each weighing its pixels
        kwargs = {**kwargs, "calendar": _calendar_of(mean[:, 1:], pixels[1:], kwargs)}
    out = kernel.analyse_pixels(mean, cropland=cropland, radar=radar_mean, **kwargs)  # kwargs hold the sowing
    out[:, 0] = NO_FIELD
    return dict(zip(kernel.LAYERS, out, strict=True))


def file_name(code: str, tile: str, label: str, resolution: float) -> str:
    """HRL-style names: ``baresoil_CPBSA_S2022_R10m_E43N32_03035.tif`` (layer, year, grid, tile, CRS)."""
    return f"baresoil_{code}_S{label}_R{resolution:g}m_{tile}_03035.tif"


def seasons_product(parcels: ParcelSet | None = None, radar: StacSource | None = None) -> ProductFunction:
    """:func:`seasons` per field of ``parcels`` (rasterised onto each tile's cube) and with the
    Sentinel-1 cross ratio of ``radar`` (loaded onto each tile's grid), when given."""

    def product(cube: xr.Dataset, period: TimeRange, config: Config) -> list[ProductPeriod]:
        fields, n_fields, sowing = None, 0, None
        if parcels is not None:
            fields = rasterise_parcels(parcels, cube.odc.geobox, cube.B04.chunks[-2:])
            n_fields = int(parcels.frame["code"].max()) if len(parcels) else 0
            if "crop" in parcels.frame:
                sowing = sowing_of_crops(parcels.frame["code"], parcels.frame["crop"], n_fields)
        ratio = None
        if radar is not None:
            s1 = load_s1(radar, cube.odc.geobox, period, chunk=int(cube.B04.chunks[-1][0]))
            ratio = cross_ratio(s1, config.seasons.radar_window)
        return seasons(cube, period, config, fields, n_fields, ratio, sowing)

    return product


def sowing_of_crop(label: object) -> int:
    """When a declared crop is sown, from its label: ``kernels.events.SOWN_IN_AUTUMN`` for a winter
    crop, ``SOWN_IN_SPRING`` for a spring crop, ``SOWN_UNKNOWN`` when the label does not say (a
    'wheat' may be either) or is missing.  Labels are matched on words, in any case:
    ``AUTUMN_CROP_WORDS`` first, then ``SPRING_CROP_WORDS`` (EuroCrops' 'winter_common_soft_wheat'
    and 'grain_maize_corn_popcorn', German 'Winterweizen', French 'orge de printemps')."""
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return SOWN_UNKNOWN
    text = str(label).strip().lower()
    if any(word in text for word in AUTUMN_CROP_WORDS):
        return SOWN_IN_AUTUMN
    if any(word in text for word in SPRING_CROP_WORDS):
        return SOWN_IN_SPRING
    return SOWN_UNKNOWN


def sowing_of_crops(codes: Sequence[int] | np.ndarray, labels: Sequence[object], n_fields: int) -> np.ndarray:
    """Per field id 0..``n_fields`` (0: no field), :func:`sowing_of_crop` of each field's label."""
    sowing = np.full(n_fields + 1, SOWN_UNKNOWN, np.int8)
    for code, label in zip(np.asarray(codes), labels, strict=True):
        sowing[int(code)] = sowing_of_crop(label)
    return sowing


def cross_ratio(s1: xr.Dataset, window: int) -> xr.DataArray:
    """VH - VV (dB) after a ``window`` x ``window`` boxcar on linear backscatter (speckle), per date.

    Speckle makes one 10 m pixel's backscatter uncertain by a dB or two; averaging
    the linear power of a few neighbours first (as any SAR processor does) keeps the
    ratio's information on the crop and lets it weigh in per pixel.
    """
    if window <= 1:
        return s1.VH - s1.VV
    linear = [10 ** (s1[band].data / 10) for band in ("VH", "VV")]
    depth = {0: 0, 1: window // 2, 2: window // 2}
    smooth = [per_neighbourhood(_boxcar, band, depth, boundary="nearest", window=window) for band in linear]
    ratio = 10 * (np.log10(smooth[0]) - np.log10(smooth[1]))
    return xr.DataArray(ratio.astype(np.float32), coords=s1.VH.coords, dims=s1.VH.dims)


def _boxcar(block: np.ndarray, window: int) -> np.ndarray:
    """Mean over a window in y and x of every date, ignoring NaN (no data)."""
    from scipy.ndimage import uniform_filter

    valid = np.isfinite(block)
    total = uniform_filter(np.where(valid, block, 0.0), size=(1, window, window), mode="nearest")
    count = uniform_filter(valid.astype(np.float64), size=(1, window, window), mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan).astype(np.float32)


@dataclass(frozen=True)
class PixelSeries:
    """One pixel's analysis, for plotting: observations, the daily band and the detected events."""

    label: str
    observed: np.ndarray
    """Dates (datetime64[D]) of the clear observations."""
    ndvi: np.ndarray
    days: np.ndarray
    """The daily grid (datetime64[D])."""
    q10: np.ndarray
    q50: np.ndarray
    q90: np.ndarray
    emergences: tuple[date, ...]
    harvests: tuple[date, ...]
    layers: dict[str, float]
    """The pixel's layer values (YYDOY, days or flags)."""


def pixel_series(
    cube: xr.Dataset,
    period: TimeRange,
    config: Config,
    points: Sequence[tuple[float, float]],
    radar: xr.DataArray | None = None,
) -> list[PixelSeries]:
    """The analysis of the pixels nearest to ``points`` (x, y in the cube's CRS), as in :func:`seasons`."""
    params = config.seasons
    year = reference_year(period, params)
    cube, grid, observed = _analysis_cube(cube, year)
    kwargs = kernel_arguments(params, grid, year, observed)
    xs = xr.DataArray([p[0] for p in points], dims="point")
    ys = xr.DataArray([p[1] for p in points], dims="point")
    [picked] = compute(cube[["B04", "B08", "clear"]].sel(x=xs, y=ys, method="nearest"))
    values = np.where(picked.clear.values, ndvi(picked.B04.values, picked.B08.values), np.nan).astype(
        np.float64
    )
    on_grid, radar_days = _radar_on_grid(radar, grid)
    ratio = np.zeros((0, len(points)))
    if on_grid is not None:
        ratio = np.asarray(on_grid.sel(x=xs, y=ys, method="nearest").values, np.float64)
    lam, floor, spike, spike_gap, soil, scale = (float(v) for v in kwargs["smoothing"])
    daily = np.datetime64(grid.first) + np.arange(grid.n_days)
    out = []
    for p in range(len(points)):
        q10, q50, q90, _, views, _ = kernel.daily_band(
            values[:, p],
            observed,
            grid.n_days,
            lam,
            floor,
            spike,
            spike_gap,
            soil,
            scale,
            ratio[:, p],
            radar_days,
        )
        layers = kernel.analyse_pixels(values[:, p : p + 1], cropland=np.array([-1], np.int8),
                                       sowing=np.zeros(1, np.int8), radar=ratio[:, p : p + 1],
                                       radar_days=radar_days, **kwargs)  # fmt: skip
        emergence, _, harvest, _, _ = kernel.crop_events(
            q50, kwargs["rules"], kwargs["calendar"], views, SOWN_UNKNOWN, int(kwargs["year_bounds"][1])
        )
        ok = np.isfinite(values[:, p])
        out.append(PixelSeries(
            label=f"x={float(picked.x[p]):.0f}, y={float(picked.y[p]):.0f}",
            observed=cube.time.values.astype("datetime64[D]")[ok], ndvi=values[ok, p], days=daily,
            q10=q10, q50=q50, q90=q90,
            emergences=tuple(grid.first + timedelta(days=int(d)) for d in emergence if d >= 0),
            harvests=tuple(grid.first + timedelta(days=int(d)) for d in harvest if d >= 0),
            layers=dict(zip(kernel.LAYERS, (float(v) for v in layers[:, 0]), strict=True)),
        ))  # fmt: skip
    return out
