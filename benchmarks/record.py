"""Run one benchmark and keep its figures: every JSON line it prints lands in benchmarks/results.

    python benchmarks/record.py benchmarks/bench_seasons.py [ARGS ...]

The benchmark runs as it would on its own (its output still goes to the
console); each line of its standard output that is a JSON object is appended to
``benchmarks/results/<bench>.jsonl`` with what the quality reports need to say
when and on what it was measured: ``bench`` (script name), ``run`` (one id per
invocation), ``date`` (UTC), ``commit`` (``git rev-parse HEAD``), ``dirty``
(uncommitted changes in the tree, other than earlier records), ``args`` and ``cpus`` (the cores the run
could use).  A run that fails records nothing, so a partial set of figures never
stands in for a complete one.
``python -m tools.docs`` turns the latest full run of each benchmark (and what
later ``--only`` runs measured again) into docs/quality/<family>.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


EARLIER_RECORDS = ":(top,exclude)benchmarks/results"


def dirty() -> bool:
    """Uncommitted changes to what is measured (the records of earlier runs are not)."""
    return bool(git("status", "--porcelain", "--untracked-files=no", "--", ":(top)", EARLIER_RECORDS))


def git(*args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(HERE), *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def provenance(script: Path, args: list[str]) -> dict[str, object]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "bench": script.stem,
        "run": now.strftime("%Y%m%dT%H%M%SZ"),
        "date": now.isoformat().replace("+00:00", "Z"),
        "commit": git("rev-parse", "HEAD") or "unknown",
        "dirty": dirty(),
        "args": args,
        "cpus": len(os.sched_getaffinity(0)),
    }


def figures(line: str) -> dict[str, object] | None:
    """The JSON object a line holds, or None for any other output."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def run(script: Path, args: list[str], results: Path = RESULTS) -> int:
    stamp = provenance(script, args)
    records = []
    with subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            found = figures(line)
            if found is not None:
                records.append({**stamp, **found})
    if child.returncode != 0:
        print(f"record: {script.name} failed (exit {child.returncode}); nothing recorded", file=sys.stderr)
        return child.returncode
    results.mkdir(parents=True, exist_ok=True)
    target = results / f"{script.stem}.jsonl"
    with target.open("a") as stream:
        for record in records:
            stream.write(json.dumps(record) + "\n")
    print(f"record: {len(records)} line(s) appended to {target}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or not args[0].endswith(".py"):
        print(__doc__, file=sys.stderr)
        return 2
    return run(Path(args[0]), args[1:])


if __name__ == "__main__":
    sys.exit(main())
