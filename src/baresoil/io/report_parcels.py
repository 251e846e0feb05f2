"""The parcels part of the HTML report: a parcel map overlay and per-parcel time series with events.

Read from a parcels item of the output catalog (``baresoil parcels``): the
parcel table (GeoParquet, EPSG:3035), the long markers table, and, when the
table products wrote them, the bare-soil periods (Sen4CAP's ``START_S2_p``,
``END_S2_p``, ``Conf_S2_p`` columns), the heterogeneity decision (``C_INDEX``)
and the change of category (``pred_changeP2``).  Tables are recognised by their
STAC ``table:columns``, not by name, so any product that writes these columns
shows up.

The map overlay is inline SVG (one path per parcel, coloured by the bare-soil
confidence class of its first period when known, else by the number of clear
Sentinel-2 dates), so a parcel's id and class show on hover.  The time series
plot each chosen parcel's mean NDVI with its interquartile band, Sentinel-1
VH − VV where given, the observations that meet Sen4CAP's bare-soil
calibration rule, and the detected bare-soil periods.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure

BARE_COLUMNS = ("START_S2_1", "END_S2_1", "Conf_S2_1")
HETE_COLUMNS = ("C_INDEX", "P_Hete_L")
CHANGE_COLUMNS = ("pred_changeP2",)
CLASS_ORDER = ("Strong+", "Strong", "Good", "Medium", "Poor", "Doubtful")
CLASS_COLOURS = {
    "Strong+": "#00441b",
    "Strong": "#1b7837",
    "Good": "#7fbf7b",
    "Medium": "#fee08b",
    "Poor": "#f46d43",
    "Doubtful": "#a50026",
    "none": "#ffffff",
}
CALIBRATION_BARE = {"NDVI": 0.15, "NDTI": 0.10}
"""Sen4CAP's bare-soil calibration rule: NDVI < 0.15 and NDTI <= 0.10 (an observation, not a period)."""
SERIES = 4


@dataclass(frozen=True)
class ParcelTables:
    """What a parcels item holds, read lazily by the report."""

    item_id: str
    parcels: gpd.GeoDataFrame | None
    markers: Path | None
    bare: pd.DataFrame | None
    heterogeneity: pd.DataFrame | None
    change: pd.DataFrame | None
    links: dict[str, str]
    """Asset key -> href of every table of the item (relative to the item folder)."""


def parcel_tables(item: Mapping[str, Any], folder: Path) -> ParcelTables:
    assets = item.get("assets", {})
    found: dict[str, pd.DataFrame | None] = {"bare": None, "heterogeneity": None, "change": None}
    wanted = {"bare": BARE_COLUMNS, "heterogeneity": HETE_COLUMNS, "change": CHANGE_COLUMNS}
    parcels = markers = None
    for key, asset in assets.items():
        href = str(asset.get("href", ""))
        if not href.endswith(".parquet"):
            continue
        columns = {c.get("name") for c in asset.get("table:columns", [])}
        if key == "parcels":
            parcels = gpd.read_parquet(folder / href)
        elif key == "markers":
            markers = folder / href
        for name, needed in wanted.items():
            if found[name] is None and set(needed) <= columns:
                found[name] = pd.read_parquet(folder / href)
    links = {key: str(asset.get("href", "")) for key, asset in assets.items()}
    return ParcelTables(
        str(item["id"]), parcels, markers, found["bare"], found["heterogeneity"], found["change"], links
    )


# --- the map overlay -----------------------------------------------------------------------


def parcel_classes(tables: ParcelTables) -> pd.Series:
    """The class a parcel is coloured by: bare-soil confidence of its first period, or 'none'."""
    if tables.bare is None or tables.parcels is None:
        return pd.Series(dtype=object)
    conf = tables.bare.set_index(tables.bare["parcel_id"].astype(str))["Conf_S2_1"]
    classes = conf.reindex(tables.parcels["parcel_id"].astype(str).to_numpy())
    return classes.fillna("none").astype(str).str.replace("_S1", "", regex=False)


def clear_dates(markers: Path | None) -> pd.Series:
    """Clear Sentinel-2 dates per parcel (as text ids)."""
    if markers is None:
        return pd.Series(dtype=float)
    table = pd.read_parquet(
        markers,
        columns=["parcel_id", "date", "source", "feature"],
        filters=[("source", "==", "S2"), ("feature", "==", "NDVI")],
    )
    return table.groupby(table["parcel_id"].astype(str))["date"].nunique()


