"""The product registry: every output layer's code, encoding and meaning, in one place.

COG writing (dtype, scale, offset, nodata, band names, tags), the STAC catalog of
outputs (``raster:bands``) and the documentation tables are all generated from
these entries, so they cannot drift apart.  A product family registers its
layers at import time with :func:`register`, and layers whose codes are only
known at run time with :func:`register_factory`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np


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
        info = np.iinfo(self.dtype)
        finite = np.isfinite(values)
        stored = np.where(finite, (values - self.offset) / self.scale, 0.0)
        stored = np.rint(stored)
        low, high = float(info.min), float(info.max)
        # keep nodata and flag codes out of the range that real values may take
        reserved = sorted([self.nodata, *self.flags])
        if reserved and reserved[0] >= (low + high) / 2:
            high = reserved[0] - 1
        elif reserved and reserved[-1] <= (low + high) / 2:
            low = reserved[-1] + 1
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


def layer(code: str) -> Layer:
    if code not in _REGISTRY:
        for factory in _FACTORIES:
            register(*factory(code))
    try:
        return _REGISTRY[code]
    except KeyError:
        raise KeyError(f"unknown layer {code!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def layers(family: str | None = None) -> list[Layer]:
    """All registered layers, or those of one family, in registration order."""
    return [lay for lay in _REGISTRY.values() if family is None or lay.family == family]
