"""Blocks of a tile's layers staged as files, so that an interrupted run redoes only unfinished blocks.

While a tile is computed, each spatial block of each layer is written to its own small file
(``<folder>/<layer file>/<row>_<col>.npy.z``: the encoded values as ``.npy``, zlib-compressed) under a
temporary name and renamed when complete.  Once every layer of a block is there, the block is done:
the pipeline records it (``on_done``) with each file's size and checksum.  A rerun is handed the
blocks recorded and verified, and computes only the others.  When all blocks are there they are
assembled into the layers' GeoTIFFs, which become the COGs, and the block files are removed.

The writers hold only a path, so they pickle to distributed workers (which must see the output's file
system); every block is its own file, so no two writes share one.
"""

from __future__ import annotations

import io
import os
import shutil
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from ..errors import OutputError
from ..spans import span
from .atomic import file_digest, partial_name

BLOCK_SUFFIX = ".npy.z"
BlockDone = Callable[[str, dict[str, tuple[int, str]], float], None]
"""(block id, {layer file: (size, sha256)}, seconds) -> None: called when a block is complete."""


def block_id(row: int, col: int) -> str:
    """A block's name: the row and column of its first pixel."""
    return f"{row}_{col}"


class BlockStage:
    """The staged blocks of one tile's layers."""

    def __init__(
        self,
        folder: Path,
        done: Iterable[str] = (),
        on_plan: Callable[[int], None] | None = None,
        on_done: BlockDone | None = None,
    ) -> None:
        self.folder = folder
        self.done = set(done)
        """Blocks already staged (recorded and verified by the caller)."""
        self.on_plan = on_plan
        self.on_done = on_done

    def planned(self, total: int) -> None:
        """The layers are cut into ``total`` blocks."""
        if self.on_plan is not None:
            self.on_plan(total)

    def is_done(self, block: str) -> bool:
        return block in self.done

    def writer(self, layer_file: str) -> BlockWriter:
        return BlockWriter(str(self.folder / layer_file))

    def finished(self, blocks: Sequence[str], layer_files: Sequence[str], seconds: float) -> None:
        """``blocks`` have been written for every layer: record them."""
        for block in blocks:
            files = {
                f"{name}/{block}{BLOCK_SUFFIX}": file_digest(self._path(name, block)) for name in layer_files
            }
            self.done.add(block)
            if self.on_done is not None:
                self.on_done(block, files, seconds / max(1, len(blocks)))

    def assemble(self, layer_file: str, target: Path, blocks: Sequence[tuple[str, int, int]]) -> None:
        """Write every block of ``layer_file`` into the GeoTIFF ``target`` (``blocks``: id, row, col)."""
        with rasterio.open(target, "r+") as dst:
            for block, row, col in blocks:
                values = read_block(self._path(layer_file, block))
                window = Window(col, row, values.shape[-1], values.shape[-2])
                dst.write(values, indexes=list(range(1, values.shape[0] + 1)), window=window)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, layer_file: str, block: str) -> Path:
        return self.folder / layer_file / f"{block}{BLOCK_SUFFIX}"


class BlockWriter:
    """A dask ``store`` target writing each block it is given to its own file."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __setitem__(self, key: tuple[slice, ...], values: np.ndarray) -> None:
        with span("store block"):
            self._store(key, values)

    def _store(self, key: tuple[slice, ...], values: np.ndarray) -> None:
        _, rows, cols = key
        path = Path(self.folder) / f"{block_id(rows.start or 0, cols.start or 0)}{BLOCK_SUFFIX}"
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(values), allow_pickle=False)
        partial = partial_name(path)
        try:
            partial.write_bytes(zlib.compress(buffer.getvalue(), 1))
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise OutputError(f"cannot write {path}: {exc}") from exc


def read_block(path: Path) -> np.ndarray:
    try:
        values: np.ndarray = np.load(io.BytesIO(zlib.decompress(path.read_bytes())), allow_pickle=False)
    except (OSError, ValueError, zlib.error) as exc:
        raise OutputError(f"cannot read the staged block {path}: {exc}") from exc
    return values


__all__ = ["BLOCK_SUFFIX", "BlockStage", "BlockWriter", "block_id", "read_block"]
