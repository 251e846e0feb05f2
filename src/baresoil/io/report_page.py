"""The page around the report's content: style, the map with its layer switcher, and the script.

Everything is inline (no CDN, no external library), so the page works offline
and can be mailed as one file.  The map is a frame with the extent of all
outputs; every quick-look is an image placed in it by its bounds, one shown at
a time, chosen in the switcher (or by a "show on map" button anywhere in the
page); the parcels, when present, lie over it as an SVG that can be switched
off.  The script is a few lines of plain JavaScript.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

from .report_images import Quicklook

Frame = tuple[float, float, float, float]
"""left, bottom, right, top (EPSG:3035)."""


@dataclass(frozen=True)
class MapLayer:
    """A quick-look on the map, with where it belongs in the switcher."""

    key: str
    """Unique id in the page: ``<item id>/<code>``."""
    group: str
    """Switcher heading: the family and period."""
    look: Quicklook


@dataclass(frozen=True)
class Overlay:
    svg: str
    legend: str
    title: str


def map_html(layers: Sequence[MapLayer], frame: Frame, overlay: Overlay | None, default: str) -> str:
    """The map section's body: switcher, frame and legend."""
    left, bottom, right, top = frame
    width, height = right - left, top - bottom
    images, legends, switcher = [], [], []
    group = None
    for lay in layers:
        if lay.group != group:
            if group is not None:
                switcher.append("</fieldset>")
            switcher.append(f"<fieldset><legend>{html.escape(lay.group)}</legend>")
            group = lay.group
        checked = " checked" if lay.key == default else ""
        key = html.escape(lay.key)
        switcher.append(
            f'<label><input type="radio" name="layer" value="{key}"{checked}> '
            f"{html.escape(lay.look.title)}</label>"
        )
        x0, y0, x1, y1 = lay.look.bounds
        style = (
            f"left:{100 * (x0 - left) / width:.4f}%;top:{100 * (top - y1) / height:.4f}%;"
            f"width:{100 * (x1 - x0) / width:.4f}%;height:{100 * (y1 - y0) / height:.4f}%"
        )
        hidden = "" if lay.key == default else " hidden"
        data = base64.b64encode(lay.look.png).decode()
        images.append(
            f'<img class="maplayer" data-layer="{key}" style="{style}"{hidden} '
            f'alt="{html.escape(lay.look.title)}" src="data:image/png;base64,{data}">'
        )
        legends.append(
            f'<div class="legend" data-layer="{key}"{hidden}><b>{html.escape(lay.group)} · '
            f"{html.escape(lay.look.title)}</b><br>{lay.look.legend}</div>"
        )
    if group is not None:
        switcher.append("</fieldset>")
    overlay_html = overlay_toggle = ""
    if overlay is not None:
        overlay_html = overlay.svg.replace("<svg ", "<svg hidden ", 1)
        overlay_toggle = (
            f'<fieldset><legend>Overlay</legend><label><input type="checkbox" id="overlay-toggle"> '
            f"{html.escape(overlay.title)}</label></fieldset>"
        )
        legends.append(f'<div class="legend overlay-legend" hidden>{overlay.legend}</div>')
    scale = f"{width / 1000:.3g} km × {height / 1000:.3g} km, EPSG:3035"
    aspect = width / height
    return (
        f'<div class="mapview"><form class="switcher">{overlay_toggle}{"".join(switcher)}</form>'
        f'<div class="mapcol" style="max-width:min(800px, calc(78vh * {aspect:.4f}))">{"".join(legends)}'
        f'<div class="frame" style="aspect-ratio:{width:.1f}/{height:.1f}">{"".join(images)}{overlay_html}'
        f'</div><p class="scale">{scale}; north up</p></div></div>'
    )


def overlay_button(text: str) -> str:
    return f'<button type="button" class="show" data-overlay="on">{html.escape(text)}</button>'


