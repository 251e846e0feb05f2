"""``baresoil simulate``: write a simulated Sentinel-2 world with its ground truth."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from ..simulate.spec import WorldSpec


def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write scenes, catalogs and truth into.")],
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives the same world.")
    ] = WorldSpec.seed,
    size: Annotated[
        int | None,
        typer.Option("--size", help=f"Side of the square world, metres (default: {WorldSpec.size_m})."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help=f"First acquisition day (default: {WorldSpec.start}).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help=f"Last acquisition day (default: {WorldSpec.end}).")
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="Whose priors the world's physics is drawn from: demo (the fixed demo world), central, "
            "south, atlantic or continental.",
        ),
    ] = "demo",
) -> None:
    """Simulate Sentinel-2 L2A scenes as providers publish them, with ground truth beside them."""
    from ..catalog.source import TimeRange  # here, not above: `baresoil --help` imports every command
    from ..simulate import simulate

    spec = WorldSpec(seed=seed) if profile == "demo" else WorldSpec.for_profile(profile, seed)
    changes: dict[str, Any] = {}
    if size is not None:
        changes["size_m"] = size
    if start is not None or end is not None:
        period = TimeRange.parse(start or spec.start, end or spec.end)
        changes.update(start=period.start, end=period.end)
    spec = dataclasses.replace(spec, **changes)
    result = simulate(out, spec)
    typer.echo(
        f"simulated {spec.size_m} m world, {spec.start}..{spec.end}, profile {spec.profile}, seed {spec.seed}"
    )
    for name, path in result.catalogs.items():
        typer.echo(f"  {name:20s} {path}")
    typer.echo(f"  truth                {result.truth_dir}")


__all__ = ["simulate_command"]
