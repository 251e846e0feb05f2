"""The one alias table: how each provider publishes Sentinel-2 L2A in STAC.

Providers name the same band differently (``red``, ``B04``, ``B04_10m``), put the
sun angle and the processing baseline under different properties, and only some
of them declare the baseline-04.00 offset in ``raster:bands``.  Everything
downstream speaks the canonical names below; this module is where the
translation lives, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REFLECTANCE_BANDS: tuple[str, ...] = (
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B11",
    "B12",
)
"""Canonical surface-reflectance bands, in wavelength order."""
SCL = "SCL"
"""Canonical name of the Sen2Cor scene classification band."""
ALL_BANDS: tuple[str, ...] = (*REFLECTANCE_BANDS, SCL)

NATIVE_RESOLUTION: Mapping[str, int] = {
    "B02": 10,
    "B03": 10,
    "B04": 10,
    "B08": 10,
    "B05": 20,
    "B06": 20,
    "B07": 20,
    "B8A": 20,
    "B11": 20,
    "B12": 20,
    "SCL": 20,
}
"""Native pixel size of each band in metres, as ESA delivers L2A."""

BAND_CENTRE_NM: Mapping[str, int] = {
    "B02": 490,
    "B03": 560,
    "B04": 665,
    "B05": 705,
    "B06": 740,
    "B07": 783,
    "B08": 842,
    "B8A": 865,
    "B11": 1610,
    "B12": 2190,
}
"""Central wavelengths (nm), for STAC ``eo:bands`` and docs."""
COMMON_NAME: Mapping[str, str] = {
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B05": "rededge",
    "B06": "rededge",
    "B07": "rededge",
    "B08": "nir",
    "B8A": "nir08",
    "B11": "swir16",
    "B12": "swir22",
}
"""STAC ``eo:common_name`` of each band (EO extension v1.1), for the ``eo:bands`` of the outputs."""

DN_SCALE = 1e-4
"""L2A reflectance quantification: reflectance = DN / 10000 (+ offset)."""
BASELINE_OFFSET_FROM = (4, 0)
"""Processing baseline from which L2A DN carry BOA_ADD_OFFSET = -1000 (25 Jan 2022)."""
BOA_ADD_OFFSET_DN = -1000
DN_NODATA = 0


@dataclass(frozen=True)
class Layout:
    """How one provider lays out Sentinel-2 L2A assets in its STAC items."""

    name: str
    """Short name used in messages and by the simulator (``earth-search``…)."""
    title: str
    collections: tuple[str, ...]
    """Collection ids under which the provider publishes this layout."""
    asset_keys: Mapping[str, str]
    """Canonical band name -> the provider's asset key."""
    offset_in_metadata: bool
    """Whether items declare scale/offset in ``raster:bands`` (else: from the baseline)."""

    def asset_key(self, band: str) -> str:
        return self.asset_keys[band]

    def matches(self, asset_keys: set[str]) -> bool:
        """Whether an item's assets look like this layout (its SCL and red keys are there)."""
        return {self.asset_keys[SCL], self.asset_keys["B04"]} <= asset_keys


EARTH_SEARCH = Layout(
    name="earth-search",
    title="Element84 Earth Search v1",
    collections=("sentinel-2-l2a", "sentinel-2-c1-l2a"),
    asset_keys={
        "B02": "blue",
        "B03": "green",
        "B04": "red",
        "B05": "rededge1",
        "B06": "rededge2",
        "B07": "rededge3",
        "B08": "nir",
        "B8A": "nir08",
        "B11": "swir16",
        "B12": "swir22",
        "SCL": "scl",
    },
    offset_in_metadata=True,
)
PLANETARY_COMPUTER = Layout(
    name="planetary-computer",
    title="Microsoft Planetary Computer",
    collections=("sentinel-2-l2a",),
    asset_keys={band: band for band in ALL_BANDS},
    offset_in_metadata=False,
)
CDSE = Layout(
    name="cdse",
    title="Copernicus Data Space Ecosystem",
    collections=("sentinel-2-l2a",),
    asset_keys={band: f"{band}_{NATIVE_RESOLUTION[band]}m" for band in ALL_BANDS},
    offset_in_metadata=True,
)
LAYOUTS: tuple[Layout, ...] = (EARTH_SEARCH, PLANETARY_COMPUTER, CDSE)


