"""What every dask worker of a run sets up (imported only when a cluster is used)."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class RedactingWorkers(WorkerPlugin):
    """Each worker redacts secrets from its logs, warnings and tracebacks, as the client does, and keeps
    the libraries' retry chatter out of them (:func:`baresoil.redact.install`)."""

    idempotent = True

    def setup(self, worker: Any) -> None:
        from ..redact import install

        install()
