"""The HTML report of an output folder: one self-contained page that works offline.

``write_report(OUT)`` reads the STAC catalog of outputs in ``OUT`` and writes
``OUT/report.html`` with, in this order:

* a **map** of every output over the area: quick-looks read from the COGs'
  overviews (:mod:`.report_images`), one at a time, chosen in a layer switcher,
  each with its legend, and the parcels as an overlay (:mod:`.report_page`);
* one section **per product family** present (observation cube, SoilSuite,
  crop seasons, parcels, soil maps): its items and layers, figures of the run
  (class shares, flags, medians on the quick-look grid), the pixel time series
  of the crop seasons (:mod:`.seasons_report`), the per-parcel time series with
  the detected bare-soil periods (:mod:`.report_parcels`) and the soil maps'
  cross-validation (:mod:`.soil_report`);
* the **provenance**: inputs, parameters that differ from the defaults, the
  version, and when each output was written.

Images are embedded as PNG data and the script is inline, so the page can be
mailed as one file.  The page is written under a temporary name and renamed.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import Config
from ..errors import OutputError
from ..registry import layer
from .atomic import atomic_path
from .report_images import RGB_BANDS, Quicklook, quicklook, rgb_quicklook
from .report_page import Frame, MapLayer, Overlay, map_html, overlay_button, page, show_button
from .report_parcels import ParcelTables, chosen_parcels, overlay_svg, parcel_tables, series_png, summary_rows
from .seasons_report import seasons_sections
from .soil_report import cv_report_sections
from .stac import FAMILIES, FAMILY_NOTES, output_item_paths

TITLE = "baresoil report"
"""The page's title unless one is given."""
DEFAULT_LAYER = ("soilsuite", "MASK")
MAP_WIDTH = 1000
"""SVG user units across the map frame."""


@dataclass(frozen=True)
class OutputItem:
    """One item of the output catalog, as the report sees it."""

    data: dict[str, Any]
    folder: Path

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.data.get("properties", {}))

    @property
    def family(self) -> str:
        return str(self.properties.get("baresoil:family") or self.id.split("_", 1)[0])

    @property
    def period(self) -> str:
        props = self.properties
        start, end = str(props.get("start_datetime", ""))[:10], str(props.get("end_datetime", ""))[:10]
        return f"{start} to {end}"

    def raster_codes(self) -> list[str]:
        return [code for code in self.data.get("assets", {}) if _registered(code)]


def write_report(
    out_dir: Path,
    path: Path | None = None,
    title: str = TITLE,
    extra_sections: Sequence[tuple[str, str]] = (),
    timings: Mapping[str, float] | None = None,
) -> Path:
    """Write the report of the output catalog in ``out_dir`` (default ``out_dir/report.html``).

    ``timings`` (step name -> seconds), when the caller measured them, join the provenance.
    """
    out_dir = Path(out_dir)
    path = Path(path) if path else out_dir / "report.html"
    items = catalog_items(out_dir)
    if not items and not (out_dir / "cv_report.json").exists():
        raise OutputError(f"{out_dir}: no output catalog (catalog.json) with items to report on")
    looks = {item.id: _quicklooks(item) for item in items}
    parcels = [parcel_tables(item.data, item.folder) for item in items if item.family == "parcels"]
    frame = _frame(looks, parcels)
    sections = []
    if frame is not None:
        sections.append(("map", "Map", _map_section(items, looks, parcels, frame)))
    for family, heading in FAMILIES.items():
        mine = [item for item in items if item.family == family]
        body = _family_section(family, mine, looks, parcels, out_dir, path.parent)
        if body:
            sections.append((f"family-{family}", heading, body))
    others = [item for item in items if item.family not in FAMILIES]
    if others:
        sections.append(("family-other", "Other outputs", _items_table(others, looks, path.parent)))
    sections += [(f"extra-{i}", heading, body) for i, (heading, body) in enumerate(extra_sections)]
    sections.append(("provenance", "Provenance", _provenance(items, timings)))
    nav = [(anchor, heading) for anchor, heading, _ in sections]
    header = (
        f'<p class="note">Outputs in {html.escape(str(out_dir))}; written '
        f"{datetime.now(UTC).isoformat(timespec='seconds').replace('+00:00', 'Z')} by baresoil "
        f"{html.escape(__version__)}. Families: "
        f"{html.escape(', '.join(FAMILIES[f] for f in FAMILIES if any(i.family == f for i in items)))}.</p>"
    )
    with atomic_path(path) as partial:
        partial.write_text(page(title, header, nav, sections))
    return path


