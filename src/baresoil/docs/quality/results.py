"""The benchmarks' recorded figures: the latest run of each, and the helpers every quality page uses."""

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
    """The records of one invocation of one benchmark."""

    bench: str
    records: list[Record]

    @property
    def first(self) -> Record:
        return self.records[0]

    def provenance(self) -> str:
        r = self.first
        commit = str(r.get("commit", "unknown"))
        dirty = " with uncommitted changes" if r.get("dirty") else ""
        args = " ".join(r.get("args") or [])
        cpus = f", {r['cpus']} core(s) available" if r.get("cpus") else ""
        call = f"`python benchmarks/record.py benchmarks/{self.bench}.py{' ' + args if args else ''}`"
        return f"{call}, run {r.get('date', '?')} on commit `{commit[:12]}`{dirty}{cpus}."

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
        default = [key for key, recs in by_run.items() if not recs[0].get("args")]
        chosen = max(default or by_run)
        runs[path.stem] = Run(path.stem, by_run[chosen])
    return runs


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


def get(record: Mapping[str, Any] | None, key: str) -> Any:
    return None if record is None else record.get(key)


def cmp(value: object, test: Callable[[float], bool]) -> bool | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return bool(test(float(value)))


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda v: v <= limit


def missing(bench: str) -> str:
    return (
        f"Not measured yet: run `python benchmarks/record.py benchmarks/{bench}.py` (or `make bench`), "
        "then `make docs`."
    )
