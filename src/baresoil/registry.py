"""The product registry: every output layer's code, encoding, meaning and colours, in one place.

COG writing (dtype, scale, offset, nodata, band names, tags, colour tables), the
STAC catalog of outputs (``raster:bands``, ``classification:classes``), the QGIS
styles, the report's quick-looks and the documentation tables are all generated
from these entries, so they cannot drift apart.  A product family registers its
layers at import time with :func:`register`, and layers whose codes are only
known at run time with :func:`register_factory`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

CLASS_COLOURS = ("#c8864b", "#2e8b3e", "#5b6c8f", "#4a90d9", "#d94a4a", "#a0a0a0", "#f0e442", "#8c564b")
"""Colours of the classes of a categorical layer, in the order of its classes (MASK: bare soil brown,
vegetation green, other surfaces slate)."""
FLAG_GREYS = ("#f0f0f0", "#d0d0d0", "#b0b0b0", "#909090", "#707070", "#505050", "#303030", "#101010")
"""Greys of a layer's flags, in the order of their values."""
RAMP = "viridis"
"""Matplotlib colour map of the other single-band layers (over their 2–98 % range)."""
YYDOY = "YYDOY"
"""Unit of the HRL date layers: year modulo 100 times 1000 plus day of year (22213 is 1 August 2022)."""
DAY_OF_YEAR = "day of year"
"""Unit of the day-of-year layers (1 … 366, the year being the item's)."""


