"""The one alias table: how each provider publishes Sentinel-2 L2A in STAC.

Providers name the same band differently (``red``, ``B04``, ``B04_10m``), put the
sun angle and the processing baseline under different properties, and declare
the baseline-04.00 offset in different places (``raster:bands``, STAC 1.1 asset
fields, or nowhere), and some have already taken it out of the DN and say so in a
flag.  Everything downstream speaks the canonical names below; this module is
where the translation lives, and nowhere else.  What each provider publishes, with
the sources, is in ``docs/observations/providers.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
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
BASELINE_04_DATE = date(2022, 1, 25)
"""First acquisitions processed with baseline 04.00 (used only when an item says nothing)."""
BOA_ADD_OFFSET_DN = -1000
DN_NODATA = 0


@dataclass(frozen=True)
class Layout:
    """How one provider lays out Sentinel-2 L2A assets in its STAC items."""

    name: str
    """Short name used in messages and by the simulator (``earth-search``…)."""
    title: str
    collections: tuple[str, ...]
    """Collection ids under which the provider publishes this layout (the first is the usual one)."""
    asset_keys: Mapping[str, str]
    """Canonical band name -> the provider's asset key."""
    markers: tuple[str, ...] = ()
    """Item properties only this provider writes: they tell layouts with the same asset keys apart
    when the item's collection does not."""

    def asset_key(self, band: str) -> str:
        return self.asset_keys[band]

    def has_keys(self, asset_keys: set[str]) -> bool:
        """Whether an item's assets look like this layout (its SCL and red keys are there)."""
        return {self.asset_keys[SCL], self.asset_keys["B04"]} <= asset_keys


_COMMON_NAME_KEYS: Mapping[str, str] = {
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
}
_BAND_KEYS: Mapping[str, str] = {band: band for band in ALL_BANDS}

EARTH_SEARCH = Layout(
    name="earth-search",
    title="Element 84 Earth Search v1, sentinel-2-c1-l2a",
    collections=("sentinel-2-c1-l2a",),
    asset_keys=_COMMON_NAME_KEYS,
)
EARTH_SEARCH_L2A = Layout(
    name="earth-search-l2a",
    title="Element 84 Earth Search v1, sentinel-2-l2a",
    collections=("sentinel-2-l2a",),
    asset_keys=_COMMON_NAME_KEYS,
    markers=("earthsearch:boa_offset_applied", "earthsearch:s3_path"),
)
PLANETARY_COMPUTER = Layout(
    name="planetary-computer",
    title="Microsoft Planetary Computer",
    collections=("sentinel-2-l2a",),
    asset_keys=_BAND_KEYS,
)
EARTH_SEARCH_V0 = Layout(
    name="earth-search-v0",
    title="Element 84 Earth Search v0, sentinel-s2-l2a-cogs",
    collections=("sentinel-s2-l2a-cogs",),
    asset_keys=_BAND_KEYS,
    markers=("sentinel:product_id", "sentinel:utm_zone", "sentinel:boa_offset_applied"),
)
CDSE = Layout(
    name="cdse",
    title="Copernicus Data Space Ecosystem",
    collections=("sentinel-2-l2a",),
    asset_keys={band: f"{band}_{NATIVE_RESOLUTION[band]}m" for band in ALL_BANDS},
)
LAYOUTS: tuple[Layout, ...] = (EARTH_SEARCH, EARTH_SEARCH_L2A, PLANETARY_COMPUTER, EARTH_SEARCH_V0, CDSE)
"""Every layout; among those sharing asset keys the first is the one assumed when nothing else tells."""


def detect_layout(
    asset_keys: set[str], properties: Mapping[str, Any] | None = None, collection: str | None = None
) -> Layout | None:
    """The layout of an item: by its asset keys, then its collection id, then its provider's markers."""
    candidates = [layout for layout in LAYOUTS if layout.has_keys(asset_keys)]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    for layout in candidates:
        if collection in layout.collections:
            return layout
    for layout in candidates:
        if any(marker in (properties or {}) for marker in layout.markers):
            return layout
    return candidates[0]


# --- Scene properties ------------------------------------------------------------------------

_PRODUCT_BASELINE = re.compile(r"_N(\d{2})(\d{2})_")


def _baseline_in_product_id(product_id: Any) -> str | None:
    """``S2A_MSIL2A_20220405T100031_N0400_R122_T33UWP_…`` -> ``"04.00"``."""
    match = _PRODUCT_BASELINE.search(str(product_id))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _elevation_from_zenith(zenith: Any) -> float:
    return 90.0 - float(zenith)


