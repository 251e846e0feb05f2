"""Files written under a temporary name and renamed when complete, so a partial output never looks done.

Temporary names are unique to each write (``<name>.<pid>-<random>.partial``): two runs, or two
threads, writing the same file never share one, and the clean-up of one never removes the other's.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError

PARTIAL = ".partial"


def partial_name(path: Path, suffix: str = "") -> Path:
    """A temporary sibling of ``path`` that no other write uses (``suffix`` after ``.partial``)."""
    return path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{PARTIAL}{suffix}")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; it replaces ``path`` when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_name(path)
    try:
        yield partial
        os.replace(partial, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


def remove_partials(folder: Path) -> list[Path]:
    """Remove the temporary files under ``folder`` (left by runs that were killed); returns them.

    Only for a folder no other run is writing to (the caller holds its lock)."""
    removed = []
    for path in folder.rglob(f"*{PARTIAL}*"):
        if path.is_file() and PARTIAL in path.name:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, sha256 hex) of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()
