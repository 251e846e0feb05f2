"""One typed configuration, layered: defaults < a product's own defaults < TOML file < command-line flags.

Each section is a frozen dataclass whose defaults follow the anchors (SCMaP for
scene filtering and cloud buffering); ``PRODUCT_DEFAULTS`` holds the few a product
family sets otherwise.  ``load_config`` applies those and reads a TOML file, and
``Config.override`` applies flags; unknown keys are an error, so a typo in a
config file cannot silently fall back to a default.

Each default is written once.  A key that sets a kernel's parameter defaults to the kernel's own record
(``parcels.bs_trees`` to ``ForestSettings().trees``), and the section builds that record from its keys
(``ParcelsConfig.forest()``); a kernel function whose parameter is a key here has no default of its own,
its callers pass the config's value; a choice is a ``Literal`` checked here, not in the product; the
command-line help reads the defaults it states from here.

The sections are pydantic dataclasses in strict mode: every value is checked by type
and range when a section is made (from a file, a flag or code), nothing is converted
on the way (``true`` is no number, ``2.7`` no integer, ``"false"`` no boolean), and the
error names the file, the key and the type expected.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
import sys
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from .errors import ConfigError
from .grid import TILE_SIZE
from .kernels.baresoil_periods import (
    BareEnvelope,
    CalibrationThresholds,
    CoverRules,
    ForestSettings,
    PeriodRules,
)
from .kernels.category import Consolidation
from .kernels.heterogeneity import ClusterRules, DecisionRules, ZoneRules
from .kernels.temporal import Statistic

_STRICT = ConfigDict(strict=True)
"""No conversion: an integer where a number is asked is the only one allowed (10 for 10.0)."""

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Percent = Annotated[float, Field(ge=0, le=100)]
Ndvi = Annotated[float, Field(ge=-1, le=1)]
Count = Annotated[int, Field(ge=0)]
AtLeastOne = Annotated[int, Field(ge=1)]
SclClass = Annotated[int, Field(ge=0, le=11)]
"""A Sentinel-2 scene classification (SCL) class."""
LandCoverClass = Annotated[int, Field(ge=0, le=255)]
"""An ESA WorldCover class (10 … 100), stored as a byte."""


@dataclass(frozen=True, config=_STRICT)
class SceneFilter:
    """Which scenes enter the cube (SCMaP defaults)."""

    max_cloud_cover: Percent = 80.0
    """Scenes with a larger ``eo:cloud_cover`` (percent) are dropped."""
    min_sun_elevation: Annotated[float, Field(ge=-90, le=90)] = 20.0
    """Scenes with the sun lower than this (degrees) are dropped."""


@dataclass(frozen=True, config=_STRICT)
class CubeConfig:
    """How the observation cube is built."""

    resolution: float = 20.0
    """Output pixel size on the EEA grid, metres: 10 or 20, or another size that divides the 100 km tiles
    (so that tiles never overlap)."""
    cloud_buffer_m: NonNegative = 100.0
    """Distance by which SCL cloud, shadow, cirrus and snow are grown (SCMaP: 11x11 px at 20 m)."""
    chunk_size: Count = 0
    """Spatial chunk side in pixels; every chunk holds all dates (per-pixel time series).

    0 (the default) sizes chunks so that the ten reflectance bands of one chunk take
    about ``chunk_megabytes``: large chunks amortise the per-file cost of reading,
    and the budget keeps memory bounded however long the period is."""
    chunk_megabytes: Positive = 256.0
    """Memory budget of one chunk's reflectance stack when ``chunk_size`` is 0."""
    clear_classes: tuple[SclClass, ...] = (4, 5, 6)
    """SCL classes kept as clear sky: vegetation, not vegetated, water."""
    cloud_classes: tuple[SclClass, ...] = (3, 8, 9, 10, 11)
    """SCL classes buffered and masked: cloud shadow, cloud medium/high probability, thin cirrus, and
    snow, whose thin edges Sen2Cor leaves unflagged and which whiten the pixels around it as much as
    a cloud's edge."""
    snow_classes: tuple[SclClass, ...] = (11,)
    """SCL classes reported as snow (not clear)."""
    resampling: Literal["auto", "nearest"] = "auto"
    """How the bands are moved onto the EEA grid: ``auto`` averages finer pixels, interpolates coarser ones
    bilinearly and takes classes (SCL) by nearest neighbour; ``nearest`` takes every band by nearest
    neighbour (odc-stac's default): no pixel is blended with its neighbours, and GDAL warps many files
    in one call."""

    @field_validator("resolution")
    @classmethod
    def _divides_the_tiles(cls, value: float) -> float:
        if value <= 0 or TILE_SIZE % value:
            tile_km = TILE_SIZE // 1000
            raise ValueError(f"a pixel size in metres that divides the {tile_km} km EEA tiles (10, 20, 25 …)")
        return value


@dataclass(frozen=True, config=_STRICT)
class BuiltUpConfig:
    """Built-up land found in the series: the keys ``soilsuite`` and ``seasons`` share (one definition,
    the same keys in both sections)."""

    builtup_from_data: bool = True
    """Without a land-cover map, find built-up land in the series (see ``kernels.surfaces``): it joins water
    as 'other surfaces' and is never bare; off, only water is."""
    builtup_share: Fraction = 0.3
    """Pixels whose NDVI is steady and never high are built-up where at least this share of their
    neighbourhood is too."""
    builtup_window_m: Positive = 120.0
    """Side of the neighbourhood over which the share of built-up pixels is taken (metres)."""
    builtup_green_share: Fraction = 0.78
    """Built-up pixels' greenest observations (NDVI's 90th percentile) stay below this share of the block's
    green level (the 90th percentile of its pixels' greenest observations)."""
    mineral_blue: Fraction = 0.2
    """A never-green pixel this bright in the blue (median reflectance) is bare rock or sand, not built-up."""