# Scene properties: canonical name -> (STAC property, conversion) tried in order; a conversion
# returning None passes to the next alias.
PROPERTY_ALIASES: Mapping[str, tuple[tuple[str, Any], ...]] = {
    # Earth Search v1 and CDSE: view:sun_elevation; Planetary Computer: the mean solar zenith;
    # STAC before 1.0 (sat-api) had eo:sun_elevation.  Earth Search v0 items carry no sun angle.
    "sun_elevation": (
        ("view:sun_elevation", float),
        ("s2:mean_solar_zenith", _elevation_from_zenith),
        ("s2:mean_solar_zenith_angle", _elevation_from_zenith),
        ("view:sun_zenith", _elevation_from_zenith),
        ("eo:sun_elevation", float),
    ),
    "cloud_cover": (("eo:cloud_cover", float), ("s2:cloud_cover", float)),
    "platform": (("platform", lambda v: str(v).lower()),),
    # Earth Search v1 and Planetary Computer: s2:processing_baseline; CDSE: processing:version;
    # Earth Search v0: sentinel:processing_baseline (from January 2022), before that only the
    # N-number of the product id.
    "processing_baseline": (
        ("s2:processing_baseline", str),
        ("processing:version", str),
        ("sentinel:processing_baseline", str),
        ("processing:baseline", str),
        ("s2:product_uri", _baseline_in_product_id),
        ("sentinel:product_id", _baseline_in_product_id),
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
            converted = convert(value)
            if converted is not None:
                return converted
    return None


def property_names(name: str) -> tuple[str, ...]:
    """The STAC properties a canonical scene property is read from, in order."""
    return tuple(key for key, _ in PROPERTY_ALIASES[name])


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


# --- DN to reflectance -----------------------------------------------------------------------

BOA_OFFSET_APPLIED_FLAGS: tuple[str, ...] = ("earthsearch:boa_offset_applied", "sentinel:boa_offset_applied")
"""Earth Search v1 ``sentinel-2-l2a`` and v0: true when Element 84 has already added BOA_ADD_OFFSET
to the DN (they are harmonised with the archive before 04.00), even though ``raster:bands``
still declares offset -0.1.  Then no offset may be applied."""

OFFSET_SOURCES: tuple[str, ...] = ("raster:bands", "asset", "baseline", "date", "applied-flag")
"""What decided an item's scale and offset, in the order they are tried; ``applied-flag`` overrides."""


@dataclass(frozen=True)
class Scaling:
    """reflectance = DN × scale + offset, and which source said so."""

    scale: float
    offset: float
    source: str


def reflectance_scaling(
    asset_fields: Mapping[str, Any], properties: Mapping[str, Any], acquired: date
) -> Scaling:
    """Scale and offset of one reflectance asset.

    Tried in order: the asset's ``raster:bands``, the STAC 1.1 ``raster:scale`` / ``raster:offset``
    of its ``bands`` or of the asset itself, the item's processing baseline, its acquisition date.
    An Earth Search "offset already applied" flag then sets the offset to 0 whatever was declared.
    """
    scaling = (
        _raster_bands_scaling(asset_fields)
        or _asset_scaling(asset_fields)
        or _baseline_scaling(properties)
        or _date_scaling(acquired)
    )
    if boa_offset_applied(properties):
        return Scaling(scaling.scale, 0.0, "applied-flag")
    return scaling


def boa_offset_applied(properties: Mapping[str, Any]) -> bool:
    """Whether the provider says the DN already include BOA_ADD_OFFSET (harmonised DN)."""
    for key in BOA_OFFSET_APPLIED_FLAGS:
        value = properties.get(key)
        if value is not None:
            return value is True or str(value).strip().lower() == "true"
    return False


def asset_nodata(asset_fields: Mapping[str, Any]) -> float:
    """Nodata of an asset: ``raster:bands``, then STAC 1.1 ``bands``, then the asset, else 0."""
    for fields in (_first(asset_fields.get("raster:bands")), _first(asset_fields.get("bands")), asset_fields):
        if fields.get("nodata") is not None:
            return float(fields["nodata"])
    return float(DN_NODATA)


def _raster_bands_scaling(asset_fields: Mapping[str, Any]) -> Scaling | None:
    raster = _first(asset_fields.get("raster:bands"))
    if "scale" not in raster and "offset" not in raster:
        return None
    return Scaling(float(raster.get("scale", 1.0)), float(raster.get("offset", 0.0)), "raster:bands")


def _asset_scaling(asset_fields: Mapping[str, Any]) -> Scaling | None:
    """STAC 1.1: ``raster:scale`` / ``raster:offset`` on the band (``bands[0]``), else on the asset."""
    merged = {**asset_fields, **_first(asset_fields.get("bands"))}
    if "raster:scale" not in merged and "raster:offset" not in merged:
        return None
    return Scaling(float(merged.get("raster:scale", 1.0)), float(merged.get("raster:offset", 0.0)), "asset")


def _baseline_scaling(properties: Mapping[str, Any]) -> Scaling | None:
    baseline = parse_baseline(scene_property(properties, "processing_baseline"))
    if baseline is None:
        return None
    return Scaling(DN_SCALE, baseline_offset(baseline), "baseline")


def _date_scaling(acquired: date) -> Scaling:
    """No metadata at all: the archive switched to baseline 04.00 on 25 January 2022."""
    baseline = BASELINE_OFFSET_FROM if acquired >= BASELINE_04_DATE else None
    return Scaling(DN_SCALE, baseline_offset(baseline), "date")


def _first(entries: Any) -> Mapping[str, Any]:
    return entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}


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