def catalog_items(out_dir: Path) -> list[OutputItem]:
    """The items of ``out_dir``'s catalog of outputs (none when there is no catalog)."""
    return [OutputItem(json.loads(path.read_text()), path.parent) for path in output_item_paths(out_dir)]


def _registered(code: str) -> bool:
    try:
        layer(code)
    except KeyError:
        return False
    return True


def _quicklooks(item: OutputItem) -> dict[str, Quicklook]:
    assets = item.data.get("assets", {})
    looks = {
        code: quicklook(code, item.folder / assets[code]["href"])
        for code in item.raster_codes()
        if layer(code).quicklook
    }
    if all(band in item.raster_codes() and not layer(band).bands for band in RGB_BANDS):
        # single-band reflectance assets (the reflectance composites'): one true-colour image of them
        looks = {"RGB": rgb_quicklook({b: item.folder / assets[b]["href"] for b in RGB_BANDS}), **looks}
    return looks


def _frame(looks: Mapping[str, Mapping[str, Quicklook]], parcels: Sequence[ParcelTables]) -> Frame | None:
    boxes = [look.bounds for per_item in looks.values() for look in per_item.values()]
    boxes += [tuple(t.parcels.total_bounds) for t in parcels if t.parcels is not None and len(t.parcels)]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _key(item: OutputItem, code: str) -> str:
    return f"{item.id}/{code}"


def _group(item: OutputItem) -> str:
    return f"{FAMILIES.get(item.family, item.family)}, {item.period}"


def _map_section(
    items: Sequence[OutputItem],
    looks: Mapping[str, Mapping[str, Quicklook]],
    parcels: Sequence[ParcelTables],
    frame: Frame,
) -> str:
    ordered = sorted(
        items, key=lambda it: (list(FAMILIES).index(it.family) if it.family in FAMILIES else 99, it.id)
    )
    layers = [
        MapLayer(_key(item, code), _group(item), look)
        for item in ordered
        for code, look in looks[item.id].items()
    ]
    family, code = DEFAULT_LAYER
    default = next(
        (lay.key for lay in layers if lay.key.endswith(f"/{code}") and lay.key.startswith(family)),
        layers[0].key if layers else "",
    )
    overlay = None
    with_parcels = [t for t in parcels if t.parcels is not None and len(t.parcels)]
    if with_parcels:
        svg, legend = overlay_svg(with_parcels[0], frame, MAP_WIDTH)
        overlay = Overlay(svg, legend, f"parcels of {with_parcels[0].item_id}")
    intro = (
        '<p class="note">Choose a layer on the left; a "show on map" button in the sections below does '
        "the same. Quick-looks are read from the COG overviews; hover a parcel for its id.</p>"
    )
    return intro + map_html(layers, frame, overlay, default)


# --- per family ----------------------------------------------------------------------------


def _family_section(
    family: str,
    items: Sequence[OutputItem],
    looks: Mapping[str, Mapping[str, Quicklook]],
    parcels: Sequence[ParcelTables],
    out_dir: Path,
    page_dir: Path,
) -> str:
    parts = []
    if items:
        parts.append(f'<p class="note">{html.escape(FAMILY_NOTES.get(family, ""))}</p>')
        parts.append(_items_table(items, looks, page_dir))
        parts.append(_run_figures(items, looks))
    if family == "seasons":
        parts += [f"<h3>{html.escape(h)}</h3>{body}" for h, body in seasons_sections(out_dir)]
    if family == "parcels":
        parts += [_parcels_html(tables) for tables in parcels]
    if family == "soil":
        parts += [f"<h3>{html.escape(h)}</h3>{body}" for h, body in cv_report_sections(out_dir)]
    return "".join(parts)


