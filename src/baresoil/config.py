"""One typed configuration, layered: defaults < a product's own defaults < TOML file < command-line flags.

Each section is a frozen dataclass whose defaults follow the anchors (SCMaP for
scene filtering and cloud buffering); ``PRODUCT_DEFAULTS`` holds the few a product
family sets otherwise.  ``load_config`` applies those and reads a TOML file, and
``Config.override`` applies flags; unknown keys are an error, so a typo in a
config file cannot silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class SceneFilter:
    """Which scenes enter the cube (SCMaP defaults)."""

    max_cloud_cover: float = 80.0
    """Scenes with a larger ``eo:cloud_cover`` (percent) are dropped."""
    min_sun_elevation: float = 20.0
    """Scenes with the sun lower than this (degrees) are dropped."""


@dataclass(frozen=True)
class CubeConfig:
    """How the observation cube is built."""

    resolution: float = 20.0
    """Output pixel size on the EEA grid, metres (10 or 20)."""
    cloud_buffer_m: float = 100.0
    """Distance by which SCL cloud, shadow, cirrus and snow are grown (SCMaP: 11x11 px at 20 m)."""
    chunk_size: int = 0
    """Spatial chunk side in pixels; every chunk holds all dates (per-pixel time series).

    0 (the default) sizes chunks so that the ten reflectance bands of one chunk take
    about ``chunk_megabytes``: large chunks amortise the per-file cost of reading,
    and the budget keeps memory bounded however long the period is."""
    chunk_megabytes: float = 256.0
    """Memory budget of one chunk's reflectance stack when ``chunk_size`` is 0."""
    clear_classes: tuple[int, ...] = (4, 5, 6)
    """SCL classes kept as clear sky: vegetation, not vegetated, water."""
    cloud_classes: tuple[int, ...] = (3, 8, 9, 10, 11)
    """SCL classes buffered and masked: cloud shadow, cloud medium/high probability, thin cirrus, and
    snow, whose thin edges Sen2Cor leaves unflagged and which whiten the pixels around it as much as
    a cloud's edge."""
    snow_classes: tuple[int, ...] = (11,)
    """SCL classes reported as snow (not clear)."""


@dataclass(frozen=True)
class SoilSuiteConfig:
    """Bare-surface detection and compositing (SCMaP)."""

    rule: str = "pvir2"
    """Per-observation rule: ``pvir2`` (SCMaP), ``geos3`` (GEOS3/SYSI) or ``sen4cap``."""
    threshold: str = "auto"
    """PVIR2 threshold: a number, a raster path (resampled bilinearly) or ``auto`` (each pixel's own
    bare-soil level from its time series, see ``kernels.threshold``)."""
    fixed_threshold: float = 0.2
    """Threshold used where ``auto`` cannot estimate one (too few bare observations)."""
    min_bare_obs: int = 3
    """Bare observations needed for the bare-surface class and the composites."""
    blue_sigma: float = 3.0
    """Blue outlier filter: robust standard deviations above the pixel's median B02."""
    blue_floor: float = 0.008
    """Blue outlier filter: least brightening (reflectance) that counts as an outlier."""
    shadow_ratio: float = 0.6
    """Dark filter against missed cloud shadows: drop bare observations darker (NIR-SWIR) than this
    times the pixel's median; 0 disables it (SCMaP has no such filter)."""
    haze_limit: float = 0.008
    """Haze and cirrus screen: observations under more than this much haze or thin cirrus (reflectance,
    estimated from the spectrum over ``haze_window_m``, see ``kernels.haze``) are not valid; 0 disables
    it (SCMaP has no such screen)."""
    haze_window_m: float = 500.0
    """Side of the window (metres) over which the haze and cirrus estimates are averaged per date."""
    min_soil_fraction: float = 0.7
    """Cover screen: a bare observation has at least this share of exposed soil (against residue and green
    vegetation, by linear unmixing with the pixel's own soil, see ``kernels.cover``); 0 disables the
    screen (SCMaP has none) and the rule alone decides."""
    max_green_fraction: float = 0.05
    """Cover screen: a bare observation has less than this share of green vegetation."""
    mref_blue_sigma: float = 4.0
    """Blue outlier filter of the mean reflectance of all clear observations (MREF)."""
    landcover: str = ""
    """Optional land-cover raster in ESA WorldCover classes (path); empty: none."""
    landcover_not_bare: tuple[int, ...] = (50, 80)
    """Land-cover classes never taken as bare (built-up, permanent water)."""
    landcover_other: tuple[int, ...] = (50, 70, 80, 90, 95)
    """Land-cover classes of the mask's 'other surfaces' (built-up, snow/ice, water, wetland, mangroves)."""


