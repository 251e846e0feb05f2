"""The validation of soil maps on disk: ``cv_report.json``, its figures, and its HTML section.

``cv_report.json`` (next to the output ``catalog.json``) holds, per property,
the spatial and random cross-validation figures, the stated and observed
coverage of the 90 % interval (calibrated and not), the out-of-fold predictions
of every sample, the covariate importance and the covariate comparison; the
samples left out are listed by id with the reason (and the covariates they
lacked).  The observed-vs-predicted plot of
each property and the comparison chart are PNG files beside it, named in the
report; the HTML report embeds them.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .atomic import atomic_path

CV_REPORT = "cv_report.json"
TOP_COVARIATES = 10


def write_json(path: Path, data: Mapping[str, Any]) -> Path:
    """Write JSON atomically (NaN as null)."""
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(_finite(data), indent=2))
    return path


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def observed_predicted_png(
    path: Path,
    title: str,
    unit: str,
    observed: np.ndarray,
    quantiles: np.ndarray,
    metrics: Mapping[str, float],
) -> Path:
    """Scatter of out-of-fold medians against observations, with the 90 % intervals and the 1:1 line."""
    fig = Figure(figsize=(4.2, 4.2), dpi=100)
    ax = fig.add_subplot()
    q05, q50, q95 = quantiles
    inside = (observed >= q05) & (observed <= q95)
    for where, colour, label in ((inside, "#2e8b3e", "inside 90 % PI"), (~inside, "#d94a4a", "outside")):
        ax.errorbar(observed[where], q50[where], yerr=[q50[where] - q05[where], q95[where] - q50[where]],
                    fmt="o", ms=3, lw=0.6, color=colour, alpha=0.7, label=label)  # fmt: skip
    finite = np.concatenate([observed, q05, q95])
    finite = finite[np.isfinite(finite)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ax.plot([low, high], [low, high], color="#555", lw=0.8)
    ax.set_xlabel(f"observed ({unit})")
    ax.set_ylabel(f"predicted median, out of fold ({unit})")
    ax.set_title(title, fontsize=10)
    text = (f"n {metrics['n']}  RMSE {metrics['rmse']:.3g}  MEC {metrics['mec']:.2f}\n"
            f"bias {metrics['bias']:.3g}  PICP90 {metrics['picp90']:.2f}")  # fmt: skip
    ax.text(0.02, 0.98, text, transform=ax.transAxes, va="top", fontsize=8)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def comparison_png(path: Path, comparison: Mapping[str, Sequence[Mapping[str, Any]]]) -> Path:
    """Bars of the spatial-CV MEC of each covariate set, grouped by property."""
    props = list(comparison)
    labels = list(dict.fromkeys(row["covariates"] for rows in comparison.values() for row in rows))
    fig = Figure(figsize=(max(4.0, 1.3 * len(props) + 2), 3.4), dpi=100)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(labels))
    for j, label in enumerate(labels):
        values = []
        for prop in props:
            row = next((r for r in comparison[prop] if r["covariates"] == label), None)
            mec = row["mec"] if row is not None else None
            values.append(np.nan if mec is None else mec)
        ax.bar(np.arange(len(props)) + j * width, values, width, label=label)
    ax.set_xticks(np.arange(len(props)) + width * (len(labels) - 1) / 2, props)
    ax.set_ylabel("MEC (spatial CV)")
    ax.axhline(0, color="#555", lw=0.6)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as partial:
        fig.savefig(partial, format="png")
    return path


def cv_report_sections(out_dir: Path) -> list[tuple[str, str]]:
    """HTML sections for ``out_dir/cv_report.json`` (none when there is no report)."""
    path = out_dir / CV_REPORT
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    props = report.get("properties", {})
    parts = [
        _metrics_table(props),
        _comparison_html(out_dir, report),
        _samples_html(report.get("samples", {})),
    ]
    sections = [("Soil maps: spatial cross-validation", "".join(parts))]
    figures = "".join(_image(out_dir / entry["plot"], f"{name}: observed vs predicted")
                      for name, entry in props.items() if entry.get("plot"))  # fmt: skip
    importance = "".join(_importance_html(name, entry) for name, entry in props.items())
    sections.append(("Soil maps: observed vs predicted and covariate importance",
                     f'<div class="grid">{figures}</div>{importance}'))  # fmt: skip
    return sections


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _metrics_table(props: Mapping[str, Any]) -> str:
    names = ("property", "unit", "n", "RMSE", "MEC", "bias", "90 % PI: stated coverage", "observed",
             "observed, uncalibrated forest", "PI90 width", "MEC, random folds")  # fmt: skip
    head = "<tr>" + "".join(f"<th>{name}</th>" for name in names) + "</tr>"
    rows = []
    for name, entry in props.items():
        s, r = entry["spatial_cv"], entry["random_cv"]
        interval = entry.get("interval", {})
        cells = [name, entry["unit"], s["n"], s["rmse"], s["mec"], s["bias"], interval.get("stated_coverage"),
                 s["picp90"], interval.get("observed_coverage_uncalibrated"), s["pi90_width"],
                 r["mec"]]  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _comparison_html(out_dir: Path, report: Mapping[str, Any]) -> str:
    props = report.get("properties", {})
    labels = list(dict.fromkeys(r["covariates"] for e in props.values() for r in e.get("comparison", [])))
    if not labels:
        return ""
    head = "<tr><th>property</th>" + "".join(f"<th>{html.escape(lab)}</th>" for lab in labels) + "</tr>"
    rows = []
    for name, entry in props.items():
        by_label = {r["covariates"]: r for r in entry.get("comparison", [])}
        cells = [f"MEC {_fmt(by_label[lab]['mec'], 2)}, RMSE {_fmt(by_label[lab]['rmse'])}"
                 if lab in by_label else "–" for lab in labels]  # fmt: skip
        rows.append(f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    chart = report.get("comparison_plot")
    image = _image(out_dir / chart, "MEC by covariate set", width=600) if chart else ""
    title = "<h3>Covariate comparison (spatial CV, same samples and folds)</h3>"
    return f"{title}<table>{head}{''.join(rows)}</table>{image}"


def _importance_html(name: str, entry: Mapping[str, Any]) -> str:
    ranked = entry.get("importance", [])[:TOP_COVARIATES]
    rows = "".join(f"<tr><td>{html.escape(r['covariate'])}</td><td>{html.escape(r['group'])}</td>"
                   f"<td>{r['importance']:.3f}</td></tr>" for r in ranked)  # fmt: skip
    groups = ", ".join(f"{html.escape(g)} {v:.2f}" for g, v in entry.get("importance_by_group", {}).items())
    return (
        f"<details><summary>{html.escape(name)}: covariate importance (by group: {groups})</summary>"
        f"<table><tr><th>covariate</th><th>group</th><th>importance</th></tr>{rows}</table></details>"
    )


def _samples_html(samples: Mapping[str, Any]) -> str:
    if not samples:
        return ""
    lines = [f"<p>{_fmt(samples.get('read'))} samples read, {_fmt(samples.get('used'))} with covariates.</p>"]
    lacking = samples.get("missing_covariates", {})
    for reason, ids in samples.get("excluded", {}).items():
        shown = ", ".join(html.escape(i) + _lacking(lacking.get(i, [])) for i in ids[:20])
        shown += " …" if len(ids) > 20 else ""
        lines.append(f"<p>Left out, {html.escape(reason)} ({len(ids)}): {shown}</p>")
    for prop, ids in samples.get("missing_values", {}).items():
        if ids:
            shown = ", ".join(map(html.escape, ids[:20]))
            lines.append(f"<p>No value of {html.escape(prop)} ({len(ids)}): {shown}</p>")
    return "".join(lines)


def _lacking(names: Sequence[str], shown: int = 3) -> str:
    if not names:
        return ""
    more = f" +{len(names) - shown}" if len(names) > shown else ""
    return f" (no {html.escape(', '.join(names[:shown]))}{more})"


def _image(path: Path, title: str, width: int = 300) -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    size = f'style="width:{width}px"'
    return (
        f'<figure {size}><img {size} src="data:image/png;base64,{data}" alt="{html.escape(title)}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


__all__ = ["CV_REPORT", "comparison_png", "cv_report_sections", "observed_predicted_png", "write_json"]
