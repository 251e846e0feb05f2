"""The run manifest: what a run was asked, how far it got and what it left out, in its output folder.

One file per product family of an output folder, ``OUT/<family>/manifest.jsonl`` (beside the family's
STAC collection), in JSON Lines: one event per line, appended with a single write and ``fsync`` as it
happens.  A line cut off by ``kill -9`` is ignored when read and removed before the next append, so
the file is always a consistent history.  :func:`read_manifest` folds the events into a
:class:`ManifestState`: the request, each run, each tile's and each block's state, the assets left
out, timings.  It is the record a job API reads for a job's status, progress and log.

Schema (``"v": 1``).  Every line holds ``v``, ``event``, ``time`` (ISO 8601, UTC) and ``run`` (the
run's id); then, by event:

=========  ==========================================================================================
event      fields
=========  ==========================================================================================
run        ``request`` (source, area, period, family, config, inputs, version: everything that
           decides the outputs), ``request_hash`` (sha256 of it), ``pid``, ``host``, ``resume``
plan       ``tiles``: ``[{"tile": "E44N27", "scenes": 12}, …]``
tile       ``tile``, ``items`` (the item ids it writes), ``blocks`` (how many)
block      ``tile``, ``block`` (``"<row>_<col>"`` of its first pixel), ``files``
           (``{name: [size, sha256]}``: the block's staged layers), ``seconds``
skipped    ``tile``, ``item``, ``band``, ``href`` (redacted), ``reason``: an asset left out
output     ``tile``, ``files`` (``{path under OUT: [size, sha256]}``: COGs, sidecars, item JSON):
           the tile is done
end        ``state`` (``finished``, ``failed``, ``interrupted``), ``message``, ``seconds``,
           ``retries`` (retried requests, by library)
=========  ==========================================================================================

A run with ``--resume`` appends to the file after checking that its request is the one recorded; any
other run starts a new file.  Nothing in the manifest holds a secret (hrefs and sources are redacted).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..io.atomic import file_digest
from ..redact import redact_value

SCHEMA_VERSION = 1
MANIFEST_FILE = "manifest.jsonl"

FileDigests = dict[str, tuple[int, str]]
"""File name or path -> (size in bytes, sha256 hex)."""


def manifest_path(out_dir: Path, family: str) -> Path:
    return Path(out_dir) / family / MANIFEST_FILE


def request_hash(request: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(request).encode()).hexdigest()


def request_differences(recorded: Mapping[str, Any], wanted: Mapping[str, Any], limit: int = 4) -> str:
    """What differs between two requests, as ``period 2021-01-01/2021-12-31 → 2022-…, config.x 1 → 2``."""
    before, after = _flatten(recorded), _flatten(wanted)
    keys = sorted(set(before) | set(after), key=lambda k: (not k.startswith(("family", "period", "area")), k))
    changed = [
        f"{key} {_show(before.get(key))} → {_show(after.get(key))}"
        for key in keys
        if before.get(key) != after.get(key)
    ]
    more = f" and {len(changed) - limit} more" if len(changed) > limit else ""
    return ", ".join(changed[:limit]) + more


def file_problems(root: Path, files: Mapping[str, tuple[int, str]]) -> list[str]:
    """Which of ``files`` (paths under ``root``) are missing or differ from their record."""
    problems = []
    for name, (size, sha) in files.items():
        path = root / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        actual = path.stat().st_size
        if actual != size:
            problems.append(f"{name} has {actual} bytes, not {size}")
        elif file_digest(path)[1] != sha:
            problems.append(f"{name} has changed (checksum)")
    return problems


@dataclass
class TileState:
    tile: str
    scenes: int = 0
    items: list[str] = field(default_factory=list)
    blocks_total: int = 0
    blocks: dict[str, FileDigests] = field(default_factory=dict)
    """Blocks staged so far: block -> its files."""
    outputs: FileDigests = field(default_factory=dict)
    """The tile's outputs, once it is done."""

    @property
    def state(self) -> str:
        """``planned``, ``running`` (blocks being staged) or ``done``."""
        if self.outputs:
            return "done"
        return "running" if self.items else "planned"


@dataclass
class RunRecord:
    run: str
    started: str
    pid: int
    host: str
    resume: bool
    ended: str | None = None
    state: str = "running"
    """``running`` (or killed: no end was written), ``finished``, ``failed``, ``interrupted``."""
    message: str = ""
    seconds: float | None = None


@dataclass
class ManifestState:
    """Everything a manifest says, folded from its events."""

    request: dict[str, Any]
    request_hash: str
    runs: list[RunRecord] = field(default_factory=list)
    tiles: dict[str, TileState] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def state(self) -> str:
        """The last run's: ``running`` (or killed), ``finished``, ``failed``, ``interrupted``."""
        return self.runs[-1].state if self.runs else "running"

    @property
    def blocks(self) -> tuple[int, int]:
        """(done, total) blocks over the tiles started; a done tile counts all its blocks."""
        done = sum(t.blocks_total if t.state == "done" else len(t.blocks) for t in self.tiles.values())
        return done, sum(t.blocks_total for t in self.tiles.values())

    def apply(self, event: Mapping[str, Any]) -> None:
        kind = event.get("event")
        if kind == "run":
            self.runs.append(
                RunRecord(event["run"], event["time"], event["pid"], event["host"], bool(event.get("resume")))
            )
        elif kind == "plan":
            for entry in event["tiles"]:
                self.tiles.setdefault(entry["tile"], TileState(entry["tile"])).scenes = int(entry["scenes"])
        elif kind == "tile":
            tile = self.tiles.setdefault(event["tile"], TileState(event["tile"]))
            tile.items, tile.blocks_total = list(event["items"]), int(event["blocks"])
            tile.outputs = {}
        elif kind == "block":
            tile = self.tiles.setdefault(event["tile"], TileState(event["tile"]))
            tile.blocks[event["block"]] = _digests(event["files"])
        elif kind == "output":
            tile = self.tiles.setdefault(event["tile"], TileState(event["tile"]))
            tile.outputs, tile.blocks = _digests(event["files"]), {}
        elif kind == "skipped":
            entry = {k: str(event[k]) for k in ("tile", "item", "band", "href", "reason")}
            if not any(all(e[k] == entry[k] for k in ("tile", "item", "band", "href")) for e in self.skipped):
                self.skipped.append(entry)
        elif kind == "end" and self.runs:
            run = self.runs[-1]
            run.ended, run.state = event["time"], event["state"]
            run.message, run.seconds = event.get("message", ""), event.get("seconds")