def show_button(key: str, text: str) -> str:
    return f'<button type="button" class="show" data-show="{html.escape(key)}">{html.escape(text)}</button>'


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 2em 2em; color: #222; max-width: 1400px; }
header { border-bottom: 1px solid #ccc; margin-bottom: 1em; }
nav a { margin-right: 1em; }
h2 { border-bottom: 1px solid #ddd; padding-top: 0.6em; }
.mapview { display: flex; gap: 1em; align-items: flex-start; }
.switcher { width: 320px; max-height: 80vh; overflow-y: auto; font-size: 0.85em; flex: none; }
.switcher fieldset { margin: 0 0 0.5em; padding: 0.3em 0.6em; border: 1px solid #ddd; }
.switcher label { display: block; cursor: pointer; }
.mapcol { flex: 1; min-width: 300px; }
.legend { min-height: 2.6em; }
.frame { position: relative; width: 100%; background: repeating-conic-gradient(#eee 0 25%, #fafafa 0 50%)
         50% / 20px 20px; border: 1px solid #999; overflow: hidden; }
.frame img.maplayer { position: absolute; image-rendering: pixelated; }
.frame svg.overlay[hidden] { display: none; }
.frame svg.overlay { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.frame svg.overlay path:hover { stroke: #000; stroke-width: 2; }
.scale { font-size: 0.8em; color: #555; margin: 0.2em 0; }
.legend { font-size: 0.85em; margin: 0.4em 0; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 0; vertical-align: middle;
          border: 1px solid #999; }
.swatch.nodata { background: repeating-conic-gradient(#ccc 0 25%, #fff 0 50%) 50% / 6px 6px; }
.ramp { display: inline-block; width: 10em; height: 0.8em; vertical-align: middle; margin-right: 0.4em;
        background: linear-gradient(90deg, #440154, #3b528b, #21918c, #5ec962, #fde725); }
.ramp.blues { background: linear-gradient(90deg, #d0e1f2, #08306b); }
.grid { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.85em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { text-align: left; padding: 0.2em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }
button.show { font-size: 0.8em; margin: 0.1em; cursor: pointer; }
details { margin: 0.5em 0; }
pre { font-size: 0.8em; background: #f6f6f6; padding: 0.5em; overflow-x: auto; }
.note { color: #555; font-size: 0.9em; }
"""

SCRIPT = """
(function () {
  function show(key) {
    document.querySelectorAll('[data-layer]').forEach(function (el) {
      el.hidden = el.getAttribute('data-layer') !== key;
    });
    document.querySelectorAll('input[name=layer]').forEach(function (input) {
      input.checked = input.value === key;
    });
  }
  document.querySelectorAll('input[name=layer]').forEach(function (input) {
    input.addEventListener('change', function () { if (input.checked) { show(input.value); } });
  });
  function overlay(on) {
    var toggle = document.getElementById('overlay-toggle');
    if (toggle) { toggle.checked = on; }
    // an SVG element has no `hidden` property: set the attribute itself
    document.querySelectorAll('svg.overlay, .overlay-legend').forEach(function (el) {
      el.toggleAttribute('hidden', !on);
    });
  }
  document.querySelectorAll('button[data-overlay]').forEach(function (button) {
    button.addEventListener('click', function () {
      overlay(true);
      document.getElementById('map').scrollIntoView();
    });
  });
  document.querySelectorAll('button[data-show]').forEach(function (button) {
    button.addEventListener('click', function () {
      show(button.getAttribute('data-show'));
      document.getElementById('map').scrollIntoView();
    });
  });
  var toggle = document.getElementById('overlay-toggle');
  if (toggle) {
    toggle.addEventListener('change', function () { overlay(toggle.checked); });
  }
  window.baresoilReport = { show: show, overlay: overlay };
})();
"""


def page(
    title: str, header: str, nav: Sequence[tuple[str, str]], sections: Sequence[tuple[str, str, str]]
) -> str:
    """The whole document; ``sections`` are (anchor, heading, HTML body)."""
    links = "".join(f'<a href="#{html.escape(a)}">{html.escape(h)}</a>' for a, h in nav)
    body = "".join(
        f'<section id="{html.escape(a)}"><h2>{html.escape(h)}</h2>{content}</section>'
        for a, h, content in sections
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body><header><h1>{html.escape(title)}</h1>{header}<nav>{links}</nav></header>\n{body}\n"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
