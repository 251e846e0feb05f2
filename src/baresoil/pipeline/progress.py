"""A progress bar over the blocks a product writes, drawn with rich on stderr, and reported to a caller
(the API's job store) when one listens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ProgressReport = Callable[[str, int, int], None]
"""``(description, done, total)`` after each batch of blocks; it may raise to stop the run between
batches (a cancelled API job)."""


@contextmanager
def block_progress(
    description: str, enabled: bool = True, report: ProgressReport | None = None
) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a ``(done, total)`` callback that advances a bar and calls ``report`` (None when neither).

    The bar is drawn only on a terminal, so logs and captured output stay clean.
    """
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        if report is None:
            yield None
        else:
            yield lambda done, total: report(description, done, total)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("blocks"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            if report is not None:
                report(description, done, total)

        yield update


TileProgress = Callable[[str], Callable[[int, int], None] | None]
"""``description -> (done, total) callback`` (or None): one bar per tile, all tiles under one display."""


@contextmanager
def tiles_progress(enabled: bool = True, report: ProgressReport | None = None) -> Iterator[TileProgress]:
    """As :func:`block_progress`, for tiles computed at the same time: rich draws one live display at
    a time, so every tile gets a bar of the same display."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:

        def quiet(description: str) -> Callable[[int, int], None] | None:
            if report is None:
                return None
            return lambda done, total: report(description, done, total)

        yield quiet
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("blocks"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:

        def bar(description: str) -> Callable[[int, int], None]:
            task = progress.add_task(description, total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)
                if report is not None:
                    report(description, done, total)

            return update

        yield bar