def overlay_svg(
    tables: ParcelTables, frame: tuple[float, float, float, float], width: int
) -> tuple[str, str]:
    """An SVG of the parcels over ``frame`` (left, bottom, right, top, EPSG:3035) and its legend (HTML)."""
    assert tables.parcels is not None
    left, bottom, right, top = frame
    height = width * (top - bottom) / (right - left)
    scale = width / (right - left)
    classes = parcel_classes(tables)
    paths = []
    if len(classes):
        colour_of = {
            pid: CLASS_COLOURS.get(c, "#cccccc") for pid, c in zip(classes.index, classes, strict=True)
        }
        legend_names = [c for c in (*CLASS_ORDER, "none") if c in set(classes)]
        entries = [_swatch(CLASS_COLOURS[c], c if c != "none" else "no bare period") for c in legend_names]
        legend = "Bare-soil confidence (first S2 period):<br>" + "<br>".join(entries)
        label = {pid: f"bare-soil confidence {c}" for pid, c in zip(classes.index, classes, strict=True)}
    else:
        counts = clear_dates(tables.markers)
        top_count = max(float(counts.max()) if len(counts) else 1.0, 1.0)
        ramp = matplotlib.colormaps["Blues"]
        colour_of = {
            pid: matplotlib.colors.to_hex(ramp(0.2 + 0.8 * n / top_count)) for pid, n in counts.items()
        }
        legend = (
            f'Clear Sentinel-2 dates per parcel: <span class="ramp blues"></span> 0 … {top_count:.0f} '
            "(bare-soil classes appear here once the bare-soil periods are computed)"
        )
        label = {pid: f"{int(n)} clear S2 dates" for pid, n in counts.items()}
    tolerance = (right - left) / 2000
    for pid, geometry in zip(tables.parcels["parcel_id"].astype(str), tables.parcels.geometry, strict=True):
        if geometry is None or geometry.is_empty:
            continue
        d = _path(shapely.simplify(geometry, tolerance), left, top, scale)
        colour = colour_of.get(pid, "#cccccc")
        title = html.escape(f"parcel {pid}: {label.get(pid, 'no data')}")
        paths.append(
            f'<path d="{d}" fill="{colour}" data-parcel="{html.escape(pid)}"><title>{title}</title></path>'
        )
    svg = (
        f'<svg class="overlay" viewBox="0 0 {width} {height:.1f}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg"><g fill-opacity="0.75" stroke="#222" stroke-width="0.6">'
        f"{''.join(paths)}</g></svg>"
    )
    return svg, legend


def _swatch(colour: str, label: str) -> str:
    return f'<span class="swatch" style="background:{colour}"></span>{html.escape(label)}'


def _path(geometry: Any, left: float, top: float, scale: float) -> str:
    parts = []
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)
            px = (xy[:, 0] - left) * scale
            py = (top - xy[:, 1]) * scale
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True))
            parts.append(f"M{points}Z")
    return " ".join(parts)


# --- per-parcel time series --------------------------------------------------------------


def chosen_parcels(tables: ParcelTables, count: int = SERIES) -> list[str]:
    """Parcels to plot, the best observed of each kind: one per bare-soil confidence class when the
    classes are known, else one per declared category, else the best observed."""
    dates = clear_dates(tables.markers)
    if not len(dates):
        return []
    ranked = list(dates.sort_values(ascending=False, kind="stable").index)
    kinds = parcel_classes(tables)
    if not len(kinds) and tables.parcels is not None and "category" in tables.parcels:
        kinds = pd.Series(
            tables.parcels["category"].astype(str).to_numpy(),
            index=tables.parcels["parcel_id"].astype(str).to_numpy(),
        )
    order = [k for k in (*CLASS_ORDER, "none") if k in set(kinds)] or list(dict.fromkeys(kinds.to_numpy()))
    picks: list[str] = []
    for kind in order:
        members = [pid for pid in ranked if kinds.get(pid) == kind]
        if members and len(picks) < count:
            picks.append(members[0])
    picks += [pid for pid in ranked if pid not in picks][: max(0, count - len(picks))]
    return picks