def _items_table(
    items: Sequence[OutputItem], looks: Mapping[str, Mapping[str, Quicklook]], page_dir: Path
) -> str:
    rows = []
    for item in items:
        shown = looks.get(item.id, {})
        buttons = " ".join(show_button(_key(item, code), look.title) for code, look in shown.items())
        links = []
        for key, asset in item.data.get("assets", {}).items():
            if key in shown:
                continue
            href = os.path.relpath(item.folder / asset["href"], page_dir)
            links.append(f'<a href="{html.escape(href)}">{html.escape(key)}</a>')
        other = f"<br>Files: {', '.join(links)}" if links else ""
        rows.append(
            f"<tr><td>{html.escape(item.id)}</td><td>{html.escape(item.period)}</td>"
            f"<td>{buttons}{other}</td></tr>"
        )
    return (
        "<table><tr><th>item</th><th>period</th><th>layers (show on map) and other files</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _run_figures(items: Sequence[OutputItem], looks: Mapping[str, Mapping[str, Quicklook]]) -> str:
    """Figures of the run per layer, from the quick-look grid: class and flag shares, medians."""
    rows = []
    for item in items:
        for look in looks.get(item.id, {}).values():
            figures = "; ".join(f"{html.escape(k)} {html.escape(v)}" for k, v in look.stats.items())
            rows.append(
                f"<tr><td>{html.escape(item.id)}</td><td>{html.escape(look.title)}</td>"
                f"<td>{figures}</td></tr>"
            )
    if not rows:
        return ""
    return (
        "<details><summary>Figures of this run (on the quick-look grid)</summary><table><tr><th>item</th>"
        "<th>layer</th><th>figures</th></tr>" + "".join(rows) + "</table></details>"
    )


def _parcels_html(tables: ParcelTables) -> str:
    import base64

    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary_rows(tables)
    )
    button = (
        overlay_button("show the parcel map") if tables.parcels is not None and len(tables.parcels) else ""
    )
    parts = [f"<h3>{html.escape(tables.item_id)}</h3><table>{rows}</table>{button}"]
    if tables.markers is None:
        return "".join(parts)
    chosen = chosen_parcels(tables)
    if chosen:
        data = base64.b64encode(series_png(tables, chosen)).decode()
        caption = (
            "Mean NDVI of the parcel's clear pixels with its p25–p75 band, Sentinel-1 VH − VV (grey, "
            "right axis) where given; squares: observations meeting Sen4CAP's bare-soil calibration rule "
            "(NDVI < 0.15 and NDTI ≤ 0.10); shaded: detected bare-soil periods with their confidence "
            "class, where the bare-soil product ran."
        )
        parts.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="parcel time series">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return "".join(parts)


# --- provenance ----------------------------------------------------------------------------


def _provenance(items: Sequence[OutputItem], timings: Mapping[str, float] | None) -> str:
    defaults = json.loads(json.dumps(Config().to_dict()))
    rows = []
    for item in items:
        props = item.properties
        inputs = {
            k.removeprefix("baresoil:"): v
            for k, v in props.items()
            if k.startswith("baresoil:") and k not in ("baresoil:config", "baresoil:version")
        }
        config = props.get("baresoil:config")
        changed = _changed(config, defaults) if isinstance(config, dict) else {}
        settings = ", ".join(f"{k} = {json.dumps(v)}" for k, v in changed.items()) or "defaults"
        full = (
            f"<details><summary>configuration</summary><pre>{html.escape(json.dumps(config, indent=1))}"
            "</pre></details>"
            if config
            else ""
        )
        inputs_html = "<br>".join(f"{html.escape(k)}: {html.escape(_short(v))}" for k, v in inputs.items())
        rows.append(
            f"<tr><td>{html.escape(item.id)}</td><td>{inputs_html}</td><td>{html.escape(settings)}{full}"
            f"</td><td>{html.escape(str(props.get('baresoil:version', '')))}</td>"
            f"<td>{html.escape(str(props.get('created', '')))}</td></tr>"
        )
    table = (
        "<table><tr><th>item</th><th>inputs</th><th>parameters (differing from the defaults)</th>"
        "<th>version</th><th>written (UTC)</th></tr>" + "".join(rows) + "</table>"
    )
    return table + _timeline(items) + _timings(timings)


def _changed(config: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for section, values in config.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if defaults.get(section, {}).get(key) != value:
                out[f"{section}.{key}"] = value
    return out


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 200 else text[:200] + " …"


def _timeline(items: Sequence[OutputItem]) -> str:
    """When each output was written, and the time since the one before: how long each step took."""
    stamped = []
    for item in items:
        created = item.properties.get("created")
        if created:
            stamped.append((datetime.fromisoformat(str(created).replace("Z", "+00:00")), item.id))
    if len(stamped) < 2:
        return ""
    stamped.sort()
    rows = []
    for (before, _), (when, item_id) in zip([stamped[0], *stamped[:-1]], stamped, strict=True):
        gap = (when - before).total_seconds()
        rows.append(
            f"<tr><td>{html.escape(item_id)}</td><td>{when:%Y-%m-%d %H:%M:%S}</td><td>{gap:.0f} s</td></tr>"
        )
    return (
        '<h3>Timeline</h3><p class="note">Outputs in the order they were written; the time since the '
        "previous output approximates how long each product took when they ran one after another.</p>"
        "<table><tr><th>item</th><th>written (UTC)</th><th>since the previous output</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _timings(timings: Mapping[str, float] | None) -> str:
    if not timings:
        return ""
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.1f} s</td></tr>" for k, v in timings.items())
    return f"<h3>Timings</h3><table><tr><th>step</th><th>seconds</th></tr>{rows}</table>"
