"""The seasons section of the HTML report: a few pixels' time series with their band and events."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ..products.registry import decode_yydoy
from ..products.seasons import PixelSeries
from .atomic import atomic_path

FIGURE_NAME = "seasons_time_series.png"
_FLAG_FLOOR = 65000


def write_time_series(series: Sequence[PixelSeries], out_dir: Path) -> Path:
    """One panel per pixel: clear NDVI observations, the q10-q90 band and q50, events; as a PNG."""
    fig, axes = plt.subplots(len(series), 1, figsize=(10, 2.4 * len(series)), sharex=True, squeeze=False)
    for ax, s in zip(axes[:, 0], series, strict=True):
        ax.fill_between(s.days, s.q10, s.q90, color="#9ecae1", label="q10-q90")
        ax.plot(s.days, s.q50, color="#08519c", lw=1.2, label="q50")
        ax.plot(s.observed, s.ndvi, "o", ms=3, color="#333333", label="clear observations")
        for when in s.emergences:
            ax.axvline(when, color="#31a354", lw=0.8, ls="--")
        for when in s.harvests:
            ax.axvline(when, color="#e6550d", lw=0.8, ls="--")
        ax.set_ylabel("NDVI")
        ax.set_ylim(-0.1, 1.0)
        ax.set_title(f"{s.label}: {_main_season(s)}", fontsize=9, loc="left")
    axes[0, 0].legend(loc="upper right", fontsize=7, ncols=3)
    fig.tight_layout()
    target = out_dir / FIGURE_NAME
    with atomic_path(target) as partial:
        fig.savefig(partial, format="png", dpi=90)
    plt.close(fig)
    return target


def seasons_sections(out_dir: Path) -> list[tuple[str, str]]:
    """The report section, when the demo (or a user) wrote the time-series figure."""
    figure = out_dir / FIGURE_NAME
    if not figure.exists():
        return []
    data = base64.b64encode(figure.read_bytes()).decode()
    caption = (
        "Daily NDVI band (Whittaker posterior, q10-q90) through the clear observations; dashed lines: "
        "detected emergences (green) and harvests (orange)."
    )
    return [("Crop seasons: pixel time series",
             f'<figure><img src="data:image/png;base64,{data}" alt="time series" style="max-width:100%">'
             f"<figcaption>{caption}</figcaption></figure>")]  # fmt: skip


def _main_season(s: PixelSeries) -> str:
    e, h = s.layers["CPMCE"], s.layers["CPMCH"]
    if not (0 < e < _FLAG_FLOOR and 0 < h < _FLAG_FLOOR):
        return f"no main season (flag {e:.0f})"
    bsa = s.layers["CPBSA"]
    after = f", bare soil after {bsa:.0f} d (±{s.layers['CPBSACL'] / 2:.0f})" if bsa < _FLAG_FLOOR else ""
    return (
        f"main crop emerged {decode_yydoy(int(e))} (CL {s.layers['CPMCECL']:.0f} d), "
        f"harvested {decode_yydoy(int(h))} (CL {s.layers['CPMCHCL']:.0f} d){after}"
    )
