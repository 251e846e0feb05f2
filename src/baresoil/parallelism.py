"""How many dask tasks to hand the scheduler at once: one per thread that computes.

Writers (``io.cog``) and table products (``products.parcels.markers``) compute their blocks in batches
of about this many, so that memory stays bounded by a batch whatever the area, and every thread has
work.
"""

from __future__ import annotations

import os
import sys


def distributed_in_use() -> bool:
    """Whether a dask.distributed client or worker may be active: only where ``distributed`` was imported
    (a client or a worker imports it), so a local run does not pay its import (half a second) to ask."""
    return "distributed" in sys.modules


def parallelism() -> int:
    """Threads that compute at once: the cluster's when a distributed client is active, else this
    machine's cores."""
    if not distributed_in_use():
        return max(1, os.cpu_count() or 1)
    try:
        from distributed import get_client

        return max(1, sum(get_client().nthreads().values()))
    except (ImportError, ValueError):
        return max(1, os.cpu_count() or 1)
