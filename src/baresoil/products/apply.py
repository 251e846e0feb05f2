"""The one way from a dask-backed cube to a kernel and back.

Kernels work on plain arrays with pixels flattened: ``(time, pixel)``, ``(band, time, pixel)`` or
``(pixel,)``.  Products describe their inputs by dimension names and their outputs by name, and
:func:`per_chunk` runs the kernel once per spatial chunk (all dates in one call), so that the cube is
read once for every output:

* inputs are ``Input(array, dims)`` (or a list of arrays stacked along the first dimension), with
  dims spelled as letters over ``b`` (band), ``t`` (time), ``y`` and ``x``, ``y`` and ``x`` last;
  the other dimensions reach the kernel whole, however they are chunked; an input may be ``None``
  (an optional raster), and the kernel gets ``None`` for it;
* the kernel is called with the inputs' blocks, ``y`` and ``x`` flattened into one pixel axis, in
  the order given, and ``shape=(ny, nx)`` for kernels that need the pixels' neighbours;
* it returns a mapping from output name to an array ``(pixel,)`` or ``(count, pixel)``; the names
  and counts must be those declared (the adapter checks), so no product relies on the order in
  which a kernel stacks its results; they are cast to ``dtype``, what dask is told to expect;
* ``depth`` gives the kernel that many neighbouring pixels around each chunk (none beyond the
  cube's edge), and the chunk's own pixels are kept of what it returns;
* ``prepare``, when given, runs once as a task of its own that every chunk waits for and that waits
  for nothing: numba loads a kernel's machine code from its cache on its first call, half a second or
  more of one thread, which then runs on a thread the reads leave free (with dask's local scheduler,
  beside the last reads) rather than after them.  What it returns is not used, and an exception in it
  is logged and let go: it prepares, it computes nothing.

The result is an ``xr.Dataset`` keyed by output name (with :func:`per_chunk_groups`, one per group
of outputs, such as periods): an output of count 1 is a ``(y, x)`` variable, a larger one
``(band, y, x)`` with the given band names.

Kernels that are not per pixel reach the chunks through the same module:

* :func:`per_field` reduces ``(time, y, x)`` inputs per field of an id raster over every chunk (an
  exact sum, whatever the chunking), calls the kernel once on the fields' sums and paints each field's
  results back onto its pixels;
* :func:`per_block` makes one lazy task per spatial block of a given layout, for kernels whose result
  is not a raster (a table's rows, say), and :func:`compute_batches` computes them a batch at a time;
* :func:`per_neighbourhood` runs an array-to-array kernel (a filter) per chunk with a margin of
  neighbouring pixels and a rule for the array's edges, for results that keep the input's shape;
* :func:`compute` computes several lazy results at once, so that what they share is read once, and
  :func:`at_pixels` reads a lazy raster's values at a few pixels.

No other module of ``products`` builds a dask graph, imports dask or ``cube.blocks``, or calls
``.compute()`` or ``.persist()`` itself (``tests/test_layering.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import dask
import dask.array as da
import numpy as np
import xarray as xr

from ..cube.blocks import map_neighbourhood
from ..spans import span

log = logging.getLogger(__name__)

Lazy = da.Array
"""The lazy array of a cube's variable (products annotate with it; they do not import dask)."""
Task = Any
"""A lazy result that is not an array (a ``dask.delayed``): see :func:`per_block`."""
Layout = tuple[tuple[int, ...], tuple[int, ...]]
"""The chunks of a raster along ``y`` and ``x``."""
Depth = int | Mapping[int, int]
"""Neighbouring pixels a kernel sees around each chunk: the same along every axis, or per axis."""
T = TypeVar("T")

Kernel = Callable[..., Mapping[Any, np.ndarray]]
Outputs = Mapping[str, int]
"""Output name → number of planes (1: a ``(y, x)`` layer, more: ``(band, y, x)``)."""


@dataclass(frozen=True)
class Input:
    """An input of a kernel: a dask or numpy array and its dimensions, e.g. ``"tyx"``.

    ``data`` may also be a sequence of arrays of one shape (the bands of a cube), stacked along a
    new leading dimension, the first of ``dims``."""

    data: Any
    dims: str

    def __post_init__(self) -> None:
        if isinstance(self.data, list | tuple):
            object.__setattr__(self, "data", da.stack([_as_dask(a) for a in self.data]))
        if not self.dims.endswith("yx") or len(set(self.dims)) != len(self.dims):
            raise ValueError(f"input dims {self.dims!r} must be distinct letters ending in 'yx'")
        if self.data.ndim != len(self.dims):
            raise ValueError(f"input of dims {self.dims!r} has {self.data.ndim} dimensions")


