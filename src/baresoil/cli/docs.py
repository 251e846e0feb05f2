"""``baresoil docs``: rebuild the documentation in docs/ from the code and the recorded benchmarks.

The documentation generator is repository tooling (``tools/docs`` of a source checkout), not part of
this package: it reads every layer, this CLI included, so inside the package it would sit above the
CLI that runs it.  The command runs it as ``python -m tools.docs`` in a child interpreter (the one
running this command, so it documents the same ``baresoil``), from the checkout's root.  A child
process rather than an import: this process never imports repository code nor changes ``sys.path``
(no other package named ``tools`` in the environment can be shadowed or shadow it), and ``make docs``
and ``baresoil docs`` run the one entry point, so they write the same pages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import BaresoilError

TOOLING = Path("tools/docs/__main__.py")
"""What marks a source checkout with the documentation tooling, relative to its root."""

INSTALLED_FROM = Path(__file__).resolve().parents[3]
"""The checkout this package is installed from when it is (an editable install: src/baresoil/cli)."""


class NoCheckoutError(BaresoilError):
    """``baresoil docs`` ran outside a source checkout: there is no documentation tooling to run."""


def checkout_root(cwd: Path | None = None) -> Path | None:
    """The source checkout whose tooling to run: the one this package is installed from, else the
    current directory or the nearest of its parents that is one; None when there is none."""
    here = (cwd or Path.cwd()).resolve()
    for candidate in (INSTALLED_FROM, here, *here.parents):
        if (candidate / TOOLING).is_file() and (candidate / "pyproject.toml").is_file():
            return candidate
    return None


def docs_command(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; fail if a page differs from what the code gives.")
    ] = False,
    root: Annotated[
        Path | None, typer.Option("--root", help="Repository root (default: this source checkout).")
    ] = None,
) -> None:
    """Fill the generated tables of docs/*.md (registry, config, options) and write docs/quality/*.md."""
    checkout = checkout_root()
    if checkout is None:
        raise NoCheckoutError(
            "`baresoil docs` rebuilds the docs/ of a baresoil source checkout and runs its tools/docs; "
            f"there is none at {INSTALLED_FROM} or in {Path.cwd()} and its parents (run it in a clone)"
        )
    args = [sys.executable, "-m", "tools.docs", *(["--check"] if check else [])]
    args += ["--root", str(root.resolve())] if root else []
    # the checkout first on the child's path (cwd alone is not on it under PYTHONSAFEPATH)
    path = os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        args, cwd=checkout, env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True
    )
    # echoed rather than inherited: the command's output stays where the caller's streams go
    typer.echo(done.stdout, nl=False)
    typer.echo(done.stderr, nl=False, err=True)
    if done.returncode:
        raise typer.Exit(done.returncode)