@dataclass(frozen=True)
class SeasonsConfig:
    """Crop seasons and bare-soil periods (the HRL VLCC cropping-pattern layers)."""

    year: int = 0
    """Reference year; 0 takes the year in the middle of the period."""
    zone: int = 1
    """HRL climate zone of the season windows: 1 (Atlantic, Continental, Boreal, Alpine) or 2
    (Mediterranean, Pannonian, Lusitanian, Anatolian)."""
    smoothing: float = 100.0
    """Whittaker smoothing parameter (second differences, daily grid)."""
    noise_floor: float = 0.02
    """Least NDVI noise standard deviation of one observation (the band never gets narrower)."""
    band_scale: float = 1.5
    """Factor on the posterior standard deviation of the band (1: the posterior as it is).  Checked on
    clear views left out of the fit (``benchmarks/bench_seasons.py``, default world): at 1.5 the
    q10-q90 band holds 84 % of them, and 88 % once widened by their noise, where 80 % is nominal; at
    1, 71 % and 79 %, with too few where views are dense.  An event's confidence also has a floor
    (``min_event_confidence``) and a harvest's its views (``harvest_confidence``)."""
    spike: float = 0.1
    """Isolated NDVI dips deeper than this (below both neighbours) are dropped as missed clouds."""
    spike_max_gap: int = 20
    """An isolated dip down to ``bare_ndvi`` is kept when the next clear observation comes more than this
    many days later: time enough for a harvest or tillage and for the next crop to grow, so in a cloudy
    autumn the one view of a bare field is not thrown away as a cloud."""
    min_prominence: float = 0.2
    """Least NDVI rise and fall that makes a season."""
    min_peak_ndvi: float = 0.5
    """A season must reach this NDVI: crops do, fluctuating water, rock or built-up surfaces do not."""
    min_rise: float = 0.1
    """Least NDVI rise, still under way at the end of the data, taken as an emergence."""
    emergence_fraction: float = 0.1
    """Emergence: where the rise leaves the bare level by this share of the season's amplitude."""
    harvest_fraction: float = 0.15
    """Harvest: where the fall comes within this share of the amplitude of the post-harvest level.  A ripe
    cereal's standing straw keeps NDVI near 0.3 until the harvest takes it to the stubble's 0.2: the
    level must lie below the straw's, or the end of senescence is taken for the harvest."""
    bare_ndvi: float = 0.3
    """A pixel is annual cropland only if its smoothed NDVI drops to this level (bare soil or stubble);
    also the level an isolated dip must reach to be kept as a harvest or tillage (``spike_max_gap``),
    the level between two NDVI peaks that makes them two seasons (a winter crop's dormancy dip
    stays above it: one season), and the level of the first view showing a cover crop gone after a
    long cloudy gap (the bare period before the main crop starts in that gap)."""
    dormancy_start: str = "12-01"
    """Month-day from which a winter crop rests: a rise leaving the bare level from then until the
    spring-crop emergence window opens (zone 1: 1 April; zone 2: 1 March) is the green-up of a crop sown
    in the autumn, whose own emergence was too sparse to show."""
    winter_emergence: str = "10-15"
    """Month-day of a typical winter-crop emergence: the earliest a winter crop's unseen emergence is placed
    (see ``winter_season_days``), unless ``harvest_to_emergence`` after the previous harvest is later."""
    harvest_to_emergence: int = 25
    """Least days from a harvest to the emergence of a crop sown after it (seedbed, sowing, germination):
    a winter crop's unseen emergence is placed no earlier."""
    winter_season_days: int = 275
    """Typical days from a winter crop's emergence to its harvest (about nine months: wheat from late
    October to late July).  A winter crop's unseen emergence is placed this long before its harvest,
    between ``winter_emergence`` and ``dormancy_start`` (and no earlier than ``harvest_to_emergence``
    after the previous harvest): a wheat harvested in August emerged later than a barley harvested
    in early July.  0, or no harvest found, places it on ``winter_emergence``."""
    earliest_cereal_emergence: str = "09-15"
    """Month-day before which winter cereals do not emerge: a winter crop's rise that starts earlier and stays
    below ``min_peak_ndvi`` until the dormancy (rapeseed and cover crops grow more) is weeds and volunteers
    on the stubble, taken over by the young cereal after a seedbed the clouds hid; the crop's emergence is
    then placed as an unseen one."""
    min_season_days: int = 40
    max_season_days: int = 366
    min_observations: int = 8
    """Fewer clear observations in the analysis window: flag 'not enough observations'."""
    min_event_confidence: int = 14
    """Least event confidence in days (a date read off the curve is within about a week either way).
    The band says how well the curve is known, not how well the day read off it matches the field:
    where views are dense the band is a few days wide, while the onset of a rise or the end of a fall
    has an error of its own (crops differ in how their first leaves show and how a harvest rounds the
    curve off).  On the simulator about 90 % of the emergences and harvests whose bracketing views
    lie at most 10 days apart are dated within 7 days; 0 leaves the band alone (the ATBD)."""
    max_event_confidence: int = 40
    """Event confidence above this many days is 'deemed significant' (flag 65534), as the HRL caps it."""
    radar_window: int = 5
    """Boxcar (pixels a side) on Sentinel-1 linear backscatter before the cross ratio, against speckle."""
    confidence: str = "slope"
    """How an event's confidence is read from the band: ``slope`` (the HRL ATBD: band height over the
    slope at the event, crossings only where the slope is flat) or ``crossing`` (always the days between
    the band's edges crossing the event's level)."""
    harvest_confidence: str = "views"
    """How a harvest's confidence is read: ``band`` (the ATBD: the band's width at the harvest only) or
    ``views`` (at least the days between the last view of the crop standing and the first of it gone).
    A harvest is a step that may lie anywhere between those two views, while the smoother's band
    assumes a smooth curve and stays narrow there: ``band`` states too little (see
    ``benchmarks/bench_seasons.py``)."""
    combine: str = "sum"
    """How two event confidences make a duration's or bare period's: ``sum`` (the bounds of the
    HRL range 1-80) or ``average`` (the ATBD text)."""
    landcover: str = ""
    """Optional crop/land-cover raster in ESA WorldCover classes; cropland is its class 40."""
    cropland_classes: tuple[int, ...] = (40,)


