"""Quick-look images of output layers, with their legends, for the HTML report.

A quick-look is read from the COG's overviews (a decimated read, so a 100 km
tile costs as little as a small one) and coloured from the product registry:
class colours for categorical layers, an RGB of B04, B03, B02 for reflectance
composites, and otherwise a colour ramp over the 2–98 % range of the physical
values, with each flag in a grey of its own (HRL flags such as 65529 are
information, not gaps).  Nodata is transparent.  The legend is HTML: swatches
for classes and flags, a gradient bar with its end values (dates for YYDOY
layers) for ramps.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import rasterio

from ..products.registry import RAMP, YYDOY, Layer, decode_yydoy, layer

QUICKLOOK_PX = 512
RGB_BANDS = ("B04", "B03", "B02")
NODATA_ENTRY = '<span class="swatch nodata"></span>nodata (transparent)'


@dataclass(frozen=True)
class Quicklook:
    """One layer of one item as an image on the map."""

    code: str
    title: str
    png: bytes
    legend: str
    """HTML."""
    bounds: tuple[float, float, float, float]
    """left, bottom, right, top in the layer's CRS (EPSG:3035 for every output)."""
    stats: dict[str, str]
    """A few figures of the values shown (on the quick-look grid)."""


def read_decimated(path: Path, max_px: int = QUICKLOOK_PX) -> tuple[np.ndarray, tuple[float, ...], int]:
    """Stored values (band, y, x) read at about ``max_px`` a side, the bounds and the decimation factor."""
    with rasterio.open(path) as src:
        factor = max(1, int(np.ceil(max(src.width, src.height) / max_px)))
        shape = (src.count, max(1, src.height // factor), max(1, src.width // factor))
        stored = src.read(out_shape=shape)
        bounds = tuple(src.bounds)
    return stored, bounds, factor


def quicklook(code: str, path: Path) -> Quicklook:
    spec = layer(code)
    stored, bounds, factor = read_decimated(path)
    if spec.categorical:
        rgba, legend, stats = _classes(stored[0], spec)
    elif spec.bands and all(b in spec.bands for b in RGB_BANDS):
        rgba, legend, stats = _rgb(spec.decode(stored), spec)
    else:
        rgba, legend, stats = _ramp(stored[0], spec)
    stats = {"sample": f"every {factor}. pixel" if factor > 1 else "every pixel", **stats}
    return Quicklook(
        code,
        f"{spec.code}: {spec.title}",
        png(rgba),
        legend,
        (bounds[0], bounds[1], bounds[2], bounds[3]),
        stats,
    )


def png(rgba: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    plt.imsave(buffer, np.clip(rgba, 0, 1), format="png")
    return buffer.getvalue()


def _swatch(colour: str, label: str) -> str:
    return f'<span class="swatch" style="background:{colour}"></span>{html.escape(label)}'


def _classes(stored: np.ndarray, spec: Layer) -> tuple[np.ndarray, str, dict[str, str]]:
    rgba = np.zeros((*stored.shape, 4))
    entries, stats = [], {}
    valid = stored != spec.nodata
    colours = spec.class_colours()
    for value, name in spec.classes.items():
        colour = colours[value]
        where = stored == value
        rgba[where] = matplotlib.colors.to_rgba(colour)
        entries.append(_swatch(colour, f"{value} {name}"))
        stats[f"{value} {name}"] = _share(where.sum(), stored.size)
    stats["nodata"] = _share((~valid).sum(), stored.size)
    return rgba, "<br>".join([*entries, NODATA_ENTRY]), stats


def _share(count: int, total: int) -> str:
    return f"{100 * count / max(total, 1):.1f} %"


def _ramp(stored: np.ndarray, spec: Layer) -> tuple[np.ndarray, str, dict[str, str]]:
    values = spec.decode(stored[None])[0]
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    high = high if high > low else low + 1
    rgba = plt.get_cmap(RAMP)(np.clip((values - low) / (high - low), 0, 1))
    rgba[~np.isfinite(values)] = (0, 0, 0, 0)
    flag_entries, stats = [], {}
    greys = spec.flag_colours()
    present = [value for value in spec.flags if np.any(stored == value)]
    for value in present:
        grey = greys[value]
        where = stored == value
        rgba[where] = matplotlib.colors.to_rgba(grey)
        flag_entries.append(_swatch(grey, f"{value} {spec.flags[value]}"))
        stats[f"flag {value}"] = _share(where.sum(), stored.size)
    if finite.size:
        stats["values"] = _share(finite.size, stored.size)
        stats["median"] = _label(float(np.median(finite)), spec)
        stats["2–98 %"] = f"{_label(low, spec)} – {_label(high, spec)}"
    stats["nodata"] = _share(int((stored == spec.nodata).sum()), stored.size)
    unit = "" if spec.unit in (None, YYDOY, "1") else f" {spec.unit}"
    bar = (
        f'<span class="ramp"></span><span class="ramp-ends">{html.escape(_label(low, spec))} … '
        f"{html.escape(_label(high, spec))}{html.escape(unit)}</span>"
    )
    return rgba, "<br>".join([bar, *flag_entries, NODATA_ENTRY]), stats


def _label(value: float, spec: Layer) -> str:
    """A value as a reader wants it: dates for YYDOY layers, three digits otherwise."""
    if spec.unit == YYDOY and np.isfinite(value) and value > 0:
        return decode_yydoy(value).isoformat()
    return f"{value:.3g}"


def _rgb(values: np.ndarray, spec: Layer) -> tuple[np.ndarray, str, dict[str, str]]:
    rgb = np.stack([values[spec.bands.index(b)] for b in RGB_BANDS], axis=-1)
    finite = rgb[np.isfinite(rgb)]
    low, high = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    image = np.clip((rgb - low) / max(high - low, 1e-6), 0, 1)
    alpha = np.all(np.isfinite(rgb), axis=-1).astype(float)
    legend = f"RGB of {', '.join(RGB_BANDS)}, reflectance {low:.3f} – {high:.3f}; transparent: no composite"
    stats = {"composite": _share(int(alpha.sum()), alpha.size)}
    return np.dstack([np.nan_to_num(image), alpha]), html.escape(legend), stats
