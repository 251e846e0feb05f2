"""QGIS styles (.qml) generated from the product registry.

A ``.qml`` file next to a GeoTIFF with the same base name is QGIS's default style
for it, so every layer opens with its legend.  QGIS applies the scale and offset
the COG declares before it colours a pixel, so every value in a style is a
physical value (a BSF of 45 %, a reflectance of 0.12), never a stored one:

* categorical layers (``MASK``): a paletted renderer with the registry's class
  colours, the same as the report's and the COG's colour table;
* date layers (HRL YYDOY dates, days of the year): one class per month (or per
  few months over a long span) labelled with the month, not with YYDOY numbers;
* the others: classes with round bounds over the 2–98 % range of the valid values;
* every flag (HRL flags such as 65529 'bare period outside the year'): a labelled
  grey of its own.  Nodata is transparent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import rasterio
from matplotlib import colormaps

from ..products.registry import RAMP, YYDOY, Layer, decode_yydoy, layer, yydoy
from .atomic import atomic_path

RAMP_CLASSES = 8
"""About this many classes for a layer of measurements."""
MAX_DATE_CLASSES = 24
"""At most this many date classes: a longer span gets classes of two or more months."""
UNITLESS = ("1", "count")
"""Units left out of the labels (a reflectance of 0.12, 5 observations)."""
DOY_YEAR = 2001
"""A common (not leap) year, whose months name the days of year of the day-of-year layers."""

Item = tuple[float, str, str]
"""(upper bound in physical units, label, ``#rrggbb``) of a class of a discrete colour ramp."""


def qml(layer: Layer, value_range: tuple[float, float]) -> str:
    """The QML document of ``layer``; ``value_range`` (physical values) is what the classes span."""
    if layer.categorical:
        renderer = _paletted(layer)
    else:
        lo, hi = value_range
        classes = _date_items(layer, lo, hi) if layer.is_date else _ramp_items(layer, lo, hi)
        renderer = _pseudocolor(classes + _flag_items(layer), lo, hi)
    title = layer.title.replace("--", "–")  # no double hyphen inside an XML comment
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology">
  <pipe>
{renderer}
  </pipe>
  <!-- {layer.code}: {title}; values in {layer.unit or "physical units"} (GDAL scale and offset
       applied); nodata {layer.nodata:g} is transparent -->
</qgis>
"""


def write_style(layer: Layer, tif: Path, value_range: tuple[float, float]) -> Path:
    """Write ``<tif stem>.qml`` beside the GeoTIFF (atomically); returns its path."""
    target = tif.with_suffix(".qml")
    with atomic_path(target) as partial:
        partial.write_text(qml(layer, value_range))
    return target


def write_layer_style(code: str, tif: Path) -> Path | None:
    """The style of a written single-band layer, its classes spanning the 2-98 % range of its valid
    values; None for a multi-band layer (a reflectance composite), which QGIS shows in colour itself."""
    spec = layer(code)
    if spec.count > 1:
        return None
    return write_style(spec, tif, physical_range(spec, tif))


def physical_range(spec: Layer, tif: Path) -> tuple[float, float]:
    """The 2 and 98 % quantiles of a layer's valid values (nodata and flags left out), physical."""
    with rasterio.open(tif) as src:
        factor = max(1, max(src.width, src.height) // 512)  # an overview is enough for a range
        stored = src.read(1, out_shape=(max(1, src.height // factor), max(1, src.width // factor)))
    values = spec.decode(stored)
    values = values[np.isfinite(values)]
    if not values.size:
        return spec.physical(0), spec.physical(1)
    # values that occur (not interpolated): halfway between 21365 and 22001 is no YYDOY date
    lo, hi = (float(v) for v in np.percentile(values, [2, 98], method="nearest"))
    return lo, hi if hi > lo else lo + spec.scale


# --- renderers ------------------------------------------------------------------------------------


def _paletted(layer: Layer) -> str:
    colours = layer.class_colours()
    entries = "\n".join(
        f'        <paletteEntry value="{layer.physical(value):g}" color="{colours[value]}" alpha="255" '
        f"label={quoteattr(f'{value} {name}')}/>"
        for value, name in layer.classes.items()
    )
    return f"""    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">
      <rasterTransparency/>
      <colorPalette>
{entries}
      </colorPalette>
    </rasterrenderer>"""


def _pseudocolor(items: Sequence[Item], lo: float, hi: float) -> str:
    """A discrete ramp: a value takes the colour of the first class whose upper bound it does not exceed."""
    entries = "\n".join(
        f'            <item alpha="255" value="{value:.10g}" label={quoteattr(label)} color="{colour}"/>'
        for value, label, colour in sorted(items)
    )
    return f"""    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1"
                    classificationMin="{lo:.10g}" classificationMax="{hi:.10g}" nodataColor="">
      <rasterTransparency/>
      <rastershader>
        <colorrampshader colorRampType="DISCRETE" classificationMode="1" clip="0">
{entries}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>"""


# --- classes --------------------------------------------------------------------------------------


def _ramp_items(layer: Layer, lo: float, hi: float) -> list[Item]:
    """Classes with round bounds over [lo, hi]; the first and last are open (they take every value below
    and above, up to the first flag), so the 2 % at either end keep a colour."""
    unit = f" {layer.unit}" if layer.unit and layer.unit not in UNITLESS else ""
    if _whole_numbers(layer) and hi - lo < RAMP_CLASSES:
        return _value_items(layer, round(lo), round(hi), unit)
    edges = nice_edges(lo, hi, RAMP_CLASSES, smallest_step=layer.scale)
    n = len(edges) - 1
    colours = _ramp_colours(n)
    items = []
    for i in range(n):
        if i == 0:
            label = f"≤ {edges[1]:g}{unit}"
        elif i == n - 1:
            label = f"> {edges[i]:g}{unit}"
        else:
            label = f"{edges[i]:g} – {edges[i + 1]:g}{unit}"
        upper = _top(layer, hi) if i == n - 1 else edges[i + 1]
        items.append((upper, label, colours[i]))
    return items


def _whole_numbers(layer: Layer) -> bool:
    return np.dtype(layer.dtype).kind in "iu" and layer.scale == 1 and layer.offset == 0


def _value_items(layer: Layer, lo: int, hi: int, unit: str) -> list[Item]:
    """A class per value of a layer of a few whole numbers (counts of 1 to 5): no two share a colour."""
    values = list(range(lo, max(hi, lo + 1) + 1))
    colours = _ramp_colours(len(values))
    labels = [f"≤ {lo}{unit}", *(f"{v}{unit}" for v in values[1:-1]), f"≥ {values[-1]}{unit}"]
    bounds = [*(float(v) for v in values[:-1]), _top(layer, hi)]
    return list(zip(bounds, labels, colours, strict=True))


def nice_edges(lo: float, hi: float, classes: int, smallest_step: float = 0.0) -> list[float]:
    """Round class bounds covering [lo, hi] in about ``classes`` steps of 1, 2, 2.5 or 5 × 10^k."""
    span = max(hi - lo, smallest_step, 1e-12)
    raw = span / classes
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    step = max(step, smallest_step)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    if last <= first + 1:
        last = first + 2  # two classes at least, so the legend says where the values lie
    return [round(k * step, 10) for k in range(first, last + 1)]


def _date_items(layer: Layer, lo: float, hi: float) -> list[Item]:
    """One class per month (or a few months) between the dates of lo and hi, labelled as months."""
    first, last = _as_date(layer, lo), _as_date(layer, hi)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    per_class = math.ceil(months / MAX_DATE_CLASSES)
    starts = [_add_months(first.replace(day=1), k) for k in range(0, months, per_class)]
    colours = _ramp_colours(len(starts))
    items = []
    for i, start in enumerate(starts):
        end = _add_months(start, per_class) - timedelta(days=1)
        name = _month_label(layer, start, end)
        if len(starts) > 1 and i == 0:
            name = f"≤ {name}"
        elif len(starts) > 1 and i == len(starts) - 1:
            name = f"≥ {name}"
        upper = _top(layer, hi) if i == len(starts) - 1 else float(_as_value(layer, end))
        items.append((upper, name, colours[i]))
    return items


def _as_date(layer: Layer, value: float) -> date:
    if layer.unit == YYDOY:
        return decode_yydoy(value)
    return date(DOY_YEAR, 1, 1) + timedelta(days=min(max(round(value), 1), 365) - 1)


def _as_value(layer: Layer, day: date) -> int:
    if layer.unit == YYDOY:
        return yydoy(day)
    return day.timetuple().tm_yday


def _month_label(layer: Layer, start: date, end: date) -> str:
    pattern = "%b %Y" if layer.unit == YYDOY else "%b"
    if (start.year, start.month) == (end.year, end.month):
        return start.strftime(pattern)
    return f"{start.strftime(pattern)} – {end.strftime(pattern)}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _top(layer: Layer, hi: float) -> float:
    """The upper bound of the last class: just below the first flag above the values, or the highest
    value the encoding allows."""
    limit = layer.physical(layer.stored_limits()[1])
    above = [layer.physical(code) for code in layer.flags if layer.physical(code) > hi]
    return min(above) - layer.scale if above else limit


def _flag_items(layer: Layer) -> list[Item]:
    greys = layer.flag_colours()
    return [
        (layer.physical(code), f"{code}: {meaning}", greys[code])
        for code, meaning in sorted(layer.flags.items())
    ]


def _ramp_colours(n: int) -> list[str]:
    cmap = colormaps[RAMP]
    return [_hex(cmap(i / max(n - 1, 1))) for i in range(n)]


def _hex(rgba: tuple[float, float, float, float]) -> str:
    return "#" + "".join(f"{round(255 * c):02x}" for c in rgba[:3])
