"""Batch jobs: queued in the store, run in the server's threads on the dask scheduler, resumable.

A job's result lives in ``results/<key>`` of the server's folder, ``key`` being that of its request
(:meth:`Request.key`): a job whose identical request already finished reuses the folder at once, and
two identical jobs never write it at the same time (one lock per key).  Progress is the share of
blocks written, reported by the pipeline after each batch; the same report stops a cancelled job
between batches.  At start, jobs found queued are queued again, and jobs found running (the server
stopped under them) are resumed once, keeping their complete tiles; a job that was running at two
stops is marked failed with that reason.
"""

from __future__ import annotations

import logging
import shutil
import threading
import traceback
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..catalog.source import StacSource
from ..errors import BaresoilError
from .execute import is_complete, run_request
from .graph import Request, parse_graph
from .store import JobStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
"""Runs a job gets: the first and one resumption after a server stop."""


class JobCanceled(BaseException):
    """Raised from the progress report of a cancelled job (a BaseException: no ``except Exception``
    on the way swallows it)."""


class _JobLogs(logging.Handler):
    """Routes the records of baresoil's loggers made in a job's thread to that job's log."""

    def __init__(self, store: JobStore) -> None:
        super().__init__(logging.INFO)
        self.store = store
        self.current = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        job_id = getattr(self.current, "job_id", None)
        if job_id is not None:
            level = {"WARNING": "warning", "ERROR": "error", "CRITICAL": "error"}.get(
                record.levelname, "info"
            )
            self.store.log(job_id, level, record.getMessage())


class JobRunner:
    def __init__(
        self, store: JobStore, workdir: Path, collections: Mapping[str, StacSource], workers: int
    ) -> None:
        self.store = store
        self.results = workdir / "results"
        self.collections = collections
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="baresoil-job")
        self.canceled: set[str] = set()
        self.stopping = threading.Event()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.handler = _JobLogs(store)
        package = logging.getLogger("baresoil")
        package.addHandler(self.handler)
        self._level = package.level
        if package.getEffectiveLevel() > logging.INFO:  # jobs' logs hold baresoil's INFO messages
            package.setLevel(logging.INFO)

    def result_dir(self, key: str) -> Path:
        return self.results / key

    def key_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def recover(self) -> None:
        """Queue again what a stopped server left queued or running (see the module's docstring)."""
        for job in self.store.with_status("queued", "running"):
            if job.status == "running" and job.attempts >= MAX_ATTEMPTS:
                reason = f"the server stopped while the job ran, {job.attempts} times; not resumed again"
                self.store.update(job.id, status="error", message=reason)
                self.store.log(job.id, "error", reason)
                continue
            if job.status == "running":
                self.store.log(
                    job.id, "warning", "the server stopped while the job ran: resumed, complete tiles kept"
                )
            self.store.update(job.id, status="queued")
            self.submit(job.id)

    def submit(self, job_id: str) -> Future[None]:
        return self.executor.submit(self._run, job_id)

    def cancel(self, job_id: str) -> None:
        """Stop a queued or running job (a running one at its next batch of blocks)."""
        self.canceled.add(job_id)
        if self.store.set_status_if(job_id, ("created", "queued"), status="canceled", message="canceled"):
            self.store.log(job_id, "info", "canceled before it ran")

    def _report(self, job_id: str, parts: dict[str, tuple[int, int]]):  # type: ignore[no-untyped-def]
        def report(description: str, done: int, total: int) -> None:
            if job_id in self.canceled or self.stopping.is_set():
                raise JobCanceled(job_id)
            parts[description] = (done, total)
            share = sum(d for d, _ in parts.values()) / max(1, sum(t for _, t in parts.values()))
            self.store.update(job_id, progress=round(99.0 * share, 1))

        return report

    def _run(self, job_id: str) -> None:
        try:
            job = self.store.get(job_id)
        except KeyError:
            return  # deleted while queued
        if job.status != "queued" or job_id in self.canceled:
            return
        request = parse_graph(job.process, self.collections)
        self.handler.current.job_id = job_id
        try:
            with self.key_lock(job.result_key):
                self._run_locked(job_id, request, job.attempts)
        finally:
            self.handler.current.job_id = None

    def _run_locked(self, job_id: str, request: Request, attempts: int) -> None:
        out = self.result_dir(request.key())
        if is_complete(out):
            self.store.update(job_id, status="finished", progress=100.0)
            self.store.log(job_id, "info", "an identical request has finished: its result is reused")
            return
        if not self.store.set_status_if(job_id, ("queued",), status="running", attempts=attempts + 1):
            return
        self.store.log(
            job_id, "info", f"{request.family} on {request.collection}, {request.bbox}, {request.period}"
        )
        try:
            items = run_request(request, self.collections, out, self._report(job_id, {}))
        except JobCanceled:
            if self.stopping.is_set() and job_id not in self.canceled:
                self.store.update(job_id, status="queued", attempts=attempts)
                self.store.log(job_id, "info", "the server is stopping: queued again, complete tiles kept")
            else:
                self.store.update(job_id, status="canceled", message="canceled while running")
                self.store.log(
                    job_id, "info", "canceled while running; complete tiles kept for an identical job"
                )
        except BaresoilError as exc:
            self.store.update(job_id, status="error", message=str(exc))
            self.store.log(job_id, "error", str(exc))
        except Exception as exc:  # noqa: BLE001  (a bug must fail the job, not the server's thread)
            log.error("job %s: %s", job_id, "".join(traceback.format_exception(exc)))
            message = f"internal error ({type(exc).__name__}: {exc})"
            self.store.update(job_id, status="error", message=message)
            self.store.log(job_id, "error", message)
        else:
            self.store.update(job_id, status="finished", progress=100.0)
            self.store.log(job_id, "info", f"finished: {len(items)} STAC item(s)")
        finally:
            self.canceled.discard(job_id)

    def run_now(self, request: Request) -> Path:
        """A synchronous request: the result folder, made now unless an identical request made it."""
        out = self.result_dir(request.key())
        with self.key_lock(request.key()):
            if not is_complete(out):
                run_request(request, self.collections, out)
        return out

    def forget(self, job_id: str, key: str) -> None:
        """After a job is deleted: its result folder goes too unless another job refers to it."""
        if self.store.others_with_key(key, job_id) == 0:
            with self.key_lock(key):
                shutil.rmtree(self.result_dir(key), ignore_errors=True)

    def shutdown(self) -> None:
        """Stop: running jobs stop at their next batch and are queued again for the next start."""
        self.stopping.set()
        self.executor.shutdown(wait=True, cancel_futures=True)
        package = logging.getLogger("baresoil")
        package.removeHandler(self.handler)
        package.setLevel(self._level)
