"""Reading the scenes' COGs so that a run survives faults: odc-stac's rasterio reader, guarded.

odc-stac reads each band of each item for each chunk through a reader driver; :class:`GuardedDriver`
is its rasterio driver with three additions, so every read of pixels in baresoil goes through them:

* **retries**: GDAL retries each HTTP request answered 429/5xx or timed out (``GDAL_HTTP_MAX_RETRY``,
  ``GDAL_HTTP_RETRY_DELAY``, ``GDAL_HTTP_TIMEOUT`` from ``read.*``).  What GDAL does not retry (an
  empty reply, a connection dropped in the middle of a tile, which GDAL reports as a short read and
  keeps in its cache) is read again here, bypassing GDAL's cache, with back-off, until
  ``read.retries`` re-reads or ``read.deadline_s`` are spent.  A retried read gives the same bytes:
  the result is identical to a run without faults.
* **what an unreadable asset does**: one that still fails (corrupt, truncated, 403/404, a timeout past
  the deadline) is a :class:`ReadFailure` naming the item, the band, the href (redacted) and the
  reason.  With ``read.strict`` it ends the run (an :class:`~baresoil.errors.AssetError` with that
  line); otherwise it is recorded in the :class:`FailureJournal` and its pixels are left empty for
  this chunk, and ``cube.load`` takes that scene out of those pixels (no observation there), so the
  observation counts say so.
* **an endpoint that stays down**: a host that has answered nothing for ``read.deadline_s`` while
  reads kept failing is down (:class:`HostDownError`): the run stops instead of skipping every asset.

The driver is pickled into the dask graph, so the same happens on distributed workers; the journal is
a folder of small files that workers write and the run collects (workers share the output's file
system).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np
import rasterio
from odc.geo.geobox import GeoBox
from odc.loader._rio import RioDriver, RioReader, rio_read

from ..config import ReadConfig
from ..errors import AssetError
from ..redact import redact

log = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class AssetRef:
    """What an href is: a band of an item."""

    item: str
    band: str


@dataclass(frozen=True)
class ReadFailure:
    """An asset that could not be read."""

    item: str
    band: str
    href: str
    """Redacted."""
    reason: str
    """One line, redacted."""

    def line(self) -> str:
        return f"item {self.item}: band {self.band} cannot be read ({self.href}): {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


class HostDownError(AssetError):
    """A host has answered nothing for longer than the deadline: nothing more can be read from it."""


class FailureJournal:
    """The read failures of a run: one small JSON file each in ``folder`` (written by whichever process
    read), or in memory when no folder is given (the local scheduler only)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._memory: dict[str, ReadFailure] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["folder"])  # type: ignore[misc]

    def record(self, failure: ReadFailure) -> None:
        """Keep ``failure`` (once per item, band and href)."""
        key = hashlib.sha256(f"{failure.item}|{failure.band}|{failure.href}".encode()).hexdigest()[:20]
        if self.folder is None:
            with self._lock:
                self._memory.setdefault(key, failure)
            return
        path = self.folder / f"{key}.json"
        if path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.partial")
        partial.write_text(json.dumps(failure.to_dict()))
        os.replace(partial, path)

    def failures(self) -> list[ReadFailure]:
        """Every failure recorded so far, by item and band."""
        if self.folder is None:
            with self._lock:
                found = list(self._memory.values())
        else:
            found = [ReadFailure(**json.loads(p.read_text())) for p in sorted(self.folder.glob("*.json"))]
        return sorted(found, key=lambda f: (f.item, f.band, f.href))


def gdal_options(config: ReadConfig) -> dict[str, Any]:
    """GDAL's own HTTP retries and timeouts, and its tile cache, from ``read.*``."""
    # files kept open keep their cached tiles: the cache is bounded as they are (not 5 % of the machine's
    # memory, GDAL's default), unless the user set it
    cache_bytes = max(int(config.open_files_mb * 1e6), 1_000_000)  # rasterio: GDALSetCacheMax64, bytes
    cache = {} if "GDAL_CACHEMAX" in os.environ else {"GDAL_CACHEMAX": cache_bytes}
    return {
        **cache,
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "GDAL_HTTP_MAX_RETRY": str(config.retries),
        "GDAL_HTTP_RETRY_DELAY": f"{config.retry_delay_s:g}",
        "GDAL_HTTP_TIMEOUT": f"{max(1, round(config.timeout_s))}",
        "GDAL_HTTP_CONNECTTIMEOUT": f"{max(1, round(min(config.timeout_s, 10.0)))}",
    }


