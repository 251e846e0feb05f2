"""``baresoil demo``: simulate a world, run every product on it, write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..simulate.spec import WorldSpec
from . import options as opt


def demo_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the simulation, products and report.")
    ] = Path("demo-output"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated world.")] = WorldSpec.seed,
    scheduler: opt.Scheduler = None,
) -> None:
    """Run the whole system on a simulated world and print the report's path."""
    from ..pipeline.demo import run_demo

    report = run_demo(out, seed=seed, scheduler_address=scheduler, echo=typer.echo)
    typer.echo(f"report: {report}")