@dataclass(frozen=True)
class SoilMapConfig:
    """Soil property maps: quantile regression forests on soil samples and covariates (SoilGrids)."""

    trees: int = 300
    """Trees of each quantile regression forest."""
    min_samples_leaf: int = 3
    """Least samples in a leaf: larger leaves give smoother, better calibrated intervals."""
    max_features: float = 0.5
    """Share of the covariates tried at each split."""
    log_properties: tuple[str, ...] = ("soc", "n", "carbonates")
    """Properties modelled as log(1 + value) (skewed, positive); quantiles transform back exactly."""
    min_samples: int = 20
    """Fewer usable samples of a property is an error."""
    cv_folds: int = 5
    """Cross-validation folds."""
    cv_block_m: float = 500.0
    """Side of the square blocks whose samples stay together in cross-validation (metres)."""
    cv_neighbour_m: float = 100.0
    """Samples closer than this (metres) always share a cross-validation fold."""
    calibrate: bool = True
    """Calibrate the 90 % intervals conformally on the spatial cross-validation's residuals (CQR), so
    that the coverage they state is the coverage observed on held-out folds."""
    tpi_radii_m: tuple[float, ...] = (100.0, 300.0, 500.0)
    """Radii of the topographic position indices derived from the DEM (metres)."""
    spectral_indices: bool = True
    """Add soil ratios of the bare-soil composite: SWIR1/SWIR2 (clay minerals), red/blue (iron
    oxides), SWIR1/NIR (ferrous minerals)."""
    compare_covariates: bool = True
    """Cross-validate terrain only, + MREF and + SRC side by side (as CUP4SOIL)."""
    chunk_size: int = 512
    """Spatial chunk side of the prediction, pixels."""
    seed: int = 0


