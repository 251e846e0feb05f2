"""Where dask runs: the local threaded scheduler, or an existing distributed cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..cube.handles import close_open_files
from ..errors import BaresoilError
from ..parallelism import distributed_in_use


@contextmanager
def scheduler(address: str | None = None, timeout: float = 10.0) -> Iterator[Any]:
    """Run the enclosed computations on the cluster at ``address`` (or locally when None).

    A ``distributed.Client`` makes itself the default scheduler while it is
    open, so library code calls plain ``dask.compute`` and runs the same on both.
    Workers must see the same file system as the client (outputs are written there), and redact
    secrets from their logs as the client does (:class:`.workers.RedactingWorkers`).
    """
    if not address:
        if distributed_in_use():  # a client the caller made stays the default
            yield None
            return
        import dask
        import dask.threaded

        # what dask picks without a client; given as the function (a name would not do), dask does not
        # import distributed to look for a client, half a second of the command's start
        try:
            with dask.config.set(scheduler=dask.threaded.get):
                yield None
        finally:
            close_open_files()  # the run's files, kept open from block to block (``cube.handles``)
        return
    from distributed import Client

    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise BaresoilError(f"cannot connect to the dask scheduler at {address}: {exc}") from exc
    try:
        from .workers import RedactingWorkers

        client.register_plugin(RedactingWorkers(), name="baresoil-redact")
        yield client
    finally:
        client.close()