def per_chunk(
    kernel: Kernel,
    inputs: Sequence[Input | None],
    outputs: Outputs,
    *,
    y: xr.DataArray | np.ndarray,
    x: xr.DataArray | np.ndarray,
    bands: Sequence[str] = (),
    depth: int = 0,
    dtype: np.dtype[Any] | type = np.float32,
    prepare: Callable[[], object] | None = None,
) -> xr.Dataset:
    """Run ``kernel`` per spatial chunk over ``inputs``: the Dataset of its ``outputs``, keyed by name."""
    [result] = _run(kernel, inputs, [outputs], False, y=y, x=x, bands=bands, depth=depth, dtype=dtype,
                    prepare=prepare)  # fmt: skip
    return result


def per_chunk_groups(
    kernel: Kernel,
    inputs: Sequence[Input | None],
    groups: Sequence[Outputs],
    *,
    y: xr.DataArray | np.ndarray,
    x: xr.DataArray | np.ndarray,
    bands: Sequence[str] = (),
    depth: int = 0,
    dtype: np.dtype[Any] | type = np.float32,
    prepare: Callable[[], object] | None = None,
) -> list[xr.Dataset]:
    """As :func:`per_chunk` for a kernel whose outputs come in groups (periods, say): one Dataset per
    group, and the kernel's mapping keyed by ``(group index, name)``."""
    return _run(kernel, inputs, groups, True, y=y, x=x, bands=bands, depth=depth, dtype=dtype,
                prepare=prepare)  # fmt: skip


def _run(
    kernel: Kernel,
    inputs: Sequence[Input | None],
    groups: Sequence[Outputs],
    keyed: bool,
    *,
    y: xr.DataArray | np.ndarray,
    x: xr.DataArray | np.ndarray,
    bands: Sequence[str],
    depth: int,
    dtype: np.dtype[Any] | type,
    prepare: Callable[[], object] | None,
) -> list[xr.Dataset]:
    declared = [(i, name, count) for i, group in enumerate(groups) for name, count in group.items()]
    n_out = sum(count for _, _, count in declared)
    order = [(i, name) if keyed else name for i, name, _ in declared]
    counts: dict[object, int] = {key: count for key, (_, _, count) in zip(order, declared, strict=True)}
    present = [(k, inp) for k, inp in enumerate(inputs) if inp is not None]
    arrays = [_as_dask(inp.data) for _, inp in present]
    # dask refuses a depth beyond the array; an axis that short is whole in every block (dask makes the
    # chunks at least as large as the depth), so no neighbour is out of reach
    reach = (min(depth, arrays[0].shape[-2]), min(depth, arrays[0].shape[-1]))
    if depth:
        arrays = [
            da.overlap.overlap(a, depth={a.ndim - 2: reach[0], a.ndim - 1: reach[1]}, boundary="none")
            for a in arrays
        ]

    def block(*blocks: np.ndarray) -> np.ndarray:
        if prepare is not None:
            blocks = blocks[1:]  # the prepared flag: only the order of the tasks needed it
        ny, nx = blocks[0].shape[-2:]
        flat: list[np.ndarray | None] = [None] * len(inputs)
        for (k, _), b in zip(present, blocks, strict=True):
            flat[k] = b.reshape(*b.shape[:-2], ny * nx)
        with span("kernels"):
            result = kernel(*flat, shape=(ny, nx))
        missing = set(counts) - set(result)
        extra = set(result) - set(counts)
        if missing or extra:
            raise ValueError(f"kernel outputs differ from those declared: missing {missing}, extra {extra}")
        planes: list[np.ndarray] = []
        for key in order:
            value = np.asarray(result[key])
            value = value.reshape(-1, ny * nx)
            if len(value) != counts[key]:
                raise ValueError(f"kernel output {key!r} has {len(value)} planes, declared {counts[key]}")
            planes.extend(value)
        # as declared to dask, whatever the kernel's own dtypes
        return np.stack(planes).reshape(n_out, ny, nx).astype(dtype, copy=False)

    args: list[object] = []
    if prepare is not None:  # a task of its own, the first argument of every chunk's
        args += [da.from_delayed(dask.delayed(_prepared, pure=True)(prepare), shape=(), dtype=bool), ""]
    for (_, inp), a in zip(present, arrays, strict=True):
        args += [a, inp.dims]
    # the meta spares dask a trial call of the kernel on empty blocks
    meta = np.empty((0, 0, 0), dtype)
    stacked = da.blockwise(block, "oyx", *args, new_axes={"o": n_out}, dtype=dtype, meta=meta,
                           concatenate=True)  # fmt: skip
    if depth:
        stacked = da.overlap.trim_internal(stacked, {1: reach[0], 2: reach[1]}, boundary="none")
    return _split(stacked, groups, y, x, bands)


