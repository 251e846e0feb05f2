"""A self-contained HTML report of an output catalog, with quick-look images.

Quick-looks are read from the COGs' overviews (a decimated read, so a 100 km
tile costs as little as a small one), coloured from the product registry
(class colours for categorical layers, a stretched colour map otherwise, an RGB
for reflectance composites) and embedded in the page as PNG data, so the page
works offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import rasterio

from ..products.registry import Layer, layer
from .seasons_report import seasons_sections
from .soil_report import cv_report_sections

QUICKLOOK_PX = 512
CLASS_COLOURS = ("#000000", "#c8864b", "#2e8b3e", "#5b6c8f", "#4a90d9", "#d94a4a", "#a0a0a0", "#f0e442")
RGB_BANDS = ("B04", "B03", "B02")


@dataclass(frozen=True)
class Figure:
    title: str
    caption: str
    png: bytes


def write_report(
    out_dir: Path,
    path: Path | None = None,
    title: str = "baresoil report",
    extra_sections: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write ``report.html`` for the catalog in ``out_dir``; returns its path."""
    path = path or out_dir / "report.html"
    sections = []
    for item in _catalog_items(out_dir):
        sections.append((_item_heading(item), _item_html(item, out_dir / item["id"], path.parent)))
    sections += seasons_sections(out_dir)  # pixel time series of the crop seasons, when present
    sections += cv_report_sections(out_dir)  # soil maps' cross-validation, when present
    sections += list(extra_sections)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(_page(title, sections))
    partial.replace(path)
    return path


def _item_html(item: Mapping, folder: Path, page_dir: Path) -> str:
    """Quick-looks of the item's main layers, links to the others, and its provenance."""
    shown = {
        code: asset for code, asset in item["assets"].items() if _raster_layer(code) and layer(code).quicklook
    }
    figures = [_quicklook(code, folder / asset["href"]) for code, asset in shown.items()]
    links = [
        f'<a href="{html.escape(os.path.relpath(folder / asset["href"], page_dir))}">{html.escape(code)}</a>'
        for code, asset in item["assets"].items()
        if code not in shown
    ]
    listing = f"<p>Other layers: {', '.join(links)}</p>" if links else ""
    return _figures_html(figures) + listing + _properties_html(item["properties"])


def _raster_layer(code: str) -> bool:
    """Whether an asset key is a registered raster layer (tables, e.g. parcel markers, are only linked)."""
    try:
        layer(code)
    except KeyError:
        return False
    return True


def _catalog_items(out_dir: Path) -> list[dict]:
    catalog_path = out_dir / "catalog.json"
    if not catalog_path.exists():
        return []
    catalog = json.loads(catalog_path.read_text())
    hrefs = [ln["href"] for ln in catalog["links"] if ln["rel"] == "item"]
    return [json.loads((out_dir / href).read_text()) for href in hrefs]


def _quicklook(code: str, path: Path) -> Figure:
    spec = layer(code)
    with rasterio.open(path) as src:
        factor = max(1, int(np.ceil(max(src.width, src.height) / QUICKLOOK_PX)))
        shape = (src.count, max(1, src.height // factor), max(1, src.width // factor))
        stored = src.read(out_shape=shape)
    values = spec.decode(stored)
    if spec.categorical:
        image, caption = _classes_image(stored[0], spec)
    elif spec.bands and all(b in spec.bands for b in RGB_BANDS):
        image, caption = _rgb_image(values, spec), f"RGB of {', '.join(RGB_BANDS)}, 2-98 % stretch"
    else:
        image, caption = _stretched_image(values[0], spec)
    return Figure(f"{spec.code}: {spec.title}", caption, _png(image))


def _classes_image(stored: np.ndarray, spec: Layer) -> tuple[np.ndarray, str]:
    rgba = np.zeros((*stored.shape, 4))
    legend = []
    for i, (value, name) in enumerate(spec.classes.items()):
        colour = matplotlib.colors.to_rgba(CLASS_COLOURS[(i + 1) % len(CLASS_COLOURS)])
        rgba[stored == value] = colour
        legend.append(
            f'<span class="swatch" style="background:{matplotlib.colors.to_hex(colour)}"></span>'
            f"{value} {html.escape(name)}"
        )
    return rgba, " ".join(legend)


def _stretched_image(values: np.ndarray, spec: Layer) -> tuple[np.ndarray, str]:
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    high = high if high > low else low + 1
    rgba = plt.get_cmap("viridis")(np.clip((values - low) / (high - low), 0, 1))
    rgba[~np.isfinite(values)] = (0, 0, 0, 0)
    unit = f" {spec.unit}" if spec.unit else ""
    return rgba, f"viridis, {low:.3g} to {high:.3g}{unit}"


def _rgb_image(values: np.ndarray, spec: Layer) -> np.ndarray:
    rgb = np.stack([values[spec.bands.index(b)] for b in RGB_BANDS], axis=-1)
    finite = rgb[np.isfinite(rgb)]
    low, high = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    image = np.clip((rgb - low) / max(high - low, 1e-6), 0, 1)
    alpha = np.all(np.isfinite(rgb), axis=-1).astype(float)
    return np.dstack([np.nan_to_num(image), alpha])


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    plt.imsave(buffer, image, format="png")
    return buffer.getvalue()


def _item_heading(item: Mapping) -> str:
    props = item["properties"]
    period = f"{props['start_datetime'][:10]} to {props['end_datetime'][:10]}"
    return f"{item['id']} ({period})"


def _figures_html(figures: Sequence[Figure]) -> str:
    cards = []
    for fig in figures:
        data = base64.b64encode(fig.png).decode()
        cards.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(fig.title)}">'
            f"<figcaption><b>{html.escape(fig.title)}</b><br>{fig.caption}</figcaption></figure>"
        )
    return '<div class="grid">' + "".join(cards) + "</div>"


def _properties_html(props: Mapping) -> str:
    shown = {k: v for k, v in props.items() if k.startswith("baresoil:") or k in ("eea:tile", "gsd")}
    cells = {k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in shown.items()}
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in cells.items())
    return f"<details><summary>provenance</summary><table>{rows}</table></details>"


def _page(title: str, sections: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<section><h2>{html.escape(h)}</h2>{content}</section>" for h, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; width: 300px; }}
figure img {{ width: 300px; image-rendering: pixelated; border: 1px solid #ccc; background: #eee; }}
figcaption {{ font-size: 0.85em; }}
.swatch {{ display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.2em 0 0.6em;
          vertical-align: middle; }}
table {{ border-collapse: collapse; font-size: 0.8em; }} th, td {{ text-align: left; padding: 0.2em 0.6em; }}
</style></head>
<body><h1>{html.escape(title)}</h1>{body}</body></html>
"""
