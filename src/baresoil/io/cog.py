"""Cloud-Optimized GeoTIFFs from lazy layers, driven by the product registry.

All layers of a tile are stored in **one** dask computation, so the cube is read
once however many layers and periods are derived from it, and memory is bounded
by the chunks in flight, not by the area.  Blocks are written into a tiled
GeoTIFF under a temporary name, which GDAL then copies into a COG (overviews
included) that replaces the final name only when complete.

Each COG is ready for a GIS: a categorical layer carries the registry's class
colours as its colour table and gets a raster attribute table (``.aux.xml``,
see :mod:`.rat`); every single-band layer gets its QGIS style (``.qml``, see
:mod:`.styles`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import dask.array as da
import numpy as np
import rasterio
import rasterio.shutil
import xarray as xr
from odc.geo.geobox import GeoBox
from rasterio.windows import Window

from ..errors import OutputError
from ..parallelism import distributed_in_use, parallelism
from ..registry import Layer, layer
from ..spans import span
from .atomic import atomic_path, partial_name
from .blocks import BlockStage, block_id
from .rat import rgba, write_attribute_table
from .styles import write_layer_style

COG_BLOCKSIZE = 512
PALETTE_DTYPES = ("uint8", "uint16")
"""Data types a GeoTIFF colour table can go with."""


@dataclass(frozen=True)
class LayerOutput:
    """One layer to write: its registry code, its lazy values and where it goes."""

    code: str
    values: xr.DataArray
    """Physical values, dims (y, x) or (band, y, x); NaN where missing."""
    path: Path
    tags: Mapping[str, str] | None = None


def write_layers(
    outputs: Sequence[LayerOutput],
    geobox: GeoBox,
    on_progress: Callable[[int, int], None] | None = None,
    blocks_per_batch: int | None = None,
    stage: BlockStage | None = None,
) -> list[Path]:
    """Compute and write ``outputs`` (all on ``geobox``) as COGs; returns the final paths.

    Spatial blocks are computed in batches of about one block per thread, every
    layer of a block in the same computation: the cube chunk under a block is
    read once, and memory stays bounded by the batch whatever the area.
    ``on_progress(done, total)`` is called after each batch.  Styles and attribute tables are written
    beside the COGs (see the module's docstring).

    With a ``stage`` (:mod:`.blocks`), blocks go to block files first and blocks the stage already
    holds are not computed again: an interrupted run resumes block by block.
    """
    staged = []
    for out in outputs:
        spec = layer(out.code)
        data = _as_band_first(out.values)
        gtiff = partial_name(out.path, ".gtiff")
        _create_stage(gtiff, spec, geobox, int(data.chunksize[-1]), out.tags or {})
        staged.append((spec, da.map_blocks(spec.encode, data, dtype=spec.dtype), gtiff, out.path))
    try:
        arrays = [s[1] for s in staged]
        arrays = [a.rechunk({1: arrays[0].chunks[1], 2: arrays[0].chunks[2]}) for a in arrays]
        batch = blocks_per_batch or parallelism()
        if stage is None:
            targets: list[Any] = [_WindowWriter(str(s[2])) for s in staged]
            _store_by_blocks(arrays, targets, on_progress, batch)
        else:
            names = [s[3].name for s in staged]
            blocks = _store_by_blocks(
                arrays, [stage.writer(n) for n in names], on_progress, batch, stage.is_done,
                lambda done, seconds: stage.finished(done, names, seconds), stage.planned,
            )  # fmt: skip
            with span("assemble staged blocks"):
                for name, (_, _, gtiff, _) in zip(names, staged, strict=True):
                    stage.assemble(name, gtiff, blocks)
        for spec, _, gtiff, final in staged:
            with span("write COG"):
                _stage_to_cog(gtiff, final, spec)
            with span("write styles"):
                _write_sidecars(spec, final)
    finally:
        for _, _, gtiff, _ in staged:
            gtiff.unlink(missing_ok=True)
    return [s[3] for s in staged]


def _store_by_blocks(
    arrays: Sequence[da.Array],
    targets: Sequence[Any],
    on_progress: Callable[[int, int], None] | None,
    batch: int,
    is_done: Callable[[str], bool] | None = None,
    on_batch: Callable[[list[str], float], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
) -> list[tuple[str, int, int]]:
    """Store the blocks not done yet, ``batch`` at a time; returns every block (id, first row, column)."""
    rows, cols = arrays[0].chunks[1], arrays[0].chunks[2]
    row_edges, col_edges = np.cumsum((0, *rows)), np.cumsum((0, *cols))
    blocks = [(i, j) for i in range(len(rows)) for j in range(len(cols))]
    names = [block_id(int(row_edges[i]), int(col_edges[j])) for i, j in blocks]
    if on_plan is not None:
        on_plan(len(blocks))
    todo = [(b, name) for b, name in zip(blocks, names, strict=True) if is_done is None or not is_done(name)]
    done = len(blocks) - len(todo)
    if on_progress is not None and done:
        on_progress(done, len(blocks))
    for start in range(0, len(todo), batch):
        started = time.monotonic()
        sources, destinations, regions = [], [], []
        for (i, j), _ in todo[start : start + batch]:
            region = (
                slice(None),
                slice(row_edges[i], row_edges[i + 1]),
                slice(col_edges[j], col_edges[j + 1]),
            )
            for array, target in zip(arrays, targets, strict=True):
                sources.append(array.blocks[:, i, j])
                destinations.append(target)
                regions.append(region)
        with span("compute and store blocks (wall)"):
            da.store(sources, destinations, regions=regions, lock=False)
        if on_batch is not None:
            on_batch([name for _, name in todo[start : start + batch]], time.monotonic() - started)
        done += len(todo[start : start + batch])
        if on_progress is not None:
            on_progress(done, len(blocks))
    return [(name, int(row_edges[i]), int(col_edges[j])) for (i, j), name in zip(blocks, names, strict=True)]


def _as_band_first(values: xr.DataArray) -> da.Array:
    if values.ndim == 2:
        values = values.expand_dims("band")
    data = values.transpose(values.dims[0], "y", "x").data
    if not isinstance(data, da.Array):
        data = da.from_array(np.asarray(data), chunks=(-1, 256, 256))
    return data.rechunk({0: -1})


def _create_stage(path: Path, spec: Layer, geobox: GeoBox, chunk: int, tags: Mapping[str, str]) -> None:
    """An empty tiled GeoTIFF whose tiles match the dask chunks (each written once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = max(16, (min(chunk, 1024) // 16) * 16)
    profile = dict(
        driver="GTiff",
        dtype=spec.dtype,
        count=spec.count,
        width=geobox.width,
        height=geobox.height,
        crs=str(geobox.crs),
        transform=geobox.transform,
        nodata=spec.nodata,
        tiled=True,
        blockxsize=block,
        blockysize=block,
        compress="deflate",
        BIGTIFF="IF_SAFER",
    )
    try:
        with rasterio.open(path, "w", **profile) as dst:
            dst.scales = [spec.scale] * spec.count
            dst.offsets = [spec.offset] * spec.count
            if spec.unit:
                dst.units = [spec.unit] * spec.count
            for i, name in enumerate(spec.bands or (spec.code,), start=1):
                dst.set_band_description(i, name)
            dst.update_tags(**_layer_tags(spec), **tags)
            if spec.categorical and spec.dtype in PALETTE_DTYPES:
                dst.write_colormap(1, colour_table(spec))
    except rasterio.errors.RasterioError as exc:
        raise OutputError(f"cannot create {path}: {exc}") from exc


def colour_table(spec: Layer) -> dict[int, tuple[int, int, int, int]]:
    """The COG colour table of a categorical layer: the registry's class colours, nodata transparent."""
    table = {value: rgba(colour) for value, colour in spec.class_colours().items()}
    table[int(spec.nodata)] = (0, 0, 0, 0)
    return table


def _write_sidecars(spec: Layer, final: Path) -> None:
    if spec.categorical:
        write_attribute_table(spec, final)
    write_layer_style(spec.code, final)


def _layer_tags(spec: Layer) -> dict[str, str]:
    tags = {"LAYER": spec.code, "TITLE": spec.title, "DESCRIPTION": spec.description, "FAMILY": spec.family}
    if spec.unit:
        tags["UNITS"] = spec.unit
    if spec.classes:
        tags["CLASSES"] = "; ".join(f"{k}={v}" for k, v in spec.classes.items())
    if spec.flags:
        tags["FLAGS"] = "; ".join(f"{k}={v}" for k, v in spec.flags.items())
    return tags


def _stage_to_cog(stage: Path, final: Path, spec: Layer) -> None:
    predictor = 3 if np.dtype(spec.dtype).kind == "f" else 2
    with atomic_path(final) as partial:
        try:
            rasterio.shutil.copy(
                stage,
                partial,
                driver="COG",
                compress="DEFLATE",
                predictor=predictor,
                blocksize=COG_BLOCKSIZE,
                overview_resampling=spec.overview_resampling,
                BIGTIFF="IF_SAFER",
            )
        except rasterio.errors.RasterioError as exc:
            raise OutputError(f"cannot write {final}: {exc}") from exc


class _WindowWriter:
    """A dask ``store`` target writing blocks into a GeoTIFF by window.

    It holds only the path, so it pickles to distributed workers (which must see
    the same file system); writes to one file are serialised by a lock: a thread
    lock locally, a cluster-wide lock on distributed workers.
    """

    _locks: ClassVar[dict[str, threading.Lock]] = {}
    _guard = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path

    def __setitem__(self, key: tuple[slice, ...], block: np.ndarray) -> None:
        bands, rows, cols = key
        window = Window.from_slices(rows, cols)
        indexes = list(range(bands.start or 0, bands.stop or block.shape[0]))
        with span("store block"), self._lock(), rasterio.open(self.path, "r+") as dst:
            dst.write(block, indexes=[i + 1 for i in indexes], window=window)

    def _lock(self) -> Any:
        try:
            if not distributed_in_use():
                raise ImportError("no dask.distributed worker here")
            from distributed import Lock, get_worker

            get_worker()
            return Lock(f"baresoil-write:{self.path}")
        except (ImportError, ValueError):
            with self._guard:
                return self._locks.setdefault(self.path, threading.Lock())


def read_layer(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a COG written here back as physical values (NaN for nodata) and its profile."""
    with rasterio.open(path) as src:
        stored = src.read()
        profile = dict(src.profile, scales=src.scales, offsets=src.offsets, tags=src.tags())
    spec = layer(profile["tags"]["LAYER"])
    values = spec.decode(stored)
    return (values[0] if spec.count == 1 else values), profile


__all__ = ["LayerOutput", "read_layer", "write_layers"]