@dataclass(frozen=True)
class ParcelsConfig:
    """Parcel monitoring as Sen4CAP (markers database, bare-soil periods, heterogeneity, change of
    agricultural category); defaults are Sen4CAP 4.x's."""

    # parcel input and markers database (MDB1)
    buffer_m: float = -1.0
    """Inward buffer of the parcels, metres; -1: Sen4CAP's (5 m at 10 m resolution, 10 m at 20 m); 0: none."""
    min_pixels: int = 3
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
    bs_calib_bs_ndvi: float = 0.15
    bs_calib_bs_ndti: float = 0.10
    bs_calib_nbs_ndvi: float = 0.45
    bs_calib_nbs_ndti: float = 0.25
    bs_calib_nbs_fcover: float = 0.01
    bs_calib_min_pixels: int = 50
    """Only parcels with at least this many pixels train the Random Forests (Sen4CAP's S2Pix)."""
    bs_trees: int = 30
    bs_random_state: int = 11
    bs_thr_bs_s2: float = 0.75
    bs_thr_nbs_s2: float = 0.80
    bs_thr_bs_s1: float = 0.65
    bs_thr_nbs_s1: float = 0.70
    bs_p_short: int = 30
    bs_p_long: int = 60
    bs_s2_periods: int = 3
    bs_s1_periods: int = 4
    bs_s1_max_gap_days: int = 5
    """An S2 calibration label goes to the nearest S1 observation only within this many days."""
    bs_start_s1_step_db: float = 1.0
    """START_EST from Sentinel-1 (not in Sen4CAP): the least change of a parcel's VH (dB, relative to
    the median parcel of the date) between two acquisitions that dates a tillage (a rise) or a
    harvest (a drop) between the last S2 view not bare and START; inf keeps the S2 window's middle."""
    bs_start_canopy_ndvi: float = 0.6
    """A last S2 view not bare with at least this NDVI showed a green canopy (a root crop at harvest): its
    removal bared the soil, so the S1 drop dates the start even when a rise follows."""
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
    hete_period_days: int = 30
    hete_s2_step_days: int = 10
    hete_s1_step_days: int = 7
    hete_max_dist_days: int = 30
    """Gaps between valid observations longer than this stay gaps in the 10-day series."""
    hete_s2_bands: tuple[str, ...] = ("B02", "B03", "B04", "B08")
    """Bands clustered with NDVI (reflectance × 10000 and NDVI × 1000, Sen4CAP's units)."""
    hete_s2_clusters: int = 12
    """Clusters of all parcel pixels per period.  Sen4CAP's default is 4 (which its code lowers to the 3
    images of a period); with so few, two crops in one field often share a cluster.  12 splits the
    area's crop states finer; homogeneous fields stay out through the NDVI distance (M3)."""
    hete_s1_clusters: int = 5
    hete_isolated_threshold: int = 1
    hete_isolated_radius: int = 1
    hete_connectivity_radius: int = 1
    hete_full_connectivity: bool = False
    hete_min_cluster_pixels: int = 20
    hete_ndvi_distance: float = 0.17
    hete_per_hetero: float = 0.9
    hete_compactness: float = 3.0
    hete_decision_compactness: float = 1.7
    hete_window: int = 3
    hete_skip_empty_periods: bool = False
    """Windows over the periods with data only (a cloudy month does not break a window)."""
    hete_seed: int = 0
    # change of agricultural category
    change_outlier_feature: str = "NDVI"
    """Marker whose per-crop distribution gives the outliers (Sen4CAP uses LAI)."""
    change_outlier_std: float = 1.5
    change_p1_threshold: float = 2.5
    change_p2_threshold: float = 3.0


@dataclass(frozen=True)
class Config:
    scenes: SceneFilter = field(default_factory=SceneFilter)
    cube: CubeConfig = field(default_factory=CubeConfig)
    soilsuite: SoilSuiteConfig = field(default_factory=SoilSuiteConfig)
    seasons: SeasonsConfig = field(default_factory=SeasonsConfig)
    soil: SoilMapConfig = field(default_factory=SoilMapConfig)
    parcels: ParcelsConfig = field(default_factory=ParcelsConfig)

    def override(self, **flags: Any) -> Config:
        """A copy with dotted keys replaced, e.g. ``override(**{"cube.resolution": 10})``.

        None values are ignored, so unset command-line flags keep the lower layers.
        """
        return _apply(self, {k: v for k, v in flags.items() if v is not None}, source="flags")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PRODUCT_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "seasons": {"cube.resolution": 10.0, "scenes.max_cloud_cover": 100.0},
    "parcels": {"cube.resolution": 10.0},
}
"""Defaults a product family sets otherwise than the general ones (a config file and flags still win).

The HRL layers and Sen4CAP's markers are 10 m products.  The seasons' daily series wants every scene
in which a pixel is clear, as the HRL's gap-filled fAPAR masks clouds per pixel: a scene 95 % cloudy
over its whole tile may be clear over the fields, and in a cloudy autumn that view is often the only
one to date an emergence.  SCMaP's composites drop such scenes (``scenes.max_cloud_cover``)."""


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
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return _apply(config, _flatten(data), source=str(path))


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _apply(config: Any, values: dict[str, Any], source: str) -> Any:
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
        known = {f.name: f for f in dataclasses.fields(current)}
        for name, value in updates.items():
            if name not in known:
                raise ConfigError(f"{source}: unknown key {section}.{name}")
            updates[name] = _coerce(value, getattr(current, name), f"{section}.{name}", source)
        changes[section] = dataclasses.replace(current, **updates)
    return dataclasses.replace(config, **changes)


def _coerce(value: Any, default: Any, key: str, source: str) -> Any:
    try:
        if isinstance(default, tuple):
            return tuple(type(default[0])(v) for v in value) if default else tuple(value)
        if isinstance(default, bool):
            return bool(value)
        return type(default)(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {key} = {value!r} is not a valid {type(default).__name__}") from exc