@dataclass(frozen=True, config=_STRICT)
class SoilSuiteConfig(BuiltUpConfig):
    """Bare-surface detection and compositing (SCMaP)."""

    rule: Literal["pvir2", "geos3", "sen4cap"] = "pvir2"
    """Per-observation rule: ``pvir2`` (SCMaP), ``geos3`` (GEOS3/SYSI) or ``sen4cap``."""
    threshold: str = "auto"
    """PVIR2 threshold: a number, a raster path (resampled bilinearly) or ``auto`` (each pixel's own
    bare-soil level from its time series, see ``kernels.threshold``)."""
    fixed_threshold: float = 0.2
    """Threshold used where ``auto`` cannot estimate one (too few bare observations)."""
    min_bare_obs: AtLeastOne = 3
    """Bare observations needed for the bare-surface class and the composites."""
    blue_sigma: Positive = 3.0
    """Blue outlier filter: robust standard deviations above the pixel's median B02."""
    blue_floor: NonNegative = 0.008
    """Blue outlier filter: least brightening (reflectance) that counts as an outlier."""
    shadow_ratio: NonNegative = 0.6
    """Dark filter against missed cloud shadows: drop bare observations darker (NIR-SWIR) than this
    times the pixel's median; 0 disables it (SCMaP has no such filter)."""
    haze_limit: NonNegative = 0.008
    """Haze and cirrus screen: observations under more than this much haze or thin cirrus (reflectance,
    estimated from the spectrum over ``haze_window_m``, see ``kernels.haze``) are not valid; 0 disables
    it (SCMaP has no such screen)."""
    haze_window_m: Positive = 500.0
    """Side of the window (metres) over which the haze and cirrus estimates are averaged per date."""
    min_soil_fraction: Fraction = 0.75
    """Cover screen: a bare observation has at least this share of exposed soil (against residue and green
    vegetation, by linear unmixing with the pixel's own soil, see ``kernels.cover``): the scoring
    contract's bare soil; 0 disables the screen (SCMaP has none) and the rule alone decides."""
    max_green_fraction: Fraction = 0.15
    """Cover screen: a bare observation has less than this share of green vegetation.  Bare soil may carry
    some green (weeds, volunteers); the limit keeps canopies whose unmixing went wrong out."""
    soil_ndti_margin: float = 0.05
    """Cover screen: a pixel's soil reference whose NDTI exceeds the block's bare-soil NDTI by more than this
    holds residue (the pixel was never bare) and is cleaned of it; negative disables the check.  Residue
    itself is taken only from observations at least this far above the soil's NDTI."""
    composite_min_soil: Fraction = 0.75
    """The composite is made of the bare observations with at least this soil share where a pixel has
    ``min_bare_obs`` of them (the frequency counts them all); at ``min_soil_fraction`` or below, of all."""
    own_soil_composite: bool = True
    """Composite the soil's own spectrum of each bare observation (the observation less the residue and
    green parts the cover screen found in it) rather than the observation itself."""
    mref_blue_sigma: Positive = 4.0
    """Blue outlier filter of the mean reflectance of all clear observations (MREF)."""
    landcover: str = ""
    """Optional land-cover raster in ESA WorldCover classes (path); empty: none."""
    landcover_not_bare: tuple[LandCoverClass, ...] = (50, 80)
    """Land-cover classes never taken as bare (built-up, permanent water)."""
    landcover_other: tuple[LandCoverClass, ...] = (50, 70, 80, 90, 95)
    """Land-cover classes of the mask's 'other surfaces' (built-up, snow/ice, water, wetland, mangroves)."""

    @field_validator("threshold", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        """``threshold = 0.2`` in a file is the number it looks like (the field also holds paths)."""
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return str(value) if is_number else value


@dataclass(frozen=True, config=_STRICT)
class SeasonsConfig(BuiltUpConfig):
    """Crop seasons and bare-soil periods (the HRL VLCC cropping-pattern layers)."""

    year: Count = 0
    """Reference year; 0 takes the year in the middle of the period."""
    zone: Annotated[int, Field(ge=1, le=2)] = 1
    """HRL climate zone of the season windows: 1 (Atlantic, Continental, Boreal, Alpine) or 2
    (Mediterranean, Pannonian, Lusitanian, Anatolian)."""
    smoothing: Positive = 100.0
    """Whittaker smoothing parameter (second differences, daily grid)."""
    noise_floor: NonNegative = 0.02
    """Least NDVI noise standard deviation of one observation (the band never gets narrower)."""
    band_scale: Positive = 1.5
    """Factor on the posterior standard deviation of the band (1: the posterior as it is).  Checked on
    clear views left out of the fit (``benchmarks/bench_seasons.py``, default world): at 1.5 the
    q10-q90 band holds 84 % of them, and 88 % once widened by their noise, where 80 % is nominal; at
    1, 71 % and 79 %, with too few where views are dense.  An event's confidence also has a floor
    (``min_event_confidence``) and a harvest's its views (``harvest_confidence``)."""
    spike: NonNegative = 0.1
    """Isolated NDVI dips deeper than this (below both neighbours) are dropped as missed clouds."""
    spike_max_gap: Count = 20
    """An isolated dip down to ``bare_ndvi`` is kept when the next clear observation comes more than this
    many days later: time enough for a harvest or tillage and for the next crop to grow, so in a cloudy
    autumn the one view of a bare field is not thrown away as a cloud."""
    min_prominence: NonNegative = 0.2
    """Least NDVI rise and fall that makes a season."""
    min_peak_ndvi: Ndvi = 0.5
    """A season must reach this NDVI: crops do, fluctuating water, rock or built-up surfaces do not."""
    min_rise: NonNegative = 0.1
    """Least NDVI rise, still under way at the end of the data, taken as an emergence."""
    emergence_fraction: Fraction = 0.1
    """Emergence: where the rise leaves the bare level by this share of the season's amplitude."""
    harvest_fraction: Fraction = 0.15
    """Harvest: where the fall comes within this share of the amplitude of the post-harvest level.  A ripe
    cereal's standing straw keeps NDVI near 0.3 until the harvest takes it to the stubble's 0.2: the
    level must lie below the straw's, or the end of senescence is taken for the harvest."""
    bare_ndvi: Ndvi = 0.3
    """A pixel is annual cropland only if its smoothed NDVI drops to this level (bare soil or stubble);
    also the level an isolated dip must reach to be kept as a harvest or tillage (``spike_max_gap``),
    the level between two NDVI peaks that makes them two seasons (a winter crop's dormancy dip
    stays above it: one season), and the level of the first view showing a cover crop gone after a
    long cloudy gap (the bare period before the main crop starts in that gap)."""
    winter_emergence: str = "10-15"
    """Month-day of a winter crop's typical emergence: the earliest its unseen emergence is placed, 47 days
    before the dormancy from which a rise is a green-up, 30 days after the earliest a cereal emerges (see
    ``kernels.events.winter_dates``; moved with the scene's harvest when ``scene_calendar`` is on)."""
    greenup: str = "03-15"
    """Month-day of the winter crops' typical green-up (as ``winter_emergence``)."""
    winter_harvest: str = "07-25"
    """Month-day of the winter crops' typical harvest (as ``winter_emergence``)."""
    harvest_to_emergence: Count = 25
    """Least days from a harvest to the emergence of a crop sown after it (seedbed, sowing, germination):
    a winter crop's unseen emergence is placed no earlier."""
    winter_season_days: Count = 275
    """Typical days from a winter crop's emergence to its harvest when the scene's own winter crops cannot
    tell it (as ``winter_emergence``)."""
    min_season_days: Count = 40
    max_season_days: AtLeastOne = 366
    min_observations: Count = 8
    """Fewer clear observations in the analysis window: flag 'not enough observations'."""
    min_event_confidence: Count = 14
    """Least event confidence in days (a date read off the curve is within about a week either way).
    The band says how well the curve is known, not how well the day read off it matches the field:
    where views are dense the band is a few days wide, while the onset of a rise or the end of a fall
    has an error of its own (crops differ in how their first leaves show and how a harvest rounds the
    curve off).  On the simulator about 90 % of the emergences and harvests whose bracketing views
    lie at most 10 days apart are dated within 7 days; 0 leaves the band alone (the ATBD)."""
    max_event_confidence: Count = 40
    """Event confidence above this many days is 'deemed significant' (flag 65534), as the HRL caps it."""
    radar_window: AtLeastOne = 5
    """Boxcar (pixels a side) on Sentinel-1 linear backscatter before the cross ratio, against speckle."""
    confidence: Literal["slope", "crossing"] = "slope"
    """How an event's confidence is read from the band: ``slope`` (the HRL ATBD: band height over the
    slope at the event, crossings only where the slope is flat) or ``crossing`` (always the days between
    the band's edges crossing the event's level)."""
    harvest_confidence: Literal["band", "views"] = "views"
    """How a harvest's confidence is read: ``band`` (the ATBD: the band's width at the harvest only) or
    ``views`` (at least the days between the last view of the crop standing and the first of it gone).
    A harvest is a step that may lie anywhere between those two views, while the smoother's band
    assumes a smooth curve and stays narrow there: ``band`` states too little (see
    ``benchmarks/bench_seasons.py``)."""
    combine: Literal["sum", "average"] = "sum"
    """How two event confidences make a duration's or bare period's: ``sum`` (the bounds of the
    HRL range 1-80) or ``average`` (the ATBD text)."""
    landcover: str = ""
    """Optional crop/land-cover raster in ESA WorldCover classes; cropland is its class 40."""
    cropland_classes: tuple[LandCoverClass, ...] = (40,)
    main_season: Literal["harvested", "windows"] = "harvested"
    """Which season is the main one: ``harvested`` (the contract's main crop, harvested in the reference
    year: of the seasons harvested in the year, one up by the scene's winter-crop harvest before one
    sown after it, then the one with the most green; see ``kernels.seasons._select_harvested``) or
    ``windows`` (the HRL ATBD: the first whose events fall in the spring-crop windows, else the first in
    the winter-crop windows; a season in neither is flag 65533)."""
    scene_calendar: bool = False
    """Move the winter-crop calendar (``winter_emergence``, ``greenup``, ``winter_harvest`` together) by as
    many days as the scene's own overwintering crops are harvested later (see ``kernels.calendar``); off,
    the configured dates as they are.  Off by default: it did not travel (docs/seasons/algorithm.md,
    'Tuned constants'); a climate that brings the harvest forward does not bring the sowing forward."""

    @model_validator(mode="after")
    def _least_confidence_within_the_largest(self) -> SeasonsConfig:
        if self.min_event_confidence > self.max_event_confidence:
            raise ValueError(
                f"seasons.min_event_confidence must be between 0 and seasons.max_event_confidence "
                f"({self.max_event_confidence}), got {self.min_event_confidence}"
            )
        return self


@dataclass(frozen=True, config=_STRICT)
class SoilMapConfig:
    """Soil property maps: quantile regression forests on soil samples and covariates (SoilGrids)."""

    trees: AtLeastOne = 300
    """Trees of each quantile regression forest."""
    min_samples_leaf: AtLeastOne = 3
    """Least samples in a leaf: larger leaves give smoother, better calibrated intervals."""
    max_features: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Share of the covariates tried at each split."""
    log_properties: tuple[str, ...] = ("soc", "n", "carbonates")
    """Properties modelled as log(1 + value) (skewed, positive); quantiles transform back exactly."""
    min_samples: AtLeastOne = 20
    """Fewer usable samples of a property is an error."""
    cv_folds: Annotated[int, Field(ge=2)] = 5
    """Cross-validation folds."""
    cv_block_m: Positive = 500.0
    """Side of the square blocks whose samples stay together in cross-validation (metres)."""
    cv_neighbour_m: NonNegative = 100.0
    """Samples closer than this (metres) always share a cross-validation fold."""
    calibrate: bool = True
    """Calibrate the 90 % intervals conformally (CQR) on the residuals of cross-validation folds whose
    held-out distances resemble the map's (sample-to-nearest-sample against pixel-to-nearest-sample),
    so that the coverage they state holds for the map's pixels."""
    lab_error: tuple[str, ...] = ("soc=5%", "n=6%", "clay=1.5", "silt=1.5", "sand=1.5", "ph=0.1",
                                  "bulk_density=0.03")  # fmt: skip
    """Analytical error (one standard deviation) of the samples' lab values, ``name=value`` in the
    property's unit or ``name=value%`` relative; taken out of the calibrated intervals' width, which
    are meant to hold the true value, not a lab measurement of it.  Defaults: typical repeatability
    of the usual methods (dry combustion, pipette, glass electrode, core); a property not listed: 0."""
    tpi_radii_m: tuple[Positive, ...] = (100.0, 300.0, 500.0)
    """Radii of the topographic position indices derived from the DEM (metres)."""
    spectral_indices: bool = True
    """Add soil ratios of the bare-soil composite: SWIR1/SWIR2 (clay minerals), red/blue (iron
    oxides), SWIR1/NIR (ferrous minerals)."""
    compare_covariates: bool = True
    """Cross-validate terrain only, + MREF and + SRC side by side (as CUP4SOIL)."""
    chunk_size: AtLeastOne = 512
    """Spatial chunk side of the prediction, pixels."""
    seed: Count = 0

    @field_validator("lab_error")
    @classmethod
    def _lab_error_readable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        parse_lab_error(value)
        return value

    def lab_error_of(self, name: str) -> tuple[float, bool]:
        """(error, relative) of property ``name``: (0, False) when not listed."""
        return parse_lab_error(self.lab_error).get(name, (0.0, False))


def parse_lab_error(entries: tuple[str, ...]) -> dict[str, tuple[float, bool]]:
    """``("soc=5%", "clay=1.5")`` -> {"soc": (0.05, True), "clay": (1.5, False)}; ValueError if unreadable."""
    out: dict[str, tuple[float, bool]] = {}
    for entry in entries:
        name, sep, text = entry.partition("=")
        text = text.strip()
        relative = text.endswith("%")
        try:
            value = float(text.removesuffix("%"))
        except ValueError:
            value = float("nan")
        if not sep or not name.strip() or not math.isfinite(value) or value < 0:
            raise ValueError(f"{entry!r}: expected name=error or name=error% (an error of 0 or more)")
        out[name.strip()] = (value / 100 if relative else value, relative)
    return out


_CALIBRATION = CalibrationThresholds()
_FOREST = ForestSettings()
_PERIODS = PeriodRules()
_COVER = CoverRules()
_CLUSTERS = ClusterRules()
_DECISION = DecisionRules()
_ZONES = ZoneRules()
_CONSOLIDATION = Consolidation()
"""The kernels' own defaults (Sen4CAP's where the kernel says so): the parcels keys that set them default
to them, so that each value is written once, in the kernel."""


@dataclass(frozen=True, config=_STRICT)
class ParcelsConfig:
    """Parcel monitoring as Sen4CAP (markers database, bare-soil periods, heterogeneity, change of
    agricultural category); defaults are Sen4CAP 4.x's."""

    # parcel input and markers database (MDB1)
    buffer_m: Annotated[float, Field(ge=-1)] = -1.0
    """Inward buffer of the parcels, metres; -1: Sen4CAP's (5 m at 10 m resolution, 10 m at 20 m); 0: none."""
    min_pixels: Count = 3
    """Parcels with fewer pixels inside are reported (and kept: a few values are still values)."""

    # bare-soil periods (L4E)
    bs_s2_features: tuple[str, ...] = (
        "FCOVER",
        "B02",
        "B03",
        "B04",
        "B08",
        "B11",
        "B12",
        "NDVI",
        "NDTI",
        "BSI",
    )
    """Parcel means the S2 Random Forest learns from (Sen4CAP's, without LAI and FAPAR); those missing
    from the markers table are left out."""
    bs_s1_features: tuple[str, ...] = ("VV", "VH", "VV_VH")
    """Parcel means (dB) of the S1 Random Forest; VV_VH is VV − VH (Sen4CAP's backscatter ratio)."""
    bs_calib_bs_ndvi: float = _CALIBRATION.bs_ndvi
    bs_calib_bs_ndti: float = _CALIBRATION.bs_ndti
    bs_calib_nbs_ndvi: float = _CALIBRATION.nbs_ndvi
    bs_calib_nbs_ndti: float = _CALIBRATION.nbs_ndti
    bs_calib_nbs_fcover: Fraction = _CALIBRATION.nbs_fcover
    bs_calib_min_pixels: Count = 50
    """Only parcels with at least this many pixels train the Random Forests (Sen4CAP's S2Pix)."""
    bs_trees: AtLeastOne = _FOREST.trees
    bs_random_state: Count = _FOREST.random_state
    bs_thr_bs_s2: Fraction = _PERIODS.thr_bs
    bs_thr_nbs_s2: Fraction = _PERIODS.thr_nbs
    bs_thr_bs_s1: Fraction = 0.65
    bs_thr_nbs_s1: Fraction = 0.70
    bs_p_short: Count = _PERIODS.p_short
    bs_p_long: Count = _PERIODS.p_long
    bs_next_gap_days: Count = 0
    """Days after a period's END before the next one is searched (Sen4CAP waits ``bs_p_short``, 30);
    0 searches from the first view after END, so a bare spell a few weeks after the last one
    (between a harvest and a cover crop, a double crop) is not skipped."""
    bs_s2_periods: Count = _PERIODS.n_periods
    bs_s1_periods: Count = 4
    bs_s1_max_gap_days: Count = 5
    """An S2 calibration label goes to the nearest S1 observation only within this many days."""
    bs_start_s1_step_db: NonNegative = 1.0
    """START_EST from Sentinel-1 (not in Sen4CAP): the least change of a parcel's VH (dB, relative to
    the median parcel of the date) between two acquisitions that dates a tillage (a rise) or a
    harvest (a drop) between the last S2 view not bare and START; inf keeps the S2 window's middle."""
    bs_start_canopy_ndvi: float = 0.6
    """A last S2 view not bare with at least this NDVI showed a green canopy (a root crop at harvest): its
    removal bared the soil, so the S1 drop dates the start even when a rise follows."""
    bs_start_area_prior: bool = False
    """START_EST from S2 (not in Sen4CAP): true takes the median day, inside each period's window (the
    last view not bare … START), of the start days all the area's windows show together (a snowmelt,
    a harvest or tillage campaign bares many parcels within days); false (the default) the window's
    middle, since where the parcels are few and their tillage not in step the estimated density has
    spikes of its own (docs/parcels/algorithm.md)."""
    bs_classifier: Literal["cover", "sen4cap"] = "cover"
    """Per-observation S2 class: ``cover`` (not in Sen4CAP) reads the exposed-soil share from levels
    the data set itself (each parcel's own bare soil, the area's full green and full residue cover)
    and calls bare a view with at least ``bs_min_soil`` of exposed soil; ``sen4cap`` is Sen4CAP's
    threshold calibration and Random Forest, kept within the bare envelope (``bs_max_*``)."""
    bs_min_soil: Fraction = _COVER.min_soil
    """Least exposed-soil share of a bare view (the bare-soil definition; ``cover`` classifier)."""
    bs_soil_quantile: Annotated[float, Field(ge=0, le=100)] = _COVER.soil_quantile
    """Percentile of a parcel's own NDVI and NDTI over all its views taken as its bare-soil level."""
    bs_residue_quantile: Annotated[float, Field(ge=0, le=100)] = _COVER.residue_quantile
    """Percentile of the NDTI excess (over the soil–green mixing line) of the area's views with little
    green taken as full residue cover."""
    bs_residue_noise: NonNegative = _COVER.residue_noise
    """Residue counts (``cover`` classifier) only beyond this many robust spreads of the NDTI excess
    within each parcel's views with little green: the spread of a wet or hazy soil's NDTI."""
    bs_cover_scale: Annotated[float, Field(gt=0)] = _COVER.scale
    """Confidence of the ``cover`` class: logistic in (exposed share − ``bs_min_soil``) / this."""
    bs_min_clear_share: Fraction = 0.5
    """A view of a parcel is classified (``cover`` classifier) only when at least this share of the
    parcel's pixels (its largest clear count) is clear: the contract's bare day needs half the
    parcel's pixels bare, which fewer clear pixels cannot show, and a view mostly under cloud is read
    from its edges (haze, shadow, unflagged cloud)."""
    bs_green_index: Literal["dvi", "ndvi"] = "dvi"
    """How the ``cover`` classifier reads the green share: ``dvi`` from NIR − red (B08 − B04), which
    mixes linearly with cover, or ``ndvi`` from NDVI, which over a dark soil reads a fifth of canopy as
    half (a markers table without B04 and B08 is read by NDVI)."""
    bs_residue_veto: Fraction = 0.1
    """A view the ``cover`` classifier calls bare is taken as not bare when the trees learned on the tuning
    worlds (``products.parcels.residue``) give it a probability of a bare day below this: residue and
    stubble the NDTI does not show.  0 turns the veto off; a markers table without B04, B08, B11 and B12
    is read without it."""
    bs_statistic: Literal["median", "mean"] = "median"
    """Parcel statistic the ``cover`` classifier reads: the median view is bare when half the parcel's
    pixels are (the mean mixes a green strip into a bare field)."""
    bs_skip_lone_nbs: bool = True
    """A view not bare between two bare views of the parcel neither ends nor splits a period (not in
    Sen4CAP): a canopy does not come and go between two views, an unflagged cloud, shadow or haze
    does."""
    bs_max_ndti: float = 0.12
    bs_max_ndvi_rise: float = 0.05
    bs_max_ndti_rise: float = 0.02
    bs_max_fcover: float = float("inf")
    """Bare envelope (not in Sen4CAP; inf turns a limit off, all inf is Sen4CAP): an S2 observation the
    forest calls bare stays bare only with NDTI, NDVI above the parcel's own bare NDVI, NDTI above its
    own bare NDTI (10th percentiles over the markers table) and FCOVER at most these.  Sen4CAP's
    forest learns from the extremes only and calls bare whatever is nearer bare soil than green crops:
    stubble, residue, ripe cereals, winter crops with 10 % cover."""
    # heterogeneity (L4D)
    hete_method: Literal["zones", "sen4cap"] = "zones"
    """How a parcel is found heterogeneous: ``zones`` (not in Sen4CAP) splits each parcel's pixels in two
    zones by their NDVI course over the window and asks how far apart the zones are on each date, in
    units of their own spread (``hete_zone_*``); ``sen4cap`` clusters the pixels of all parcels per
    30-day period (``hete_s2_clusters``) and rates markers M1–M4 over windows of periods."""
    hete_zone_separation: Positive = _ZONES.separation
    """``zones``: two zones differ on a date when their median NDVI differ by at least this many times
    their pooled spread (one population split in two gives about 2.7)."""
    hete_zone_min_clear: Fraction = _ZONES.min_clear
    """``zones``: a date counts for a parcel when at least this share of its pixels is clear."""
    hete_period_days: AtLeastOne = 30
    hete_s2_step_days: AtLeastOne = 10
    hete_s1_step_days: AtLeastOne = 7
    hete_max_dist_days: Count = 30
    """Gaps between valid observations longer than this stay gaps in the 10-day series."""
    hete_s2_bands: tuple[str, ...] = ("B02", "B03", "B04", "B08")
    """Bands clustered with NDVI (reflectance × 10000 and NDVI × 1000, Sen4CAP's units)."""
    hete_s2_clusters: AtLeastOne = 12
    """Clusters of all parcel pixels per period.  Sen4CAP's default is 4 (which its code lowers to the 3
    images of a period); with so few, two crops in one field often share a cluster.  12 splits the
    area's crop states finer; homogeneous fields stay out through the NDVI distance (M3)."""
    hete_s1_clusters: AtLeastOne = 5
    hete_isolated_threshold: Count = _CLUSTERS.isolated_threshold
    hete_isolated_radius: Count = _CLUSTERS.isolated_radius
    hete_connectivity_radius: Count = _CLUSTERS.connectivity_radius
    hete_full_connectivity: bool = _CLUSTERS.full_connectivity
    hete_min_cluster_pixels: Count = _CLUSTERS.min_cluster_pixels
    hete_ndvi_distance: NonNegative = _CLUSTERS.ndvi_distance
    hete_per_hetero: Fraction = _CLUSTERS.per_hetero
    hete_compactness: NonNegative = _CLUSTERS.compactness
    hete_decision_compactness: NonNegative = _DECISION.compactness
    hete_window: AtLeastOne = _DECISION.window
    hete_skip_empty_periods: bool = _DECISION.skip_empty
    """Windows over the periods with data only (a cloudy month does not break a window)."""
    hete_seed: Count = 0
    # change of agricultural category
    change_outlier_feature: str = "NDVI"
    """Marker whose per-crop distribution gives the outliers (Sen4CAP uses LAI)."""
    change_outlier_std: Positive = 1.5
    change_p1_threshold: float = _CONSOLIDATION.p1_threshold
    change_p2_threshold: float = _CONSOLIDATION.p2_threshold

    # the kernels' records, built from the keys above: the one way from this section to the kernels
    def calibration(self) -> CalibrationThresholds:
        """Sen4CAP's S2 calibration thresholds (``bs_calib_*``)."""
        return CalibrationThresholds(
            bs_ndvi=self.bs_calib_bs_ndvi,
            bs_ndti=self.bs_calib_bs_ndti,
            nbs_ndvi=self.bs_calib_nbs_ndvi,
            nbs_ndti=self.bs_calib_nbs_ndti,
            nbs_fcover=self.bs_calib_nbs_fcover,
        )

    def forest(self) -> ForestSettings:
        """The per-observation Random Forest (``bs_trees``, ``bs_random_state``)."""
        return dataclasses.replace(_FOREST, trees=self.bs_trees, random_state=self.bs_random_state)

    def bare_envelope(self) -> BareEnvelope:
        """The limits the forest's bare calls must also meet (``bs_max_*``)."""
        return BareEnvelope(
            max_ndti=self.bs_max_ndti,
            max_fcover=self.bs_max_fcover,
            max_ndvi_rise=self.bs_max_ndvi_rise,
            max_ndti_rise=self.bs_max_ndti_rise,
        )

    def cover_rules(self) -> CoverRules:
        """The ``cover`` classifier's levels and class (``bs_min_soil`` … ``bs_cover_scale``)."""
        return dataclasses.replace(
            _COVER,
            min_soil=self.bs_min_soil,
            soil_quantile=self.bs_soil_quantile,
            residue_quantile=self.bs_residue_quantile,
            residue_noise=self.bs_residue_noise,
            scale=self.bs_cover_scale,
        )

    def period_rules(self, sensor: Literal["s2", "s1"]) -> PeriodRules:
        """The marker state machine's parameters for one sensor's observations (``bs_thr_*``, ``bs_p_*``)."""
        s2 = sensor == "s2"
        return PeriodRules(
            thr_bs=self.bs_thr_bs_s2 if s2 else self.bs_thr_bs_s1,
            thr_nbs=self.bs_thr_nbs_s2 if s2 else self.bs_thr_nbs_s1,
            p_short=self.bs_p_short,
            p_long=self.bs_p_long,
            n_periods=self.bs_s2_periods if s2 else self.bs_s1_periods,
            next_gap=self.bs_next_gap_days,
        )

    def cluster_rules(self) -> ClusterRules:
        """Sen4CAP's cluster analysis of a parcel and period (``hete_*``)."""
        return ClusterRules(
            per_hetero=self.hete_per_hetero,
            min_cluster_pixels=self.hete_min_cluster_pixels,
            ndvi_distance=self.hete_ndvi_distance,
            compactness=self.hete_compactness,
            isolated_threshold=self.hete_isolated_threshold,
            isolated_radius=self.hete_isolated_radius,
            connectivity_radius=self.hete_connectivity_radius,
            full_connectivity=self.hete_full_connectivity,
        )

    def decision_rules(self) -> DecisionRules:
        """Sen4CAP's decision over windows of periods (``hete_window`` …)."""
        return DecisionRules(
            window=self.hete_window,
            compactness=self.hete_decision_compactness,
            skip_empty=self.hete_skip_empty_periods,
        )

    def zone_rules(self) -> ZoneRules:
        """The two-zone split of a parcel (``hete_zone_*``; zones as large as Sen4CAP's clusters)."""
        return ZoneRules(
            min_clear=self.hete_zone_min_clear,
            separation=self.hete_zone_separation,
            min_zone_pixels=self.hete_min_cluster_pixels,
        )

    def consolidation(self) -> Consolidation:
        """Sen4CAP's change consolidation thresholds (``change_p*_threshold``)."""
        return Consolidation(self.change_p1_threshold, self.change_p2_threshold)


@dataclass(frozen=True, config=_STRICT)
class ReadConfig:
    """How inputs are read over the network: retries, time limits, and what an unreadable asset does.

    Operational only: these keys never change the values of an output that completes, so they are not
    part of a run's request (``pipeline.manifest``) and a run may be resumed with other ones."""

    retries: Count = 3
    """Retries of one HTTP request answered 429 or 5xx, or timed out (GDAL's ``GDAL_HTTP_MAX_RETRY`` for
    COGs, urllib3's ``Retry`` for STAC JSON), and re-reads of an asset after a dropped connection."""
    retry_delay_s: Positive = 0.5
    """First back-off between retries (seconds); it doubles at each retry."""
    timeout_s: Positive = 30.0
    """Longest one HTTP request waits for an answer (seconds)."""
    deadline_s: Positive = 120.0
    """Longest the read of one asset (or one STAC document) may take, retries included (seconds); past it
    the asset is unreadable.  A host that has answered nothing for this long is down: the run stops."""
    strict: bool = False
    """An asset that cannot be read ends the run; otherwise its scene-band is left out where it is
    needed (the observation counts say so) and the run record names it."""
    open_files_mb: NonNegative = 128.0
    """Memory for files kept open from one block to the next (a header and a decoded tile each, MB), and as
    much for GDAL's cache of decoded tiles: a file kept open is opened once, not once per block, and the
    tiles neighbouring blocks share are decoded once.  0 opens and closes a file at every read."""


@dataclass(frozen=True, config=_STRICT)
class RunConfig:
    """How a run over many EEA tiles is scheduled on dask (``pipeline.run``).

    Operational only: the outputs are byte for byte the same whatever these keys say, so they are
    neither part of a run's request (a run may be resumed with other ones) nor of the items' provenance."""

    tiles_in_flight: AtLeastOne = 2
    """EEA tiles computed at the same time: while one tile searches, sets up its cube or assembles its
    COGs, the blocks of another keep the scheduler's workers busy.  Each tile in flight hands the
    scheduler about one block per worker thread at a time, so memory grows with this number; 1 runs the
    tiles one after another."""


CompositePeriod = Literal["10d", "month", "quarter", "year"]
"""The calendar periods of the composites (``products.calendar``)."""


@dataclass(frozen=True, config=_STRICT)
class CompositeConfig:
    """Clear-sky surface-reflectance composites per calendar period (the Sentinel-2 Global Mosaic's)."""

    every: CompositePeriod = "month"
    """Compositing period, aligned to the calendar: ``10d`` dekads (days 1-10, 11-20, 21 to the end of the
    month, as the Copernicus Global Land service and openEO's ``aggregate_temporal_period`` count them),
    ``month``, ``quarter`` (January-March …) or ``year``; clipped to the run's period at its ends."""
    stat: Statistic = "median"
    """Per pixel over the period's valid observations: the median and mean of each band on its own, or the
    geometric median of the bands together (one spectrum the bands agree on, robust to clouds the mask
    missed; see ``kernels.temporal``)."""
    bands: tuple[str, ...] = ()
    """Bands composited (``B02`` … ``B12``); empty: all ten reflectance bands."""
    crs: str = ""
    """Output CRS (``EPSG:32632``, any string pyproj reads); empty or ``EPSG:3035``: the EEA reference grid
    and its 100 km tiles."""
    resolution: NonNegative = 0.0
    """Pixel size in units of ``crs`` (degrees for a geographic CRS); 0 takes ``cube.resolution`` (metres).
    On the EEA grid ``cube.resolution`` is the one used."""
    format: Literal["cog", "netcdf", "zarr"] = "cog"
    """Output encoding: a COG per band and period (one STAC item per tile and period), or one netCDF-4 file
    or Zarr store per tile holding every period (one STAC item per tile)."""
    min_valid_obs: AtLeastOne = 1
    """Fewer valid observations in a period leave the pixel's composite nodata (NVALID is still written)."""
    geomedian_max_iterations: AtLeastOne = 1000
    """Geometric median: most iterations of Weiszfeld's algorithm per pixel."""
    geomedian_tolerance: Positive = 1e-6
    """Geometric median: iterations stop once the estimate moves less than this (reflectance units)."""


@dataclass(frozen=True, config=_STRICT)
class ServiceConfig:
    """Limits and workers of ``baresoil serve`` (the ``[service]`` table of its ``--config`` file).

    A request over a limit is refused with openEO's error JSON before any work starts.  The area is the
    requested box's on the EEA grid (km²), the period its days; pixels are those of one output layer."""

    max_area_period: Positive = 10_000.0 * 366
    """Largest area times period of a batch job, km² × days (10,000 km² for a year; the openEO platforms
    that publish SCMaP refuse above about 1,000 km² for two years)."""
    max_pixels: Positive = 400e6
    """Most pixels of one output layer of a batch job (a 400 km × 400 km area at 20 m)."""
    sync_max_area_period: Positive = 100.0 * 366
    """Largest area times period of a synchronous request (``POST /result``), km² × days."""
    sync_max_pixels: Positive = 4e6
    """Most pixels of one output layer of a synchronous request (40 km × 40 km at 20 m)."""
    workers: AtLeastOne = 2
    """Batch jobs run at the same time (each one computes on the dask scheduler); more wait, queued."""
    max_features: AtLeastOne = 100_000
    """Most features of the GeoJSON a process graph carries inline (``baresoil_parcels``' parcels,
    ``baresoil_soil``'s samples)."""
    max_request_mb: Positive = 100.0
    """Largest request body (a process graph with its inline GeoJSON), megabytes (10⁶ bytes); a larger
    one is refused with ``PayloadTooLarge`` before it is read to the end."""


def _read_toml(path: Path) -> dict[str, Any]:
    """A config file's tables, or one line naming the file and what is wrong with it."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def load_service_config(path: str | Path | None = None) -> ServiceConfig:
    """The defaults, updated by the ``[service]`` table of a TOML file when given."""
    service = ServiceConfig()
    if path is None:
        return service
    path = Path(path)
    data = _read_toml(path)
    values = data.get("service", {})
    known = {f.name for f in dataclasses.fields(service)}
    unknown = [key for key in values if key not in known]
    if unknown:
        raise ConfigError(f"{path}: unknown key service.{unknown[0]}")
    try:
        return dataclasses.replace(service, **values)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, ServiceConfig, "service", values, str(path))) from None


@dataclass(frozen=True, config=_STRICT)
class Config:
    scenes: SceneFilter = field(default_factory=SceneFilter)
    cube: CubeConfig = field(default_factory=CubeConfig)
    soilsuite: SoilSuiteConfig = field(default_factory=SoilSuiteConfig)
    seasons: SeasonsConfig = field(default_factory=SeasonsConfig)
    soil: SoilMapConfig = field(default_factory=SoilMapConfig)
    parcels: ParcelsConfig = field(default_factory=ParcelsConfig)
    read: ReadConfig = field(default_factory=ReadConfig)
    composite: CompositeConfig = field(default_factory=CompositeConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def override(self, **flags: Any) -> Config:
        """A copy with dotted keys replaced, e.g. ``override(**{"cube.resolution": 10})``.

        None values are ignored, so unset command-line flags keep the lower layers.
        """
        return _apply(self, {k: v for k, v in flags.items() if v is not None}, source="flags")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def recorded(self) -> dict[str, Any]:
        """The configuration an output records (its provenance): every section but ``run``, which says
        how a run is scheduled and leaves the outputs as they are."""
        values = self.to_dict()
        values.pop("run")
        return values


PRODUCT_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "seasons": {"cube.resolution": 10.0, "scenes.max_cloud_cover": 100.0},
    "parcels": {"cube.resolution": 10.0, "cube.resampling": "nearest"},
}
"""Defaults a product family sets otherwise than the general ones (a config file and flags still win).

The HRL layers and Sen4CAP's markers are 10 m products.  The seasons' daily series wants every scene
in which a pixel is clear, as the HRL's gap-filled fAPAR masks clouds per pixel: a scene 95 % cloudy
over its whole tile may be clear over the fields, and in a cloudy autumn that view is often the only
one to date an emergence.  SCMaP's composites drop such scenes (``scenes.max_cloud_cover``).  A parcel's
statistics over its interior pixels need no blending of neighbours: its cube is moved by nearest
neighbour, which GDAL warps many files at a time (docs/parcels/algorithm.md, *Inputs*)."""


def load_config(path: str | Path | None = None, product: str | None = None) -> Config:
    """Defaults, then ``product``'s own (``PRODUCT_DEFAULTS``), updated by a TOML file when given."""
    config = Config()
    if product is not None:
        if product not in PRODUCT_DEFAULTS:
            raise ConfigError(f"no product defaults for {product!r}; known: {', '.join(PRODUCT_DEFAULTS)}")
        config = _apply(config, dict(PRODUCT_DEFAULTS[product]), source=f"{product} defaults")
    if path is None:
        return config
    path = Path(path)
    data = _read_toml(path)
    return _apply(config, _flatten(data), source=str(path))


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _apply(config: Config, values: dict[str, Any], source: str) -> Config:
    sections: dict[str, dict[str, Any]] = {}
    for dotted, value in values.items():
        section, _, name = dotted.partition(".")
        if not name:
            raise ConfigError(f"{source}: expected section.key, got {dotted!r}")
        sections.setdefault(section, {})[name] = value
    changes = {}
    for section, updates in sections.items():
        if section not in {f.name for f in dataclasses.fields(config)}:
            raise ConfigError(f"{source}: unknown config section {section!r}")
        current = getattr(config, section)
        known = {f.name for f in dataclasses.fields(current)}
        for name in updates:
            if name not in known:
                raise ConfigError(f"{source}: unknown key {section}.{name}")
        # TOML has arrays, the sections tuples: the only conversion made
        given = {name: tuple(v) if isinstance(v, list) else v for name, v in updates.items()}
        try:
            changes[section] = dataclasses.replace(current, **given)
        except ValidationError as exc:
            raise ConfigError(_explain(exc, type(current), section, updates, source)) from None
    return dataclasses.replace(config, **changes)


def _explain(exc: ValidationError, cls: type, section: str, values: Mapping[str, Any], source: str) -> str:
    """``FILE: section.key = VALUE: expected TYPE`` (and the rule a value broke, for a validator's)."""
    error = exc.errors()[0]
    if not error["loc"]:  # a rule between keys (a section's validator): its own words name them
        return f"{source}: " + str(error["msg"]).removeprefix("Value error, ")
    name = str(error["loc"][0])
    expected = describe_type(typing.get_type_hints(cls, include_extras=True)[name])
    message = f"{source}: {section}.{name} = {_as_toml(values[name])}: expected {expected}"
    if error["type"] == "value_error":
        message += ": " + str(error["msg"]).removeprefix("Value error, ")
    return message


def describe_type(annotation: Any) -> str:
    """A config field's type in words: ``a number from 0 to 100``, ``a list of integers``,
    ``one of "sum", "average"``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        kind, *metadata = typing.get_args(annotation)
        return describe_type(kind) + _bounds(metadata)
    if origin is Literal:
        return "one of " + ", ".join(_as_toml(choice) for choice in typing.get_args(annotation))
    if origin is tuple:
        _, _, item = describe_type(typing.get_args(annotation)[0]).partition(" ")
        noun, _, bounds = item.partition(" ")
        return " ".join(("a list of", _PLURALS.get(noun, noun), bounds)).rstrip()
    return _TYPE_WORDS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(metadata: list[Any]) -> str:
    """`` from 0 to 100``, `` ≥ 1``, `` > 0 and ≤ 1`` from a field's constraints."""
    limits = {}
    for meta in metadata:
        for constraint in getattr(meta, "metadata", [meta]):
            for kind in ("ge", "gt", "le", "lt"):
                if hasattr(constraint, kind):
                    limits[kind] = f"{getattr(constraint, kind):g}"
    if "ge" in limits and "le" in limits:
        return f" from {limits['ge']} to {limits['le']}"
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    return " and".join(f" {signs[kind]} {value}" for kind, value in limits.items())


_TYPE_WORDS: dict[Any, str] = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}
_PLURALS = {"number": "numbers", "integer": "integers", "string": "strings"}


def _as_toml(value: Any) -> str:
    """A value as it is written in a TOML file (``true``, ``"auto"``, ``[4, 5]``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_as_toml(v) for v in value) + "]"
    return repr(value)


@cache
def field_docs() -> dict[str, dict[str, str]]:
    """Per config dataclass: field name -> the docstring written under the field in this module (what the
    documentation's tables and the API's process parameters say of each key), a base class's included."""
    tree = ast.parse(inspect.getsource(sys.modules[__name__]))
    docs: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: dict[str, str] = {}
        for (
            base
        ) in node.bases:  # the fields a section shares with another come first, as dataclasses order them
            if isinstance(base, ast.Name):
                fields.update(docs.get(base.id, {}))
        body = node.body
        for current, following in zip(body, [*body[1:], None], strict=True):
            if isinstance(current, ast.AnnAssign) and isinstance(current.target, ast.Name):
                text = ""
                if (
                    isinstance(following, ast.Expr)
                    and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)
                ):
                    text = inspect.cleandoc(following.value.value)
                fields[current.target.id] = " ".join(text.split())
        docs[node.name] = fields
    return docs