def read_manifest(path: Path) -> ManifestState | None:
    """The state a manifest records (None when there is no manifest)."""
    events = list(_events(path))
    if not events:
        return None
    first = next((e for e in events if e.get("event") == "run"), None)
    if first is None:
        raise OutputError(f"{path}: not a baresoil manifest (no run event)")
    state = ManifestState(dict(first["request"]), str(first["request_hash"]))
    for event in events:
        state.apply(event)
    return state


class Manifest:
    """Appends a run's events to its manifest (see the module's docstring for the schema)."""

    def __init__(self, path: Path, run: str) -> None:
        self.path = path
        self.run = run
        self._started = time.monotonic()
        self._guard = threading.Lock()
        """Tiles in flight append from their own threads: one line at a time."""

    @classmethod
    def begin(
        cls, path: Path, run: str, request: Mapping[str, Any], resume: bool
    ) -> tuple[Manifest, ManifestState]:
        """Start a run: continue the manifest at ``path`` (``resume``: its request must be ``request``)
        or start a new one.  Returns the writer and the state so far."""
        request = redact_value(dict(request))
        wanted = request_hash(request)
        previous = read_manifest(path) if resume else None
        if previous is not None and previous.request_hash != wanted:
            raise OutputError(
                f"{path.parent.parent} holds a different request: "
                f"{request_differences(previous.request, request)}; use a new --out or --overwrite"
            )
        manifest = cls(path, run)
        if previous is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{run}.partial")
            partial.write_text("")
            os.replace(partial, path)
        else:
            _drop_cut_line(path)
        state = previous or ManifestState(dict(request), wanted)
        state.apply(manifest.event("run", request=request, request_hash=wanted, pid=os.getpid(),
                                   host=socket.gethostname(), resume=previous is not None))  # fmt: skip
        return manifest, state

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append one event (one write, flushed to disk); returns it."""
        record = {"v": SCHEMA_VERSION, "event": kind, "time": _now(), "run": self.run, **redact_value(fields)}
        line = (_canonical(record) + "\n").encode()
        with self._guard:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return record

    def plan(self, tiles: Iterable[tuple[str, int]]) -> None:
        self.event("plan", tiles=[{"tile": tile, "scenes": scenes} for tile, scenes in tiles])

    def tile(self, tile: str, items: list[str], blocks: int) -> None:
        self.event("tile", tile=tile, items=items, blocks=blocks)

    def block(self, tile: str, block: str, files: FileDigests, seconds: float) -> None:
        self.event("block", tile=tile, block=block, files=_lists(files), seconds=round(seconds, 3))

    def skipped(self, tile: str, item: str, band: str, href: str, reason: str) -> None:
        self.event("skipped", tile=tile, item=item, band=band, href=href, reason=reason)

    def output(self, tile: str, files: FileDigests) -> None:
        self.event("output", tile=tile, files=_lists(files))

    def end(self, state: str, message: str = "", retries: Mapping[str, int] | None = None) -> None:
        seconds = round(time.monotonic() - self._started, 3)
        self.event("end", state=state, message=message, seconds=seconds, retries=dict(retries or {}))


def _events(path: Path) -> Iterable[dict[str, Any]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc
    lines = text.split("\n")
    for number, line in enumerate(lines[:-1], start=1):  # the last part has no newline: cut or empty
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise OutputError(f"{path}: line {number} is not JSON ({exc})") from exc
        if event.get("v") != SCHEMA_VERSION:
            raise OutputError(
                f"{path}: line {number} has schema version {event.get('v')}, not {SCHEMA_VERSION}"
            )
        yield event


def _drop_cut_line(path: Path) -> None:
    """Remove a last line that ``kill -9`` cut short, so that appends start on a line of their own."""
    with open(path, "rb+") as file:
        data = file.read()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            file.truncate(end)


def _digests(files: Mapping[str, Any]) -> FileDigests:
    return {name: (int(size), str(sha)) for name, (size, sha) in files.items()}


def _lists(files: FileDigests) -> dict[str, list[Any]]:
    return {name: [size, sha] for name, (size, sha) in sorted(files.items())}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def _show(value: Any) -> str:
    return (
        "(none)" if value is None else json.dumps(value, default=str) if not isinstance(value, str) else value
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = [
    "MANIFEST_FILE",
    "SCHEMA_VERSION",
    "Manifest",
    "ManifestState",
    "RunRecord",
    "TileState",
    "file_digest",
    "file_problems",
    "manifest_path",
    "read_manifest",
    "request_differences",
    "request_hash",
]