def series_png(tables: ParcelTables, parcel_ids: Sequence[str]) -> bytes:
    """One panel per parcel: mean NDVI (p25–p75), S1 VH − VV, calibration-bare observations, bare periods."""
    assert tables.markers is not None
    table = pd.read_parquet(
        tables.markers,
        columns=["parcel_id", "date", "source", "feature", "mean", "p25", "p75"],
        filters=[("feature", "in", ["NDVI", "NDTI", "VV", "VH"])],
    )
    table["parcel_id"] = table["parcel_id"].astype(str)
    table["date"] = pd.to_datetime(table["date"])
    categories: dict[str, str] = {}
    if tables.parcels is not None and "category" in tables.parcels:
        categories = dict(
            zip(tables.parcels["parcel_id"].astype(str), tables.parcels["category"].astype(str), strict=True)
        )
    fig = Figure(figsize=(10, 2.3 * len(parcel_ids)), dpi=90)
    axes = fig.subplots(len(parcel_ids), 1, sharex=True, squeeze=False)[:, 0]
    for ax, pid in zip(axes, parcel_ids, strict=True):
        mine = table[table["parcel_id"] == pid]
        _plot_parcel(ax, mine, pid, categories.get(pid, ""), _periods(tables.bare, pid))
    axes[0].legend(loc="upper right", fontsize=7, ncols=4)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _plot_parcel(
    ax: Any, rows: pd.DataFrame, pid: str, kind: str, periods: list[tuple[Any, Any, str]]
) -> None:
    s2 = rows[rows["source"] == "S2"]
    ndvi = s2[s2["feature"] == "NDVI"].sort_values("date")
    ndti = s2[s2["feature"] == "NDTI"].set_index("date")["mean"]
    for start, end, klass in periods:
        ax.axvspan(start, end, color=CLASS_COLOURS.get(klass.replace("_S1", ""), "#cccccc"), alpha=0.35, lw=0)
        ax.text(start, 0.93, klass, fontsize=7, va="top")
    ax.fill_between(ndvi["date"], ndvi["p25"], ndvi["p75"], color="#9ecae1", label="NDVI p25–p75")
    ax.plot(ndvi["date"], ndvi["mean"], "o-", ms=2.5, lw=0.8, color="#08519c", label="NDVI mean")
    on = ndvi.set_index("date")["mean"]
    bare = (on < CALIBRATION_BARE["NDVI"]) & (ndti.reindex(on.index) <= CALIBRATION_BARE["NDTI"])
    ax.plot(
        on.index[bare.to_numpy()],
        on[bare.to_numpy()],
        "s",
        ms=4,
        mfc="none",
        color="#8c510a",
        label="bare by Sen4CAP's calibration rule",
    )
    ax.set_ylim(-0.1, 1.0)
    ax.set_ylabel("NDVI")
    s1 = rows[rows["source"] == "S1"].pivot_table(index="date", columns="feature", values="mean")
    if {"VV", "VH"} <= set(s1.columns):
        radar = ax.twinx()
        radar.plot(s1.index, s1["VH"] - s1["VV"], lw=0.6, color="#999999", alpha=0.7)
        radar.set_ylabel("VH − VV (dB)", fontsize=7)
        radar.tick_params(labelsize=7)
    title = f"parcel {pid}{f' ({kind})' if kind else ''}: {len(ndvi)} clear S2 dates"
    if periods:
        title += "; bare-soil periods " + ", ".join(f"{s:%Y-%m-%d}…{e:%Y-%m-%d} ({k})" for s, e, k in periods)
    ax.set_title(title, fontsize=8, loc="left")


def _periods(bare: pd.DataFrame | None, pid: str) -> list[tuple[Any, Any, str]]:
    """Detected S2 bare-soil periods of a parcel (END 'Continue' runs to the last observation)."""
    if bare is None:
        return []
    rows = bare[bare["parcel_id"].astype(str) == pid]
    if rows.empty:
        return []
    row = rows.iloc[0]
    out = []
    for p in range(1, 10):
        start = row.get(f"START_S2_{p}")
        if f"START_S2_{p}" not in row.index:
            break
        if start is None or pd.isna(start):
            continue
        end = row.get(f"END_S2_{p}")
        if end is None or pd.isna(end) or end == "Continue":
            end = row.get("LastObsS2", start)
        out.append((pd.Timestamp(start), pd.Timestamp(end), str(row.get(f"Conf_S2_{p}", ""))))
    return out


# --- summaries -----------------------------------------------------------------------------


def summary_rows(tables: ParcelTables) -> list[tuple[str, str]]:
    """Counts that tell how the run went: parcels, classes, heterogeneity, changes."""
    rows: list[tuple[str, str]] = []
    if tables.parcels is not None:
        rows.append(("parcels", str(len(tables.parcels))))
        if "issues" in tables.parcels:
            issues = tables.parcels["issues"].fillna("").str.split(";").explode()
            counts = issues[issues != ""].value_counts()
            rows.append(("parcels with an issue", ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
    if tables.bare is not None:
        counts = tables.bare["Conf_S2_1"].fillna("no period").value_counts()
        rows.append(
            ("bare-soil confidence of the first S2 period", ", ".join(f"{k} {v}" for k, v in counts.items()))
        )
    else:
        rows.append(("bare-soil periods", "not in this run (no bare-soil table in the item)"))
    if tables.heterogeneity is not None:
        counts = tables.heterogeneity["C_INDEX"].fillna("none").value_counts()
        rows.append(("heterogeneity C_INDEX", ", ".join(f"{k} {v}" for k, v in counts.items())))
    if tables.change is not None:
        changed = int((tables.change["pred_changeP2"] == 1).sum())
        rows.append(("change of category (pred_changeP2)", f"{changed} of {len(tables.change)} parcels"))
    return rows