def detect_layout(asset_keys: set[str]) -> Layout | None:
    """The layout whose keys an item's assets carry, or None."""
    for layout in LAYOUTS:
        if layout.matches(asset_keys):
            return layout
    return None


# Scene properties: canonical name -> (STAC property, conversion) tried in order.
# Sun elevation comes directly (Earth Search, CDSE) or as 90° - mean zenith (PC).
PROPERTY_ALIASES: Mapping[str, tuple[tuple[str, Any], ...]] = {
    "sun_elevation": (
        ("view:sun_elevation", float),
        ("s2:mean_solar_zenith", lambda v: 90.0 - float(v)),
        ("view:sun_zenith", lambda v: 90.0 - float(v)),
    ),
    "cloud_cover": (("eo:cloud_cover", float), ("s2:cloud_cover", float)),
    "platform": (("platform", lambda v: str(v).lower()),),
    "processing_baseline": (
        ("s2:processing_baseline", str),
        ("processing:version", str),
        ("processing:baseline", str),
    ),
    "mgrs_tile": (
        ("grid:code", lambda v: str(v).removeprefix("MGRS-")),
        ("s2:mgrs_tile", str),
        ("mgrs:tile", str),
    ),
    # Sentinel-1: the pass, so that ascending and descending backscatter are not mixed unknowingly
    "orbit_state": (
        ("sat:orbit_state", lambda v: str(v).lower()),
        ("sar:pass_direction", lambda v: str(v).lower()),
    ),
    "relative_orbit": (("sat:relative_orbit", int), ("sar:relative_orbit", int)),
}


def scene_property(properties: Mapping[str, Any], name: str) -> Any:
    """A scene property by canonical name, from whichever alias the provider uses."""
    for key, convert in PROPERTY_ALIASES[name]:
        value = properties.get(key)
        if value is not None:
            return convert(value)
    return None


def parse_baseline(text: str | None) -> tuple[int, int] | None:
    """``"04.00"`` -> ``(4, 0)``; None when absent or unparseable."""
    if not text:
        return None
    parts = str(text).strip().lstrip("N").split(".")
    try:
        return (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0)
    except ValueError:
        return None


def baseline_offset(baseline: tuple[int, int] | None) -> float:
    """The reflectance offset implied by a processing baseline (-0.1 from 04.00 on)."""
    if baseline is not None and baseline >= BASELINE_OFFSET_FROM:
        return BOA_ADD_OFFSET_DN * DN_SCALE
    return 0.0


# --- Sentinel-1 backscatter ------------------------------------------------------------------

S1_BANDS: tuple[str, ...] = ("VV", "VH")
"""Canonical Sentinel-1 polarisations (sigma0/gamma0 backscatter)."""
S1_NODATA = -32768.0
"""Nodata of the float32 backscatter assets when an item does not declare one."""


@dataclass(frozen=True)
class S1Layout:
    """How one provider lays out calibrated Sentinel-1 backscatter in its STAC items."""

    name: str
    title: str
    collections: tuple[str, ...]
    asset_keys: Mapping[str, str]
    """Canonical polarisation -> the provider's asset key."""
    decibels: bool
    """Whether the assets hold dB (else linear power)."""

    def asset_key(self, band: str) -> str:
        return self.asset_keys[band]

    def matches(self, asset_keys: set[str]) -> bool:
        return set(self.asset_keys.values()) <= asset_keys


PLANETARY_COMPUTER_S1_RTC = S1Layout(
    name="planetary-computer-s1-rtc",
    title="Microsoft Planetary Computer Sentinel-1 RTC",
    collections=("sentinel-1-rtc",),
    asset_keys={"VV": "vv", "VH": "vh"},
    decibels=False,
)
S1_LAYOUTS: tuple[S1Layout, ...] = (PLANETARY_COMPUTER_S1_RTC,)


def detect_s1_layout(asset_keys: set[str]) -> S1Layout | None:
    """The Sentinel-1 layout whose keys an item's assets carry, or None."""
    for layout in S1_LAYOUTS:
        if layout.matches(asset_keys):
            return layout
    return None
