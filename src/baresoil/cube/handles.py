"""Files kept open from one block to the next, within a memory budget.

A cube is read block by block, and every block reads every file of its dates: opened and closed
each time, a file's header is parsed (over HTTP, fetched) once per block, and GDAL drops the
file's decoded tiles when it closes.  Kept open, a file is opened once and GDAL's tile cache
(``GDAL_CACHEMAX``, see :func:`.reader.gdal_options`) serves the tiles a neighbouring block reads
again.  An open file costs memory, its header and its last decoded tile, so files are kept while
their estimated cost fits ``read.open_files_mb``; past it, a file is opened, read and closed as
before.  Files are not evicted to make room: blocks read their files in the same order, and a
cache smaller than that cycle that evicts the oldest would miss every time.

A dataset is used by one thread at a time (rasterio datasets are not thread-safe): each has its
lock, held while a read uses it.  A local file replaced since it was opened (another size, time or
inode) is opened again; a read that fails inside :meth:`OpenFiles.opened` closes the dataset, so
that it is tried again afresh.  :func:`close_open_files` closes them all, at the end of a run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rasterio

from ..spans import span

HEADER_BYTES = 32_000
"""Memory of an open GeoTIFF besides its last decoded tile (measured: 25-30 kB)."""

_Key = tuple[str, int | None]


@dataclass
class _Open:
    dataset: Any
    stamp: object
    cost: int
    lock: threading.Lock = field(default_factory=threading.Lock)


class OpenFiles:
    """Open rasterio datasets by href and overview level, kept while their cost fits a budget."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[_Key, _Open] = {}
        self._cost = 0

    @contextmanager
    def opened(self, href: str, budget_bytes: int, overview_level: int | None = None) -> Iterator[Any]:
        """The dataset of ``href`` (its overview ``overview_level``) for this thread's exclusive use:
        kept open afterwards while the open files' cost stays within ``budget_bytes``.  A read that fails
        inside closes it, so that the read is tried again on a fresh one."""
        key = (href, overview_level)
        try:
            with self._dataset(key, budget_bytes) as dataset:
                yield dataset
        except BaseException:
            self.forget(href, overview_level)  # after its lock is released
            raise

    def forget(self, href: str, overview_level: int | None = None) -> None:
        """Close the kept dataset of ``href`` (its overview ``overview_level``)."""
        with self._lock:
            entry = self._open.pop((href, overview_level), None)
            if entry is not None:
                self._cost -= entry.cost
        if entry is not None:
            with entry.lock:
                entry.dataset.close()

    @contextmanager
    def _dataset(self, key: _Key, budget_bytes: int) -> Iterator[Any]:
        href, overview_level = key
        kept = self._kept(key, _stamp(href))
        if kept is not None:
            with kept.lock:
                if not kept.dataset.closed:  # not closed meanwhile by close_all (another run ended)
                    yield kept.dataset
                    return
        options = {} if overview_level is None else {"overview_level": overview_level}
        with span("open"):
            dataset = rasterio.open(href, "r", sharing=False, **options)
        entry = _Open(dataset, _stamp(href), _cost(dataset))
        if not self._keep(key, entry, budget_bytes):
            with dataset:
                yield dataset
            return
        with entry.lock:
            yield dataset

    def close_all(self) -> None:
        """Close every kept dataset, each once the read using it (another run's, in a server) is done."""
        with self._lock:
            gone, self._open, self._cost = list(self._open.values()), {}, 0
        for entry in gone:
            with entry.lock:
                entry.dataset.close()

    def _kept(self, key: _Key, stamp: object) -> _Open | None:
        with self._lock:
            entry = self._open.get(key)
            if entry is None or entry.stamp == stamp:
                return entry
            del self._open[key]  # the file was replaced: open the new one
            self._cost -= entry.cost
        with entry.lock:
            entry.dataset.close()
        return None

    def _keep(self, key: _Key, entry: _Open, budget_bytes: int) -> bool:
        with self._lock:
            if key in self._open or self._cost + entry.cost > budget_bytes:
                return False  # another thread kept it meanwhile, or no room: close after this read
            self._open[key] = entry
            self._cost += entry.cost
            return True


def _cost(dataset: Any) -> int:
    """Estimated memory of an open dataset once read: its header and one decoded tile."""
    rows, cols = dataset.block_shapes[0]
    return HEADER_BYTES + rows * cols * np.dtype(dataset.dtypes[0]).itemsize


def _stamp(href: str) -> object:
    """What tells a local file replaced: size, modification time and inode; None for a URL (a published
    asset does not change under its name)."""
    if "://" in href and not href.startswith("file://"):
        return None
    try:
        found = os.stat(href.removeprefix("file://"))
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ino)


FILES = OpenFiles()
"""This process's open files."""


def close_open_files() -> None:
    """Close every file kept open."""
    FILES.close_all()


__all__ = ["FILES", "OpenFiles", "close_open_files"]