def _prepared(prepare: Callable[[], object]) -> np.ndarray:
    """Run ``prepare``; a failure is no failure of the run (the chunks compute all the same)."""
    try:
        with span("prepare kernels"):
            prepare()
    except Exception:
        log.debug("preparing the kernels failed; the chunks compute without", exc_info=True)
    return np.array(True)


def as_lazy(data: Any) -> Lazy:
    """``data`` as a lazy array: a dask array as it is (numpy's functions on one give one, but are
    typed as giving an ndarray), anything else as one chunk."""
    return _as_dask(data)


def _as_dask(data: Any) -> da.Array:
    return data if isinstance(data, da.Array) else da.from_array(np.asarray(data), chunks=-1)


def _split(
    stacked: da.Array,
    groups: Sequence[Outputs],
    y: xr.DataArray | np.ndarray,
    x: xr.DataArray | np.ndarray,
    bands: Sequence[str],
) -> list[xr.Dataset]:
    coords = {"y": y, "x": x}
    results = []
    start = 0
    for group in groups:
        layers = {}
        for name, count in group.items():
            data = stacked[start : start + count]
            start += count
            if count == 1:
                layers[name] = xr.DataArray(data[0], coords=coords, dims=("y", "x"))
            else:
                if len(bands) != count:
                    raise ValueError(f"output {name!r} has {count} planes but {len(bands)} band names")
                layers[name] = xr.DataArray(data, coords={"band": list(bands), **coords},
                                            dims=("band", "y", "x"))  # fmt: skip
        results.append(xr.Dataset(layers))
    return results


# --- per field ------------------------------------------------------------------------------------


def per_field(
    kernel: Kernel,
    inputs: Sequence[Input | None],
    fields: Any,
    n_fields: int,
    outputs: Sequence[str],
    *,
    y: xr.DataArray | np.ndarray,
    x: xr.DataArray | np.ndarray,
    dtype: np.dtype[Any] | type = np.float32,
) -> xr.Dataset:
    """Run ``kernel`` once on the per-field sums of ``inputs`` and give each pixel its field's results.

    ``fields`` (y, x) holds ids 0..``n_fields`` (0: no field) on the grid of the inputs, which are
    ``(time, y, x)`` (dims ``"tyx"``).  The kernel gets, per input, an array ``(3, time, field)``
    (``None`` for an absent input): the sum of the finite values of each date and field, their count
    and the field's pixels, summed exactly over every chunk; it returns a mapping from output name to
    a ``(field,)`` array (index = id), and each pixel gets its field's values, cast to ``dtype``."""
    present = [(k, inp) for k, inp in enumerate(inputs) if inp is not None]
    for _, inp in present:
        if inp.dims != "tyx":
            raise ValueError(f"per_field takes (time, y, x) inputs, not {inp.dims!r}")
    ids = _as_dask(fields)
    sums = [_field_sums(_as_dask(inp.data), ids, n_fields) for _, inp in present]
    n_times = [int(_as_dask(inp.data).shape[0]) for _, inp in present]

    def analyse(*blocks: np.ndarray) -> np.ndarray:
        given: list[np.ndarray | None] = [None] * len(inputs)
        for (k, _), block, n_time in zip(present, blocks, n_times, strict=True):
            given[k] = block.reshape(3, n_time, n_fields + 1)
        with span("kernels"):
            result = kernel(*given)
        if set(result) != set(outputs):
            raise ValueError(f"kernel outputs {sorted(result)} differ from those declared {sorted(outputs)}")
        return np.stack([np.asarray(result[name]) for name in outputs])

    results = da.map_blocks(analyse, *sums, chunks=((len(outputs),), (n_fields + 1,)), new_axis=1,
                            dtype=np.float64)  # fmt: skip
    painted = da.blockwise(partial(_paint, dtype=dtype), "lyx", results, "lk", ids, "yx", dtype=dtype,
                           concatenate=True)  # fmt: skip
    coords = {"y": y, "x": x}
    return xr.Dataset({name: xr.DataArray(painted[i], coords=coords, dims=("y", "x"))
                       for i, name in enumerate(outputs)})  # fmt: skip


def _field_sums(values: da.Array, fields: da.Array, n_fields: int) -> da.Array:
    """Per (date, field), flattened: sum of the finite values, their count and all pixels, over all chunks."""
    n_time = values.shape[0]
    return da.blockwise(partial(_block_field_sums, n_fields=n_fields), "oyx", values, "tyx", fields, "yx",
                        new_axes={"o": 3 * n_time * (n_fields + 1)}, adjust_chunks={"y": 1, "x": 1},
                        dtype=np.float64, concatenate=True).sum(axis=(1, 2))  # fmt: skip


