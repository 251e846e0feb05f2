"""Map tiles (XYZ, web Mercator PNG) and legends of a result's COGs, for the viewer.

rio-tiler reads the tile from the COG (its overviews at low zoom) with the file's nodata as the mask.
Colours are the product registry's, as in the COGs' own colour tables, the QGIS styles and the report:
a categorical layer's class colours, a multi-band reflectance layer as true colour (B04, B03, B02),
other layers on the registry's ramp over their 2–98 % range.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from rio_tiler.colormap import cmap
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.utils import render

from ..registry import RAMP, Layer, layer

TILE = 256
TRUE_COLOUR = ("B04", "B03", "B02")
REFLECTANCE_MAX = 0.3
"""Reflectance shown white in true colour."""


def _rgba(colour: str) -> tuple[int, int, int, int]:
    colour = colour.lstrip("#")
    return (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16), 255)


@cache
def empty_tile() -> bytes:
    return bytes(render(np.zeros((1, TILE, TILE), dtype="uint8"), mask=np.zeros((TILE, TILE), dtype="uint8")))


def _true_colour(spec: Layer) -> tuple[int, ...] | None:
    if not all(band in spec.bands for band in TRUE_COLOUR):
        return None
    return tuple(spec.bands.index(band) + 1 for band in TRUE_COLOUR)


@cache
def _stretch(path: Path, mtime: float) -> tuple[float, float]:
    """The 2 % and 98 % points of a layer's stored values (from an overview)."""
    with Reader(str(path)) as src:
        data = src.preview(indexes=1, max_size=512)
    values = data.array.compressed() if np.ma.isMaskedArray(data.array) else data.array.ravel()
    if values.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(values, [2, 98])
    return float(low), float(high) if high > low else float(low) + 1.0


def render_tile(path: Path, code: str, z: int, x: int, y: int) -> bytes:
    spec = layer(code)
    indexes = _true_colour(spec) or (1,)
    with Reader(str(path)) as src:
        try:
            image = src.tile(x, y, z, tilesize=TILE, indexes=indexes)
        except TileOutsideBounds:
            return empty_tile()
    if spec.categorical:
        colours = {value: _rgba(c) for value, c in spec.class_colours().items()}
        colours.update({int(v): _rgba(c) for v, c in spec.flag_colours().items()})
        return bytes(image.render(img_format="PNG", colormap=colours))
    if len(indexes) == 3:
        top = (REFLECTANCE_MAX - spec.offset) / spec.scale
        image.rescale(in_range=((-spec.offset / spec.scale, top),) * 3)
        return bytes(image.render(img_format="PNG"))
    low, high = _stretch(path, path.stat().st_mtime)
    image.rescale(in_range=((low, high),))
    return bytes(image.render(img_format="PNG", colormap=cmap.get(RAMP)))


def legend(path: Path, code: str) -> dict[str, Any]:
    """What the tiles' colours mean, in physical values."""
    spec = layer(code)
    entry: dict[str, Any] = {"code": code, "title": spec.title, "unit": spec.unit}
    if spec.categorical:
        colours = spec.class_colours()
        entry["classes"] = [
            {"value": v, "label": label, "colour": colours[v]} for v, label in spec.classes.items()
        ]
        return entry
    if _true_colour(spec):
        entry.update(kind="true colour", bands=list(TRUE_COLOUR), min=0.0, max=REFLECTANCE_MAX)
        return entry
    low, high = _stretch(path, path.stat().st_mtime)
    stops = cmap.get(RAMP)
    ramp = ["#{:02x}{:02x}{:02x}".format(*stops[i][:3]) for i in (0, 64, 128, 192, 255)]
    entry.update(kind="ramp", min=spec.physical(low), max=spec.physical(high), colours=ramp)
    return entry
