"""``baresoil report``: the HTML report of an output folder (a STAC catalog of outputs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

TITLE = "baresoil report"
"""``io.report.TITLE``, the default of --title (that module, with matplotlib, is imported by the run)."""


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
    from ..io.report import write_report  # with matplotlib: imported by this command only

    path = write_report(out_dir, out, title=title)
    typer.echo(f"report: {path}")