@dataclass(frozen=True)
class Layer:
    """One output layer (one COG, one STAC asset)."""

    code: str
    """Asset key and file-name code, e.g. ``MASK`` (a contract: never renamed)."""
    family: str
    """Product family: ``observations``, ``soilsuite``, ``seasons``, ``soil``…"""
    title: str
    description: str
    dtype: str
    """Storage type: ``uint8``, ``int16``, ``uint16``, ``float32``."""
    nodata: float
    scale: float = 1.0
    """Physical value = stored * scale + offset."""
    offset: float = 0.0
    unit: str | None = None
    bands: tuple[str, ...] = ()
    """Band names of a multi-band layer (e.g. B02 … B12); empty for a single band."""
    classes: Mapping[int, str] = field(default_factory=dict)
    """Class values of a categorical layer."""
    flags: Mapping[int, str] = field(default_factory=dict)
    """Special values with a meaning other than the physical value (besides nodata)."""
    quicklook: bool = True
    """Whether the HTML report shows this layer (secondary layers are only listed)."""
    listed: bool = True
    """Whether the documentation's tables list this layer (not those made at run time, such as the
    layers of a soil property named by the user)."""

    @property
    def categorical(self) -> bool:
        return bool(self.classes)

    @property
    def is_date(self) -> bool:
        """Whether the values are dates (YYDOY) or days of the year, shown by month rather than a ramp."""
        return self.unit in (YYDOY, DAY_OF_YEAR)

    def class_colours(self) -> dict[int, str]:
        """Class value -> ``#rrggbb`` (the report's, the COG colour table's and the QGIS style's)."""
        return {value: CLASS_COLOURS[i % len(CLASS_COLOURS)] for i, value in enumerate(self.classes)}

    def flag_colours(self) -> dict[int, str]:
        """Flag value -> ``#rrggbb``: one grey each, lighter for lower values."""
        return {value: FLAG_GREYS[i % len(FLAG_GREYS)] for i, value in enumerate(sorted(self.flags))}

    def physical(self, stored: float) -> float:
        """One stored value as a physical value (flag codes included: that is what a GIS shows for them)."""
        return float(stored) * self.scale + self.offset

    def stored_limits(self) -> tuple[float, float]:
        """The lowest and highest stored values a measurement may take (nodata and flags kept out)."""
        if np.dtype(self.dtype).kind == "f":
            info = np.finfo(self.dtype)
            return float(info.min), float(info.max)
        info_int = np.iinfo(self.dtype)
        low, high = float(info_int.min), float(info_int.max)
        middle = (low + high) / 2
        # codes may sit at both ends (the HRL's 0 "no annual cropland" and 65527… 65535): values lie between
        below = [code for code in (self.nodata, *self.flags) if code < middle]
        above = [code for code in (self.nodata, *self.flags) if code >= middle]
        if below:
            low = max(below) + 1
        if above:
            high = min(above) - 1
        return low, high

    @property
    def count(self) -> int:
        return max(1, len(self.bands))

    @property
    def overview_resampling(self) -> str:
        return "nearest" if self.categorical or self.flags else "average"

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Physical values (NaN = missing) to stored integers (or float32)."""
        if np.dtype(self.dtype).kind == "f":
            out = values.astype(self.dtype)
            out[~np.isfinite(values)] = self.nodata
            return out
        finite = np.isfinite(values)
        stored = np.where(finite, (values - self.offset) / self.scale, 0.0)
        stored = np.rint(stored)
        low, high = self.stored_limits()  # nodata and flag codes stay out of the range of real values
        out = np.clip(stored, low, high).astype(self.dtype)
        out[~finite] = np.asarray(self.nodata).astype(self.dtype)
        if self.flags:  # flag codes pass through as they are (products emit them as values)
            flagged = np.isin(values, np.array(list(self.flags), dtype=np.float64))
            out[flagged] = values[flagged].astype(self.dtype)
        return out

    def decode(self, stored: np.ndarray) -> np.ndarray:
        """Stored values to physical float values, NaN for nodata and flags."""
        out = stored.astype(np.float64) * self.scale + self.offset
        special = stored == self.nodata
        for code in self.flags:
            special |= stored == code
        out[special] = np.nan
        return out

    def raster_bands(self) -> list[dict[str, object]]:
        """STAC ``raster:bands`` entries (one per band)."""
        entry: dict[str, object] = {"data_type": self.dtype, "nodata": self.nodata}
        if self.scale != 1.0 or self.offset != 0.0:
            entry.update(scale=self.scale, offset=self.offset)
        if self.unit:
            entry["unit"] = self.unit
        return [dict(entry, name=name) if self.bands else dict(entry) for name in (self.bands or ("",))]


def class_name(label: str) -> str:
    """A label as a machine name (STAC ``classification`` names): 'other surfaces (built-up, water)' ->
    'other_surfaces_built-up_water'."""
    return re.sub(r"[^0-9A-Za-z-]+", "_", label).strip("_") or "class"


def yydoy(day: date) -> int:
    """HRL date encoding: 2022-08-01 -> 22213."""
    return (day.year % 100) * 1000 + day.timetuple().tm_yday


def decode_yydoy(value: float) -> date:
    """The date of an HRL YYDOY value: 22213 -> 2022-08-01."""
    whole = round(value)
    return date(2000 + whole // 1000, 1, 1) + timedelta(days=max(whole % 1000, 1) - 1)


_REGISTRY: dict[str, Layer] = {}


def register(*layers: Layer) -> None:
    """Declare layers; a code registered twice with another definition is a bug."""
    for layer in layers:
        existing = _REGISTRY.get(layer.code)
        if existing is not None and existing != layer:
            raise ValueError(f"layer code {layer.code} registered twice with different definitions")
        _REGISTRY[layer.code] = layer


_FACTORIES: list[Callable[[str], list[Layer]]] = []


def register_factory(factory: Callable[[str], list[Layer]]) -> None:
    """Declare layers whose codes are only known at run time (the layers of a soil property named by the
    user): ``factory(code)`` returns the layers that go with a code it recognises (registered on first
    use, in whatever process reads them), else an empty list."""
    _FACTORIES.append(factory)


_LOADERS: list[Callable[[], object]] = []


def add_loader(load: Callable[[], object]) -> None:
    """Declare a function that registers layers (by importing the modules that declare them): it runs
    once, before the registry first answers for a code it does not know or lists its layers.  The
    families are imported only when a reader needs them, so a run of one family loads no other."""
    _LOADERS.append(load)


_LOADING = threading.RLock()
"""Held while the loaders run: another thread (two API jobs, say) waits for every layer rather than reading a
half-filled registry; the loading thread itself, re-entering from a module it imports, finds none pending."""


def _load_pending() -> None:
    with _LOADING:
        while _LOADERS:
            _LOADERS.pop(0)()


def layer(code: str) -> Layer:
    if code not in _REGISTRY:
        _load_pending()
    if code not in _REGISTRY:
        for factory in _FACTORIES:
            register(*factory(code))
    try:
        return _REGISTRY[code]
    except KeyError:
        raise KeyError(f"unknown layer {code!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def layers(family: str | None = None) -> list[Layer]:
    """All registered layers, or those of one family, in registration order."""
    _load_pending()
    return [lay for lay in _REGISTRY.values() if family is None or lay.family == family]


__all__ = [
    "CLASS_COLOURS",
    "DAY_OF_YEAR",
    "FLAG_GREYS",
    "RAMP",
    "YYDOY",
    "Layer",
    "add_loader",
    "class_name",
    "decode_yydoy",
    "layer",
    "layers",
    "register",
    "register_factory",
    "yydoy",
]
