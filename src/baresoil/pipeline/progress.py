"""A progress bar over the blocks a product writes, drawn with rich on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def block_progress(description: str, enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a ``(done, total)`` callback that advances a bar (None when disabled).

    The bar is drawn only on a terminal, so logs and captured output stay clean.
    """
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("blocks"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
