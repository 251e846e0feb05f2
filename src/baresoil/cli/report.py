"""``baresoil report``: the HTML report of an output folder (a STAC catalog of outputs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..io.report import TITLE, write_report


def report_command(
    out_dir: Annotated[
        Path,
        typer.Argument(help="Output folder of any baresoil command (holds catalog.json).", metavar="OUT_DIR"),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write (default: OUT_DIR/report.html).")
    ] = None,
    title: Annotated[str, typer.Option("--title", help="Title of the page.")] = TITLE,
) -> None:
    """One self-contained HTML page: map of the outputs with a layer switcher and legends, time series,
    quality figures of the run and provenance; it works offline."""
    path = write_report(out_dir, out, title=title)
    typer.echo(f"report: {path}")
