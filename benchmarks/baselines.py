"""What reading the input COGs alone costs: the baselines the speed benchmarks compare with."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rasterio


@dataclass(frozen=True)
class CogBaselines:
    megabytes: float
    read_bytes_seconds: float
    """Copying the files' bytes (from the page cache on a warm run: a lower bound only)."""
    decode_seconds: float
    """Decoding each file whole with rasterio, one after another, at native resolution (no warp)."""


def cog_baselines(files: Sequence[str | Path]) -> CogBaselines:
    """Time reading the bytes of ``files``, then decoding them."""
    start = time.perf_counter()
    n_bytes = sum(len(Path(f).read_bytes()) for f in files)
    read_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for f in files:
        with rasterio.open(f) as src:
            src.read(1)
    decode_seconds = time.perf_counter() - start
    return CogBaselines(n_bytes / 1e6, read_seconds, decode_seconds)
