"""A loopback HTTP server that serves a folder (with byte ranges, as GDAL reads COGs) and injects faults.

Faults are deterministic: whether a request fails depends only on its path, its byte range and how many
times that same request came before, never on the order in which threads send them, so a run meets the
same faults however its reads interleave.  Every test using it is bounded: the server refuses (HTTP 500)
requests beyond ``max_requests`` and a hanging path hangs at most ``hang_s``.

* ``rate`` and ``kinds``: a share of the requests to paths matching ``pattern`` fail once with one of
  ``kinds``: ``"503"`` (Service Unavailable), ``"drop"`` (headers and half the body, then the connection
  closes) or ``"reset"`` (the connection closes before any answer); the same request sent again has its
  own chance, so retries get through.
* ``permanent``: path suffix -> ``403``, ``404``, ``503`` (every time) or ``"hang"`` (no answer).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass
class Faults:
    rate: float = 0.0
    """Share of requests (to paths matching ``pattern``) failing once."""
    kinds: tuple[str, ...] = ("503",)
    pattern: str = r".*"
    permanent: Mapping[str, int | str] = field(default_factory=dict)
    """Path suffix -> status (403, 404, 503) or ``"hang"``, for every request to it."""
    seed: str = "baresoil"


@dataclass
class Request:
    method: str
    path: str
    query: str
    range: str
    outcome: str
    """``200``, ``206``, ``404`` … or the fault injected (``503``, ``drop``, ``reset``, ``hang``)."""


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, root: Path, faults: Faults, max_requests: int, hang_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.faults = faults
        self.max_requests = max_requests
        self.hang_s = hang_s
        self.requests: list[Request] = []
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def outcome_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(r.outcome for r in self.requests)

    def _fault(self, path: str, byte_range: str) -> str | None:
        """The fault of this request, if any (counting it)."""
        for suffix, kind in self.faults.permanent.items():
            if path.endswith(suffix):
                return str(kind)
        with self._lock:
            attempt = self._seen[(path, byte_range)]
            self._seen[(path, byte_range)] += 1
        if self.faults.rate <= 0 or not re.search(self.faults.pattern, path):
            return None
        digest = hashlib.sha256(f"{self.faults.seed}|{path}|{byte_range}|{attempt}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.faults.rate:
            return None
        return self.faults.kinds[int(draw / self.faults.rate * len(self.faults.kinds))]

    def log(self, request: Request) -> bool:
        """Record a request; False when the budget is spent."""
        with self._lock:
            self.requests.append(request)
            return len(self.requests) <= self.max_requests


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        parsed = urlparse(self.path)
        path = unquote(parsed.path)
        byte_range = self.headers.get("Range", "")
        fault = self.server._fault(path, byte_range)
        file = (self.server.root / path.lstrip("/")).resolve()
        outcome = fault or ("404" if not file.is_file() else "206" if byte_range else "200")
        within_budget = self.server.log(Request(self.command, path, parsed.query, byte_range, outcome))
        if not within_budget:
            return self._status(500, "request budget of the test spent")
        if fault == "hang":
            self.server.stopping.wait(self.server.hang_s)
            self.close_connection = True
            return None
        if fault == "reset":
            self.close_connection = True
            return None
        if fault is not None and fault.isdigit():
            return self._status(int(fault), "injected")
        if not file.is_file() or self.server.root.resolve() not in file.parents:
            return self._status(404, "not found")
        data = file.read_bytes()
        start, end = _parse_range(byte_range, len(data))
        if start >= len(data):
            return self._status(416, "range not satisfiable")
        part = data[start : end + 1]
        self.send_response(206 if byte_range else 200)
        self.send_header("Content-Type", "application/json" if path.endswith(".json") else "image/tiff")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(part)))
        if byte_range:
            self.send_header("Content-Range", f"bytes {start}-{start + len(part) - 1}/{len(data)}")
        self.end_headers()
        if not body:
            return None
        if fault == "drop":
            self.wfile.write(part[: len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        self.wfile.write(part)
        return None

    def _status(self, status: int, text: str) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def _parse_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) byte of a ``bytes=a-b`` range; the whole file without one."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match:
        return 0, size - 1
    first, last = match.groups()
    if not first:  # the last N bytes
        return max(0, size - int(last)), size - 1
    return int(first), min(int(last), size - 1) if last else size - 1


@contextmanager
def serve(
    root: Path, faults: Faults | None = None, max_requests: int = 5000, hang_s: float = 30.0
) -> Iterator[FaultServer]:
    """A fault server on 127.0.0.1 serving ``root`` while the block runs."""
    server = FaultServer(root, faults or Faults(), max_requests, hang_s)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def elapsed(since: float) -> float:
    return time.monotonic() - since
