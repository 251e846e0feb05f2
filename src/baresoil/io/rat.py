"""Raster attribute tables of categorical layers, as GDAL's ``.aux.xml`` sidecar of the COG.

A categorical COG carries its colours in its own colour table; its class names go into a
GDAL raster attribute table (value, class name, red, green, blue, alpha) which GDAL, and
so QGIS, ArcGIS and rasterio-on-GDAL tools, read from ``<file>.tif.aux.xml`` beside it.

Why a sidecar rather than inside the TIFF: GDAL reads and writes a RAT inside a GeoTIFF
(in its GDAL_METADATA tag) only from GDAL 3.12 on (OSGeo/gdal#13201, October 2025); the
GDAL of the rasterio wheels (3.10) and of the current QGIS LTR packages does not, and the
``.aux.xml`` PAM file is what every GDAL version reads.  The COG stays complete without
it: colours in the colour table, class names in its ``CLASSES`` tag.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib.colors

from ..products.registry import Layer
from .atomic import atomic_path

# GDALRATFieldType and GDALRATFieldUsage (gdal.h)
GFT_INTEGER, GFT_STRING = 0, 2
GFU_NAME, GFU_MIN_MAX, GFU_RED, GFU_GREEN, GFU_BLUE, GFU_ALPHA = 2, 5, 6, 7, 8, 9
COLUMNS = (
    ("Value", GFT_INTEGER, GFU_MIN_MAX),
    ("Class", GFT_STRING, GFU_NAME),
    ("Red", GFT_INTEGER, GFU_RED),
    ("Green", GFT_INTEGER, GFU_GREEN),
    ("Blue", GFT_INTEGER, GFU_BLUE),
    ("Alpha", GFT_INTEGER, GFU_ALPHA),
)


def rgba(colour: str) -> tuple[int, int, int, int]:
    """``#rrggbb`` as the 0-255 red, green, blue and (opaque) alpha of GDAL colour entries."""
    red, green, blue = (round(255 * c) for c in matplotlib.colors.to_rgb(colour))
    return red, green, blue, 255


def sidecar_path(tif: Path) -> Path:
    return tif.with_name(tif.name + ".aux.xml")


def attribute_table_xml(layer: Layer) -> str:
    """The PAM document holding the layer's raster attribute table (band 1)."""
    fields = "\n".join(
        f'      <FieldDefn index="{i}"><Name>{name}</Name><Type>{kind}</Type>'
        f"<Usage>{usage}</Usage></FieldDefn>"
        for i, (name, kind, usage) in enumerate(COLUMNS)
    )
    colours = layer.class_colours()
    rows = []
    for i, (value, name) in enumerate(layer.classes.items()):
        cells = "".join(f"<F>{escape(str(v))}</F>" for v in (value, name, *rgba(colours[value])))
        rows.append(f'      <Row index="{i}">{cells}</Row>')
    body = "\n".join(rows)
    return f"""<PAMDataset>
  <PAMRasterBand band="1">
    <GDALRasterAttributeTable tableType="thematic">
{fields}
{body}
    </GDALRasterAttributeTable>
  </PAMRasterBand>
</PAMDataset>
"""


def write_attribute_table(layer: Layer, tif: Path) -> Path:
    """Write ``<tif>.aux.xml`` (atomically); returns its path."""
    target = sidecar_path(tif)
    with atomic_path(target) as partial:
        partial.write_text(attribute_table_xml(layer))
    return target
