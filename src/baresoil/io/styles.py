"""QGIS styles (.qml) generated from the product registry.

A ``.qml`` file next to a GeoTIFF with the same base name is QGIS's default style
for it, so every layer opens with its legend: classes for categorical layers, a
colour ramp over the valid range for the others, and one labelled entry per flag
(HRL flags such as 65529 'bare period outside the year').  The nodata value is
transparent.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import rasterio
from matplotlib import colormaps

from ..products.registry import Layer, layer
from .atomic import atomic_path

_RAMP_STEPS = 10
_FLAG_GREYS = ("#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525")


def qml(layer: Layer, value_range: tuple[float, float]) -> str:
    """The QML document of ``layer``; ``value_range`` (stored values) spans the colour ramp."""
    if layer.categorical:
        items = _class_items(layer)
        shader = "EXACT"
    else:
        items = _ramp_items(layer, value_range) + _flag_items(layer)
        shader = "DISCRETE"
    lo, hi = value_range
    entries = "\n".join(
        f'            <item alpha="255" value="{value:g}" label={quoteattr(label)} color="{color}"/>'
        for value, label, color in sorted(items)
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28" styleCategories="Symbology">
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1"
                    classificationMin="{lo:g}" classificationMax="{hi:g}" nodataColor="">
      <rasterTransparency/>
      <rastershader>
        <colorrampshader colorRampType="{shader}" classificationMode="1" clip="0">
{entries}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
  </pipe>
  <!-- {layer.code}: {layer.title}; nodata {layer.nodata:g} is transparent -->
</qgis>
"""


def write_style(layer: Layer, tif: Path, value_range: tuple[float, float]) -> Path:
    """Write ``<tif stem>.qml`` beside the GeoTIFF (atomically); returns its path."""
    target = tif.with_suffix(".qml")
    with atomic_path(target) as partial:
        partial.write_text(qml(layer, value_range))
    return target


def write_layer_style(code: str, tif: Path) -> Path | None:
    """The style of a written single-band layer, its colour ramp spanning the 2-98 % range of its valid
    values; None for a multi-band layer (a reflectance composite), which QGIS shows in colour itself."""
    spec = layer(code)
    if spec.count > 1:
        return None
    with rasterio.open(tif) as src:
        factor = max(1, max(src.width, src.height) // 512)  # an overview is enough for a range
        stored = src.read(1, out_shape=(max(1, src.height // factor), max(1, src.width // factor)))
    valid = stored[(stored != spec.nodata) & ~np.isin(stored, list(spec.flags))]
    if valid.size:
        lo, hi = (float(v) for v in np.percentile(valid, [2, 98]))
    else:
        lo, hi = 0.0, 1.0
    return write_style(spec, tif, (lo, hi if hi > lo else lo + 1))


def _class_items(layer: Layer) -> list[tuple[float, str, str]]:
    cmap = colormaps["tab10"]
    return [
        (float(value), f"{value} {label}", _hex(cmap(i % 10)))
        for i, (value, label) in enumerate(layer.classes.items())
    ]


def _ramp_items(layer: Layer, value_range: tuple[float, float]) -> list[tuple[float, str, str]]:
    lo, hi = value_range
    flags = set(layer.flags)
    cmap = colormaps["viridis"]
    items = []
    for i in range(1, _RAMP_STEPS + 1):
        stored = lo + (hi - lo) * i / _RAMP_STEPS
        if stored in flags:
            continue
        physical = stored * layer.scale + layer.offset
        unit = f" {layer.unit}" if layer.unit else ""
        items.append((stored, f"≤ {physical:g}{unit}", _hex(cmap((i - 1) / (_RAMP_STEPS - 1)))))
    return items


def _flag_items(layer: Layer) -> list[tuple[float, str, str]]:
    return [
        (float(code), f"{code}: {meaning}", _FLAG_GREYS[i % len(_FLAG_GREYS)])
        for i, (code, meaning) in enumerate(sorted(layer.flags.items()))
    ]


def _hex(rgba: tuple[float, float, float, float]) -> str:
    return "#" + "".join(f"{round(255 * c):02x}" for c in rgba[:3])
