"""Pure numpy/numba kernels over plain arrays (time first, NaN for missing).

Nothing here imports xarray or dask or does I/O; the labelled, dask-aware
wrappers live with the stages that use them (``cube``, ``products``).

numba's on-disk cache notices when a kernel's own file changes, but not when a
kernel it calls in another module does, and would then run stale machine code.
The compiled kernels are therefore cached in a folder named after the hash of
all the kernel sources: any change to any of them compiles everything afresh.
A ``NUMBA_CACHE_DIR`` set by the user wins.

The few kernels that split their pixels over the cores (``parallel=True``, where one block of a small
area would otherwise keep one core busy) run on a thread-safe threading layer (OpenMP, or TBB where
installed): the scheduler's threads may call them at the same time, which numba's default workqueue
layer does not survive.  Where neither loads they run serially (:func:`parallel_kernel`).  A
``NUMBA_THREADING_LAYER`` set by the user wins.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])


def _cache_by_source_hash() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).parent
    digest = hashlib.sha1(b"".join(path.read_bytes() for path in sorted(here.glob("*.py")))).hexdigest()
    numba.config.CACHE_DIR = str(here / "__pycache__" / f"numba-{digest[:12]}")  # type: ignore[attr-defined]


THREADSAFE_LAYERS = ("numba.np.ufunc.omppool", "numba.np.ufunc.tbbpool")
"""numba's thread-safe threading layers: OpenMP (needs the system's libgomp, which comes with gcc) and TBB
(needs the ``tbb`` package)."""


def threadsafe_layer_loads(modules: Sequence[str] = THREADSAFE_LAYERS) -> bool:
    """Whether one of numba's thread-safe threading layers can be loaded on this machine."""
    for module in modules:
        try:
            import_module(module)
        except (ImportError, OSError):
            continue
        return True
    return False


_cache_by_source_hash()
USER_LAYER = os.environ.get("NUMBA_THREADING_LAYER", "")
PARALLEL = bool(USER_LAYER) or threadsafe_layer_loads()
"""Whether the kernels made with :func:`parallel_kernel` split their pixels over the cores.  Without a
thread-safe layer (a machine with neither libgomp nor TBB) they run serially, with the same results:
numba's workqueue layer ends the process when two of the scheduler's threads launch a parallel kernel at
once."""
if not USER_LAYER:
    numba.config.THREADING_LAYER = "threadsafe"  # type: ignore[attr-defined]


def parallel_kernel(func: F) -> F:
    """A numba kernel whose ``numba.prange`` loops run on every core where :data:`PARALLEL` (else as
    ``range``); cached, and releasing the GIL."""
    return numba.njit(cache=True, nogil=True, parallel=PARALLEL)(func)  # type: ignore[return-value]


def pixel_stripes(n_pixels: int) -> int:
    """How many stripes a parallel kernel splits ``n_pixels`` into: several per thread, so that a thread
    finishing early takes another (the results do not depend on it: pixels are independent)."""
    return max(1, min(n_pixels, 8 * numba.get_num_threads()))
