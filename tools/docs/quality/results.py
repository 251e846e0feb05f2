"""The benchmarks' recorded figures: the latest full run of each (updated by later partial runs), and the
helpers every quality page uses."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..tables import markdown_table

Record = dict[str, Any]


@dataclass(frozen=True)
class Run:
    """The latest records of one benchmark: its latest full run, with the figures a later partial
    run (``--only …``) measured again taken from that run."""

    bench: str
    records: list[Record]

    def provenance(self) -> str:
        firsts: dict[str, Record] = {}
        for record in self.records:
            firsts.setdefault(str(record.get("run", "")), record)
        runs = list(firsts.values())
        text = _described(self.bench, runs[0])
        for later in runs[1:]:
            names = sorted(
                {str(r.get("benchmark")) for r in self.records if r.get("run") == later.get("run")}
            )
            text += f" Figures {', '.join(names)} from {_described(self.bench, later)}"
        return text

    def named(self, benchmark: str) -> list[Record]:
        return [r for r in self.records if r.get("benchmark") == benchmark]


def load_results(folder: Path) -> dict[str, Run]:
    """Per benchmark script: its latest default run (or latest run) in ``folder``."""
    runs: dict[str, Run] = {}
    for path in sorted(folder.glob("*.jsonl")):
        by_run: dict[str, list[Record]] = {}
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                by_run.setdefault(str(record.get("run", "")), []).append(record)
        if not by_run:
            continue
        if path.stem in ACCUMULATED:
            runs[path.stem] = Run(path.stem, _accumulated(by_run))
            continue
        default = [key for key, recs in by_run.items() if not recs[0].get("args")]
        chosen = max(default or by_run)
        records = list(by_run[chosen])
        for key in sorted(k for k in by_run if k > chosen):  # later partial runs replace what they measured
            again = {r.get("benchmark") for r in by_run[key]}
            records = [r for r in records if r.get("benchmark") not in again] + by_run[key]
        runs[path.stem] = Run(path.stem, records)
    return runs


ACCUMULATED = frozenset({"generalisation", "bench_speed"})
"""Benchmarks run a part at a time (one family, one set of worlds, one resolution): every run counts, a
later record of the same family and world (or set), resolution and area replacing an earlier one."""


def _accumulated(by_run: Mapping[str, list[Record]]) -> list[Record]:
    latest: dict[tuple[object, ...], Record] = {}
    for key in sorted(by_run):
        for record in by_run[key]:
            ident = (record.get("benchmark"), record.get("family"), record.get("world"), record.get("set"),
                     record.get("resolution_m"), record.get("area_fraction"))  # fmt: skip
            latest.pop(ident, None)
            latest[ident] = record
    return list(latest.values())


def _described(bench: str, r: Record) -> str:
    commit = str(r.get("commit", "unknown"))
    dirty = " with uncommitted changes" if r.get("dirty") else ""
    args = " ".join(r.get("args") or [])
    cpus = f", {r['cpus']} core(s) available" if r.get("cpus") else ""
    call = f"`python benchmarks/record.py benchmarks/{bench}.py{' ' + args if args else ''}`"
    return f"{call}, run {r.get('date', '?')} on commit `{commit[:12]}`{dirty}{cpus}."


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def targets_table(rows: Sequence[tuple[str, str, object, bool | None]]) -> str:
    """(figure, target, measured, met) rows; ``met`` None when not measured."""
    return markdown_table(
        ("figure", "target", "measured", "met"),
        [(name, target, fmt(value), "–" if met is None else yes(met)) for name, target, value, met in rows],
    )


Column = tuple[str, str | Callable[[Record], object]]
"""(title, the record's key or a function of the record) of a :func:`records_table` column."""


def records_table(records: Sequence[Record], columns: Sequence[Column]) -> str:
    """One row per record, each value formatted by :func:`fmt`."""
    rows = [tuple(fmt(key(r) if callable(key) else r.get(key)) for _, key in columns) for r in records]
    return markdown_table(tuple(title for title, _ in columns), rows)


def get(record: Mapping[str, Any] | None, key: str) -> Any:
    return None if record is None else record.get(key)


@dataclass(frozen=True)
class Goal:
    """A target as the page writes it, and the test of a measured value against it."""

    text: str
    test: Callable[[float], bool]


def at_least(limit: float) -> Goal:
    return Goal(f"≥ {limit:g}", lambda v: v >= limit)


def at_most(limit: float) -> Goal:
    return Goal(f"≤ {limit:g}", lambda v: v <= limit)


def between(low: float, high: float) -> Goal:
    return Goal(f"{low:g} – {high:g}", lambda v: low <= v <= high)


def target(figure: str, value: object, goal: Goal) -> tuple[str, str, object, bool | None]:
    """A row of :func:`targets_table`: the figure, its target, the measured value and whether it is met."""
    return figure, goal.text, value, _met(value, goal.test)


def _met(value: object, test: Callable[[float], bool]) -> bool | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return bool(test(float(value)))


def missing(bench: str) -> str:
    return (
        f"Not measured yet: run `python benchmarks/record.py benchmarks/{bench}.py` (or `make bench`), "
        "then `make docs`."
    )
