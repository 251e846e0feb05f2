"""One typed configuration, layered: defaults < TOML file < command-line flags.

Each section is a frozen dataclass whose defaults follow the anchors (SCMaP for
scene filtering and cloud buffering).  ``load_config`` reads a TOML file and
``Config.override`` applies flags; unknown keys are an error, so a typo in a
config file cannot silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
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
    """Distance by which SCL cloud, shadow and cirrus are grown (SCMaP: 11x11 px at 20 m)."""
    chunk_size: int = 0
    """Spatial chunk side in pixels; every chunk holds all dates (per-pixel time series).

    0 (the default) sizes chunks so that the ten reflectance bands of one chunk take
    about ``chunk_megabytes``: large chunks amortise the per-file cost of reading,
    and the budget keeps memory bounded however long the period is."""
    chunk_megabytes: float = 256.0
    """Memory budget of one chunk's reflectance stack when ``chunk_size`` is 0."""
    clear_classes: tuple[int, ...] = (4, 5, 6)
    """SCL classes kept as clear sky: vegetation, not vegetated, water."""
    cloud_classes: tuple[int, ...] = (3, 8, 9, 10)
    """SCL classes buffered and masked: cloud shadow, cloud medium/high probability, thin cirrus."""
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
    mref_blue_sigma: float = 4.0
    """Blue outlier filter of the mean reflectance of all clear observations (MREF)."""
    landcover: str = ""
    """Optional land-cover raster in ESA WorldCover classes (path); empty: none."""
    landcover_not_bare: tuple[int, ...] = (50, 80)
    """Land-cover classes never taken as bare (built-up, permanent water)."""
    landcover_other: tuple[int, ...] = (50, 70, 80, 90, 95)
    """Land-cover classes of the mask's 'other surfaces' (built-up, snow/ice, water, wetland, mangroves)."""


@dataclass(frozen=True)
class Config:
    scenes: SceneFilter = field(default_factory=SceneFilter)
    cube: CubeConfig = field(default_factory=CubeConfig)
    soilsuite: SoilSuiteConfig = field(default_factory=SoilSuiteConfig)

    def override(self, **flags: Any) -> Config:
        """A copy with dotted keys replaced, e.g. ``override(**{"cube.resolution": 10})``.

        None values are ignored, so unset command-line flags keep the lower layers.
        """
        return _apply(self, {k: v for k, v in flags.items() if v is not None}, source="flags")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, updated by a TOML file when given."""
    config = Config()
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
