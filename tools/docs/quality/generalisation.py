"""Quality report across worlds (``benchmarks/generalisation.py``): each family's figures per world, the
median and the worst, held-out worlds apart from tuning ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..tables import markdown_table
from .results import Record, Run, fmt, missing, yes

FAMILIES = ("soilsuite", "seasons", "parcels", "soil")


def generalisation_page(runs: Mapping[str, Run]) -> list[str]:
    run = runs.get("generalisation")
    if run is None:
        return [missing("generalisation")]
    parts = [
        "Each world is drawn from its profile's priors (`docs/worlds.md`); held-out worlds are only ever "
        "scored, never used to choose a rule or constant. The acceptance asks for the worst world. "
        f"Measured by {run.provenance()}"
    ]
    for family in FAMILIES:
        parts += _family(family, run.records)
    return parts


def _family(family: str, records: Sequence[Record]) -> list[str]:
    worlds = [r for r in records if r.get("benchmark") == "generalisation" and r.get("family") == family]
    summaries = {
        str(r.get("set")): r
        for r in records
        if r.get("benchmark") == "generalisation-summary" and r.get("family") == family
    }
    if not worlds:
        return []
    figures = [k for k, v in next(iter(summaries.values()), worlds[0]).items() if isinstance(v, dict)
               and "target" in v]  # fmt: skip
    figures = figures or [k for k, v in worlds[0].items() if _is_figure(k, v)]
    out = [f"## {family}"]
    for held_out, title in ((True, "Held-out worlds"), (False, "Tuning worlds")):
        rows = [r for r in worlds if bool(r.get("held_out")) == held_out]
        if not rows:
            continue
        table = [(str(r.get("world")), *(fmt(r.get(f)) for f in figures)) for r in rows]
        summary = summaries.get("heldout" if held_out else "tuning")
        if summary is not None:
            table.append(("**median**", *(fmt((summary.get(f) or {}).get("median")) for f in figures)))
            table.append(("**worst**", *(_worst(summary.get(f)) for f in figures)))
            table.append(("target", *(str((summary.get(f) or {}).get("target", "–")) for f in figures)))
        out += [f"{title}:", markdown_table(("world", *figures), table)]
    return out


NOT_FIGURES = frozenset({"seconds", "cpus", "dirty", "held_out"})
"""Numbers a record carries that are no accuracy figure."""


def _is_figure(key: str, value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and key not in NOT_FIGURES


def _worst(cell: object) -> str:
    if not isinstance(cell, dict):
        return "–"
    met = cell.get("met_on_every_world")
    return f"{fmt(cell.get('worst'))} ({cell.get('worst_world')}; met: {yes(bool(met))})"
