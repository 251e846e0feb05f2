"""Where a run's seconds go: named spans of work, summed by name, for the speed benchmark's profile.

The pipeline marks its phases (``with span("warp"): ...``): searching the catalog, planning the tiles,
opening, decoding, warping and fusing the scenes' files, the product's kernels, writing the blocks and
the COGs.  Spans run in every thread that computes, so a phase's seconds are thread-seconds: on two
busy cores they add up to about twice the wall time.

Nothing is kept unless ``BARESOIL_PROFILE`` names a file: then the sums are written there as JSON when
the process exits (``{"since_import_s": …, "spans": {name: {"seconds": …, "calls": …}}}``), and the
benchmark reads them (``benchmarks/bench_speed.py``).  A span costs a clock read and a lock.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROFILE_ENV = "BARESOIL_PROFILE"
"""The file a process writes its spans to when it exits (unset: nothing is kept)."""

_IMPORTED = time.perf_counter()
_TARGET = os.environ.get(PROFILE_ENV)
_lock = threading.Lock()
_totals: dict[str, list[float]] = {}


@contextmanager
def span(name: str) -> Iterator[None]:
    """Count the time spent in the block as ``name``'s (nothing when no profile is asked for)."""
    if _TARGET is None:
        yield
        return
    began = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - began)


def add(name: str, seconds: float) -> None:
    with _lock:
        total = _totals.setdefault(name, [0.0, 0])
        total[0] += seconds
        total[1] += 1


def totals() -> dict[str, dict[str, float]]:
    """Seconds and calls of each span so far."""
    with _lock:
        return {name: {"seconds": round(s, 3), "calls": int(n)} for name, (s, n) in sorted(_totals.items())}


def write(path: Path) -> None:
    record = {"since_import_s": round(time.perf_counter() - _IMPORTED, 3), "spans": totals()}
    path.write_text(json.dumps(record))


if _TARGET is not None:
    atexit.register(write, Path(_TARGET))


__all__ = ["PROFILE_ENV", "add", "span", "totals", "write"]
