"""Peak memory of the running benchmark process."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MB.

    Read from ``VmHWM`` in ``/proc/self/status``: ``ru_maxrss`` is not the peak of
    this program, since Linux carries it across ``exec`` and a benchmark child
    started by a parent holding a gigabyte would report the parent's gigabyte.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: the best there is