class GuardedDriver(RioDriver):
    """odc-loader's rasterio driver with retries, failure records and host-down detection."""

    def __init__(self, assets: Mapping[str, AssetRef], config: ReadConfig, journal: FailureJournal) -> None:
        super().__init__()
        self.assets = dict(assets)
        self.config = config
        self.journal = journal

    def capture_env(self) -> dict[str, Any]:
        return {**super().capture_env(), **gdal_options(self.config)}

    def open(self, src: Any, ctx: Any) -> GuardedReader:
        return GuardedReader(src, ctx, self)


class GuardedReader(RioReader):
    """Reads one band of one item for one chunk, as odc-loader's reader does, with the guards."""

    def __init__(self, src: Any, ctx: Any, driver: GuardedDriver) -> None:
        super().__init__(src, ctx)
        self._driver = driver

    def read(
        self, cfg: Any, dst_geobox: GeoBox, *, dst: np.ndarray | None = None, selection: Any = None
    ) -> tuple[tuple[slice, slice], np.ndarray]:
        cfg = dataclasses.replace(cfg, fail_on_error=True)
        result = guarded(
            self._driver,
            str(self._src.uri),
            f"band {self._src.band}",
            lambda: rio_read(self._src, cfg, dst_geobox, dst=dst, selection=selection),
        )
        if result is None:  # left out: nothing read, an empty part of the chunk
            empty = dst[0:0, 0:0] if dst is not None else np.empty((0, 0), dtype=cfg.dtype)
            return np.s_[0:0, 0:0], empty
        return result


def guarded(driver: GuardedDriver, uri: str, band: str, read: Callable[[], _T]) -> _T | None:
    """``read()`` of ``uri`` with the guards: read again while it fails in a way that may pass; None when
    the asset is left out (recorded in the driver's journal), or the run ends (``read.strict``, a host down).
    ``band`` names the asset when the driver's table does not know ``uri``."""
    ref = driver.assets.get(uri, AssetRef("?", band))
    config = driver.config
    host = urlparse(uri).netloc if uri.startswith(("http://", "https://")) else ""
    HOSTS.check(host, config, ref, uri)
    started, delay, attempt = time.monotonic(), config.retry_delay_s, 0
    while True:
        attempt += 1
        fresh = rasterio.Env(CPL_VSIL_CURL_NON_CACHED="/vsicurl/") if attempt > 1 else nullcontext()
        warned: list[str] = []
        try:
            with fresh, GDAL_WARNINGS.capture() as warned:
                result = read()
            if warned:
                raise _GdalWarnedError(warned[0])
            HOSTS.answered(host)
            return result
        except Exception as exc:  # noqa: BLE001 - any failure to read this source is this asset's
            reason = warned[0] if warned else failure_reason(exc)
            kind = fault_kind(reason) if host else None
            elapsed = time.monotonic() - started
            if kind != NETWORK:
                HOSTS.answered(host)  # an answer, if not the one wanted (404, a short tile)
            again = kind == NETWORK or (kind == SHORT_READ and attempt <= config.retries)
            if again and elapsed + delay < config.deadline_s:
                log.debug("item %s band %s: %s; reading again in %.1f s", ref.item, ref.band, reason, delay)
                time.sleep(delay)
                delay = min(2 * delay, config.deadline_s / 4)
                continue
            if kind is not None:
                reason += f" (read {attempt} times in {elapsed:.0f} s)"
            if kind == NETWORK:
                HOSTS.failed(host, started, config, ref, uri, reason)
            _left_out(driver, ReadFailure(ref.item, ref.band, redact(uri), redact(reason)))
            return None


def _left_out(driver: GuardedDriver, failure: ReadFailure) -> None:
    """The failure recorded (its pixels are left empty); or the run ends (strict)."""
    if driver.config.strict:
        raise AssetError(failure.line())
    driver.journal.record(failure)
    level = logging.INFO if driver.journal.folder is not None else logging.WARNING
    log.log(level, "%s: left out", failure.line())


class _GdalWarnedError(Exception):
    """A read that GDAL warned about (a header tag it could not read): its result cannot be trusted."""


