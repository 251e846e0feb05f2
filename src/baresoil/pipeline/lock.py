"""One run per output folder: a lock file naming its owner (pid, host), taken over when its owner is dead.

``OUT/.baresoil/lock.json`` is created exclusively (``O_EXCL``) when a run starts and removed when it
ends, however it ends short of ``kill -9``.  A second run into the same folder finds it and refuses
with a line naming the owner.  A lock left by a run that was killed is *stale*: its owner, on this
host, is no longer running (its pid is gone, or belongs to a process started later), and the next
run takes it over with a warning.  A lock from another host cannot be checked from here: the run
refuses and says which file to remove once that run is known to be dead.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import psutil

from ..errors import OutputError

log = logging.getLogger(__name__)

WORK_DIR = ".baresoil"
"""The output folder's working folder: the lock, blocks in progress, read failures."""
LOCK_FILE = "lock.json"
_UNWRITTEN_GRACE_S = 5.0
"""A lock file still empty after this long was left by a run killed while creating it."""


@dataclass(frozen=True)
class LockOwner:
    run: str
    pid: int
    host: str
    started: str
    """When the run started (ISO, UTC)."""
    process_started: float
    """When the process started (seconds since the epoch): tells a reused pid from the owner."""

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}, since {self.started}"


def new_run_id() -> str:
    """A run's id: its start time and a random part (unique, sortable)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class OutputLock:
    """``with OutputLock(out_dir, run_id):`` holds the folder for one run."""

    def __init__(self, out_dir: Path, run: str) -> None:
        self.path = Path(out_dir) / WORK_DIR / LOCK_FILE
        self.owner = LockOwner(
            run=run,
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            process_started=psutil.Process().create_time(),
        )

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while not self._create():
            with self._takeover_guard():
                holder = read_owner(self.path)
                if holder is None:  # gone meanwhile, or still being written
                    if self.path.exists() and _age(self.path) > _UNWRITTEN_GRACE_S:
                        self.path.unlink(missing_ok=True)
                    else:
                        time.sleep(0.05)
                    continue
                if is_alive(holder):
                    raise OutputError(
                        f"{self.path.parent.parent} is in use by another baresoil run ({holder}); "
                        f"wait for it to end or use another --out"
                        + (
                            f" (if that run is dead, remove {self.path})"
                            if holder.host != socket.gethostname()
                            else ""
                        )
                    )
                log.warning(
                    "%s: taking over the lock of a run that ended without releasing it (%s)",
                    self.path.parent.parent,
                    holder,
                )
                self.path.unlink(missing_ok=True)

    def release(self) -> None:
        holder = read_owner(self.path)
        if holder is not None and holder.run == self.owner.run:
            self.path.unlink(missing_ok=True)

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as file:
            file.write(json.dumps(asdict(self.owner)))
            file.flush()
            os.fsync(file.fileno())
        return True

    def _takeover_guard(self) -> fcntl_lock:
        return fcntl_lock(self.path.with_name(LOCK_FILE + ".guard"))


class fcntl_lock:  # noqa: N801 - used as a context manager, like a function
    """An advisory lock serialising the take-over of a stale lock between runs on this host."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def read_owner(path: Path) -> LockOwner | None:
    """The owner written in a lock file (None when there is none, or it is not written yet)."""
    try:
        return LockOwner(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def is_alive(owner: LockOwner) -> bool:
    """Whether the run holding a lock may still be running (always, for another host's)."""
    if owner.host != socket.gethostname():
        return True
    try:
        process = psutil.Process(owner.pid)
        return abs(process.create_time() - owner.process_started) < 1.0 and process.status() != "zombie"
    except psutil.NoSuchProcess:
        return False


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


__all__ = ["LOCK_FILE", "WORK_DIR", "LockOwner", "OutputLock", "is_alive", "new_run_id", "read_owner"]
