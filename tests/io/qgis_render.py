"""Render GeoTIFFs with QGIS as a user opening them would (the ``.qml`` beside each one applies itself).

Run by the system Python that has QGIS (Debian ``python3-qgis``), not by the project's venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/io/qgis_render.py a.tif b.tif ...

Prints JSON: per file, the renderer QGIS loaded, its legend (label, colour), the colour of every pixel
(rows of ``#rrggbbaa``) and the raster attribute table GDAL reads (rows of values).
"""

import json
import sys

from osgeo import gdal
from qgis.core import QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings, QgsRasterLayer
from qgis.PyQt.QtCore import QSize, Qt
from qgis.PyQt.QtGui import QColor


def render(path: str) -> dict:
    layer = QgsRasterLayer(path, "layer")
    if not layer.isValid():
        raise SystemExit(f"QGIS cannot open {path}")
    width, height = layer.width(), layer.height()
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(width, height))
    settings.setBackgroundColor(QColor(Qt.transparent))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    pixels = [[image.pixelColor(x, y).name(QColor.HexArgb) for x in range(width)] for y in range(height)]
    legend = [(label, colour.name()) for label, colour in layer.renderer().legendSymbologyItems()]
    return {
        "renderer": layer.renderer().type(),
        "legend": legend,
        "pixels": [[f"#{p[3:]}{p[1:3]}" for p in row] for row in pixels],  # #aarrggbb -> #rrggbbaa
        "rat": attribute_table(path),
    }


def attribute_table(path: str) -> list[list[str]]:
    dataset = gdal.Open(path)  # kept referenced while its band is used (else GDAL frees it under us)
    table = dataset.GetRasterBand(1).GetDefaultRAT()
    if table is None:
        return []
    columns = range(table.GetColumnCount())
    return [[table.GetNameOfCol(c) for c in columns]] + [
        [table.GetValueAsString(r, c) for c in columns] for r in range(table.GetRowCount())
    ]


def main() -> None:
    app = QgsApplication([], False)
    app.initQgis()
    try:
        print(json.dumps({path: render(path) for path in sys.argv[1:]}))
    finally:
        app.exitQgis()


if __name__ == "__main__":
    main()
