"""``baresoil docs``: rebuild the documentation in docs/ from the code and the recorded benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def docs_command(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; fail if a page differs from what the code gives.")
    ] = False,
    root: Annotated[
        Path | None, typer.Option("--root", help="Repository root (default: this source checkout).")
    ] = None,
) -> None:
    """Fill the generated tables of docs/*.md (registry, config, options) and write docs/quality/*.md."""
    from ..docs.build import default_root, generate

    base = root or default_root()
    stale = generate(base, check=check)
    for path in stale:
        typer.echo(f"{'stale' if check else 'wrote'}: {path.relative_to(base)}")
    if check and stale:
        typer.echo("the documentation differs from the code: run `make docs`", err=True)
        raise typer.Exit(1)
