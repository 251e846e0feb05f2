"""A progress bar for dask computations (local scheduler), drawn with rich."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dask.callbacks import Callback
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn


class _RichDaskCallback(Callback):
    def __init__(self, progress: Progress, description: str) -> None:
        super().__init__()
        self._progress = progress
        self._task = progress.add_task(description, total=None)

    def _start_state(self, dsk: Any, state: dict[str, Any]) -> None:
        total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
        self._progress.update(self._task, total=total, completed=len(state["finished"]))

    def _posttask(self, key: Any, result: Any, dsk: Any, state: dict[str, Any], worker_id: Any) -> None:
        self._progress.update(self._task, completed=len(state["finished"]))

    def _finish(self, dsk: Any, state: dict[str, Any], errored: bool) -> None:
        if not errored:
            total = self._progress.tasks[self._task].total
            self._progress.update(self._task, completed=total)


@contextmanager
def dask_progress(description: str, enabled: bool = True) -> Iterator[None]:
    """Show a bar for every dask computation run inside the block (local scheduler)."""
    if not enabled:
        yield
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress, _RichDaskCallback(progress, description):
        yield
