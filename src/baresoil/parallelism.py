"""How many dask tasks to hand the scheduler at once: one per thread that computes.

Writers (``io.cog``) and table products (``products.parcels.markers``) compute their blocks in batches
of about this many, so that memory stays bounded by a batch whatever the area, and every thread has
work.
"""

from __future__ import annotations

import os


def parallelism() -> int:
    """Threads that compute at once: the cluster's when a distributed client is active, else this
    machine's cores."""
    try:
        from distributed import get_client

        return max(1, sum(get_client().nthreads().values()))
    except (ImportError, ValueError):
        return max(1, os.cpu_count() or 1)