def _block_field_sums(values: np.ndarray, ids: np.ndarray, n_fields: int) -> np.ndarray:
    """Per (date, field): sum of valid values, valid pixels and all pixels; flattened, one block."""
    n_time = values.shape[0]
    flat = ids.reshape(-1).astype(np.int64)
    out = np.zeros((3, n_time, n_fields + 1))
    pixels = np.bincount(flat, minlength=n_fields + 1)
    for t in range(n_time):
        v = values[t].reshape(-1)
        clear = np.isfinite(v)
        out[0, t] = np.bincount(flat[clear], weights=v[clear], minlength=n_fields + 1)
        out[1, t] = np.bincount(flat[clear], minlength=n_fields + 1)
        out[2, t] = pixels
    return out.reshape(-1, 1, 1)


def _paint(results: np.ndarray, ids: np.ndarray, dtype: np.dtype[Any] | type) -> np.ndarray:
    """Each pixel gets its field's values."""
    return results[:, ids.astype(np.int64)].astype(dtype)


# --- per block, for results that are not rasters ----------------------------------------------------


def per_block(
    function: Callable[..., T],
    inputs: Sequence[Any],
    layout: Layout,
    blocks: Sequence[tuple[int, int]],
    arguments: Callable[[int, int], Sequence[object]] | None = None,
) -> list[Task]:
    """One lazy ``function(*input blocks, *arguments(i, j))`` per block ``(i, j)`` of ``blocks``.

    Each input is a lazy ``(..., y, x)`` array, a list of them (the function gets the list of their
    blocks) or ``None``; it is rechunked along ``y`` and ``x`` to ``layout`` (once, for all blocks),
    and the function gets block ``(i, j)`` with every leading dimension whole.  A block is read only
    when its task is computed."""
    spatial = [_on_layout(inp, layout) for inp in inputs]
    tasks = []
    for i, j in blocks:
        args = [_block_of(inp, i, j) for inp in spatial]
        extra = arguments(i, j) if arguments is not None else ()
        tasks.append(dask.delayed(function)(*args, *extra))
    return tasks


def _on_layout(inp: Any, layout: Layout) -> Any:
    if inp is None:
        return None
    if isinstance(inp, list | tuple):
        return [_on_layout(a, layout) for a in inp]
    data = _as_dask(inp)
    return data.rechunk({data.ndim - 2: layout[0], data.ndim - 1: layout[1]})


def _block_of(inp: Any, i: int, j: int) -> Any:
    if inp is None:
        return None
    if isinstance(inp, list):
        return [_block_of(a, i, j) for a in inp]
    return inp.blocks[(slice(None),) * (inp.ndim - 2) + (i, j)]


def compute_batches(tasks: Sequence[Task], batch: int) -> Iterator[list[Any]]:
    """The results of ``tasks`` in order, ``batch`` at a time (one compute per batch: memory is bounded
    by a batch, and each batch's tasks run in parallel)."""
    for start in range(0, len(tasks), batch):
        yield list(dask.compute(*tasks[start : start + batch]))


def square_layout(shape: tuple[int, int], size: int) -> Layout:
    """Chunks of ``size`` pixels a side over a ``shape`` (y, x) raster, the last row and column the rest."""
    rows, cols = da.core.normalize_chunks((size, size), shape)
    return tuple(rows), tuple(cols)


def compute(*lazy: Any) -> tuple[Any, ...]:
    """Several lazy results (arrays, tasks) computed at once: what they share is computed once."""
    return tuple(dask.compute(*lazy))


def at_pixels(data: Any, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The values of a ``(..., y, x)`` raster at pixels ``(rows[i], cols[i])``: ``(point, ...)``.

    Only the chunks that hold a pixel are read (dask's point-wise indexing), not the raster."""
    lazy = _as_dask(data)
    pixels = (slice(None),) * (lazy.ndim - 2) + (np.asarray(rows), np.asarray(cols))
    [values] = compute(lazy.vindex[pixels])
    return np.asarray(values)


# --- neighbourhoods, for filters ----------------------------------------------------------------------


def per_neighbourhood(
    kernel: Callable[..., np.ndarray],
    data: Any,
    depth: Depth,
    *,
    boundary: str,
    dtype: np.dtype[Any] | type = np.float32,
    **arguments: Any,
) -> Lazy:
    """``kernel(block, **arguments)`` per chunk of ``data``, the chunk widened by ``depth`` neighbouring
    pixels (per axis, when a mapping) and its own pixels kept of the result, which has the block's shape.

    ``boundary`` is what lies beyond the array's edges: ``"none"`` (nothing, the kernel sees a
    smaller block there), ``"nearest"`` (the edge repeated), ``"reflect"`` or a constant (dask's
    overlap rules).  A depth beyond an axis' size is clipped to it (``cube.blocks``), so the result
    equals the whole-array computation down to an area of one pixel."""
    return map_neighbourhood(kernel, _as_dask(data), depth, boundary=boundary, dtype=dtype, **arguments)