class _WarningCapture(logging.Filter):
    """Collects the GDAL warnings that say a read went wrong, per thread, while a read runs.

    GDAL reports some failures only as warnings (``TIFFFetchNormalTag: IO error during reading of
    "GeoKeyDirectory"; tag ignored`` when a connection drops during the header): the file then opens
    without its georeferencing, and what is read from it is wrong."""

    _SIGNS = re.compile(
        r"IO error|Read error|CURL error|HTTP response code|got \d+ bytes|corrupt", re.IGNORECASE
    )

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()
        for name in ("rasterio._env", "rasterio._err"):
            logging.getLogger(name).addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        bucket = getattr(self._local, "bucket", None)
        if bucket is not None and record.levelno >= logging.WARNING:
            message = record.getMessage()
            if self._SIGNS.search(message) and "Retrying" not in message:
                bucket.append(" ".join(message.split()))
                return logging.getLogger().isEnabledFor(logging.DEBUG)  # the read reports it
        return True

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        bucket: list[str] = []
        self._local.bucket = bucket
        try:
            yield bucket
        finally:
            self._local.bucket = None


GDAL_WARNINGS = _WarningCapture()

NETWORK = "network"
SHORT_READ = "short read"
_NETWORK = re.compile(
    r"HTTP (response|error) code( on \S+?)?:? *(0|429|5\d\d)\b|CURL error|timed out|Connection|Empty reply|"
    r"reset by peer",
    re.IGNORECASE,
)
"""GDAL's words for a server error, a timeout, a connection refused or lost: retried until the deadline."""
_SHORT_READ = re.compile(
    r"Read error|IO error|got \d+ bytes|IReadBlock failed|TIFFRead|TIFFFill|TIFFFetch|Read failed|corrupt|"
    r"Cannot read TIFF header|not recognized as (being in )?a supported|does not exist in the file system",
    re.IGNORECASE,
)
"""A tile or header shorter than it should be, or no answer GDAL could open: a connection dropped
mid-answer, or a truncated or corrupt file (which fails every time): read again ``read.retries`` times.
(A 403 or 404 is named as such by GDAL, and is not read again.)"""


def fault_kind(reason: str) -> str | None:
    """NETWORK, SHORT_READ, or None for a failure that will not pass (403, 404, not a GeoTIFF …)."""
    if _NETWORK.search(reason):
        return NETWORK
    if _SHORT_READ.search(reason):
        return SHORT_READ
    return None


def failure_reason(exc: BaseException) -> str:
    """The most telling line of a rasterio/GDAL failure: the first cause GDAL signalled (rasterio's own
    message is often "Read failed. See previous exception for details.")."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for candidate in reversed(chain):
        text = str(candidate).strip()
        if text and "See previous exception" not in text:
            return " ".join(text.splitlines()[0].split())
    return type(exc).__name__


class _HostHealth:
    """When each host last answered a read of this process, and which hosts are down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answered: dict[str, float] = {}
        self._down: dict[str, str] = {}

    def answered(self, host: str) -> None:
        if host:
            with self._lock:
                self._answered[host] = time.monotonic()

    def failed(
        self, host: str, started: float, config: ReadConfig, ref: AssetRef, uri: str, reason: str
    ) -> None:
        """A read begun at ``started`` failed with network errors until its deadline: the host is down when
        it has answered no read of this process since then."""
        with self._lock:
            silent = self._answered.get(host, -float("inf")) < started
        # no other read answered meanwhile (perhaps none was made): ask the host itself, so that one asset
        # that hangs is left out while a host that answers nothing stops the run
        if silent and not _host_answers(uri, config.timeout_s):
            with self._lock:
                self._down[host] = reason
        self.check(host, config, ref, uri)

    def check(self, host: str, config: ReadConfig, ref: AssetRef, uri: str) -> None:
        if not host:
            return
        with self._lock:
            reason = self._down.get(host)
        if reason is not None:
            raise HostDownError(
                f"{redact(host)} has answered nothing for {config.deadline_s:g} s (read.deadline_s), last "
                f"for item {ref.item} band {ref.band} ({redact(uri)}): {redact(reason)}"
            )

    def forget(self) -> None:
        with self._lock:
            self._answered.clear()
            self._down.clear()


def _host_answers(uri: str, timeout_s: float) -> bool:
    """Whether the host of ``uri`` answers a HEAD request of its root (any status but 5xx: a server that
    answers only 'unavailable' is down too)."""
    parts = urlparse(uri)
    try:
        request = urllib.request.Request(f"{parts.scheme}://{parts.netloc}/", method="HEAD")
        with urllib.request.urlopen(request, timeout=min(timeout_s, 10.0)):
            return True
    except urllib.error.HTTPError as answer:
        return answer.code < 500  # an answer, if not a welcome one
    except (OSError, ValueError):
        return False


HOSTS = _HostHealth()
"""This process's view of the hosts it reads from."""


__all__ = [
    "HOSTS",
    "AssetRef",
    "FailureJournal",
    "GuardedDriver",
    "HostDownError",
    "ReadFailure",
    "failure_reason",
    "gdal_options",
    "guarded",
]
