"""The markers database (Sen4CAP's MDB1): per parcel and observation, statistics of every band and index.

For each parcel, observation date and feature — Sentinel-2 B02 … B12, NDVI, NDTI,
NDMI, BSI, FCOVER (clear-sky pixels only) and, when given, Sentinel-1 VV and VH
in dB — the mean, population standard deviation, min, max, median, quartiles
(linear interpolation) and count of the valid pixels inside the (buffered) parcel.

How: the parcel codes are rasterised on the cube's grid with the cube's chunks;
each spatial block (all dates) is one task that sorts its parcel pixels by code
and reduces every segment in one compiled pass (:mod:`baresoil.kernels.groupstats`).
A parcel lying in one block is finished there.  A parcel split over several
blocks sends its pixel values (only those) back, and is reduced exactly once all
its blocks are in, so medians and quartiles are those of all its pixels, not a
merge of per-block quantiles.  Blocks go in batches of about one per thread and
in row order, so split parcels are finished and freed a block row later:
memory is bounded by a batch and a row of split parcels, not by the area.

Long table (:data:`MARKER_COLUMNS`): ``parcel_id`` (as in the parcel file),
``date`` (observation day, UTC), ``source`` (``S2``/``S1``), ``feature``,
``mean``, ``std``, ``min``, ``max``, ``median``, ``p25``, ``p75`` (float32) and
``count`` (int32, valid pixels).  A parcel-date without any valid pixel (cloud)
has no row.  :func:`wide_markers` gives Sen4CAP's wide layout and column names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from ...catalog.layouts import REFLECTANCE_BANDS
from ...inputs.parcels import ParcelSet
from ...kernels.fcover import INPUT_BANDS as FCOVER_BANDS
from ...kernels.fcover import fcover_nadir
from ...kernels.groupstats import STATS, grouped_stats, sort_by_label
from ...kernels.indices import ndti, ndvi, normalized_difference
from ...parallelism import parallelism
from ..apply import Task, compute, compute_batches, per_block
from .tables import PixelNdvi

S2, S1 = "S2", "S1"
S2_FEATURES: tuple[str, ...] = (*REFLECTANCE_BANDS, "NDVI", "NDTI", "NDMI", "BSI", "FCOVER")
S1_FEATURES: tuple[str, ...] = ("VV", "VH")
SNOW = "SNOW"
"""S2 feature counting the parcel's pixels Sen2Cor flagged snow (count; mean 1): not clear, so no other
feature has them, but a view of snow is a view of the parcel not bare."""
STAT_COLUMNS = STATS
MARKER_COLUMNS: tuple[str, ...] = ("parcel_id", "date", "source", "feature", *STAT_COLUMNS)
"""Columns of the long markers table, in order."""
FEATURE_UNITS = {**{b: "reflectance" for b in REFLECTANCE_BANDS}, "NDVI": "1", "NDTI": "1", "NDMI": "1",
                 "BSI": "1", "FCOVER": "fraction", "VV": "dB", "VH": "dB", SNOW: "pixels"}  # fmt: skip

# Sen4CAP MDB1 column naming: <YYYYMMDD>_<stat>_<file type>[_<polarisation>][_<band>]
SEN4CAP_ID = "NewID"
SEN4CAP_STATS = {"mean": "mean", "std": "stdev", "min": "min", "max": "max", "median": "median",
                 "p25": "p25", "p75": "p75", "count": "valid_pixels_cnt"}  # fmt: skip

Progress = Callable[[int, int], None]


def bsi(B02: np.ndarray, B04: np.ndarray, B08: np.ndarray, B11: np.ndarray) -> np.ndarray:
    """Bare soil index ((SWIR1 + red) − (NIR + blue)) / ((SWIR1 + red) + (NIR + blue))."""
    return normalized_difference(B11 + B04, B08 + B02)


def ndmi(B08: np.ndarray, B11: np.ndarray) -> np.ndarray:
    """Normalised difference moisture index (NIR − SWIR1) / (NIR + SWIR1)."""
    return normalized_difference(B08, B11)


# --- where the parcels lie among the blocks --------------------------------------------------


@dataclass(frozen=True)
class CodeBlocks:
    """Which parcel codes each spatial block holds (row-major), and the pixels of each code."""

    chunks: tuple[tuple[int, ...], tuple[int, ...]]
    block_codes: tuple[np.ndarray, ...]
    """Sorted codes (> 0) of each block."""
    totals: np.ndarray
    """Pixels per code (index = code)."""
    split: np.ndarray
    """Codes found in more than one block (sorted)."""

    @property
    def n_blocks(self) -> int:
        return len(self.block_codes)


def code_blocks(codes: xr.DataArray) -> CodeBlocks:
    """Scan the (lazy) code raster once: codes per block and pixels per code."""
    data = codes.data
    layout = (tuple(data.chunks[0]), tuple(data.chunks[1]))
    rows, cols = layout
    found = compute(*per_block(_unique_counts, [data], layout, [(i, j) for i in range(len(rows))
                                                                for j in range(len(cols))]))  # fmt: skip
    n = max([int(u.max()) for u, _ in found if u.size] + [0])
    totals = np.zeros(n + 1, np.int64)
    seen = np.zeros(n + 1, np.int64)
    for unique, counts in found:
        totals[unique] += counts
        seen[unique] += 1
    split = np.flatnonzero(seen > 1)
    return CodeBlocks(
        chunks=layout,
        block_codes=tuple(u for u, _ in found),
        totals=totals,
        split=split,
    )


def _unique_counts(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, counts = np.unique(block, return_counts=True)
    keep = unique > 0
    return unique[keep].astype(np.int64), counts[keep].astype(np.int64)


# --- per block ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockResult:
    """What one block gives: finished parcels and the raw values of its share of split parcels."""

    codes: np.ndarray
    """Codes of the parcels finished here (G,)."""
    stats: np.ndarray
    """(G, feature, time, 8) float32 in the order of STATS."""
    split_codes: np.ndarray
    """Code of each pixel of a split parcel (m,)."""
    split_values: np.ndarray
    """(feature, time, m) float32 values of those pixels."""
    pixels: np.ndarray | None = None
    """Flat indices inside the block of its parcel pixels (n,), when the pass keeps their NDVI."""
    ndvi: np.ndarray | None = None
    """(time, n) float32 NDVI of those pixels, NaN where not clear (any band may be missing)."""


def _s2_features(
    bands: dict[str, np.ndarray], clear: np.ndarray, sun: np.ndarray, snow: np.ndarray | None = None
) -> Iterator[np.ndarray]:
    """S2 features of (time, pixel) arrays, NaN where not clear or a band is missing."""
    valid = clear.copy()
    for band in REFLECTANCE_BANDS:
        valid &= np.isfinite(bands[band])

    def masked(values: np.ndarray) -> np.ndarray:
        return np.where(valid, values, np.nan).astype(np.float32)

    for band in REFLECTANCE_BANDS:
        yield masked(bands[band])
    yield masked(ndvi(bands["B04"], bands["B08"]))
    yield masked(ndti(bands["B11"], bands["B12"]))
    yield masked(ndmi(bands["B08"], bands["B11"]))
    yield masked(bsi(bands["B02"], bands["B04"], bands["B08"], bands["B11"]))
    yield masked(fcover_nadir({b: bands[b] for b in FCOVER_BANDS}, sun[:, None]))
    if snow is not None:
        yield np.where(snow, 1.0, np.nan).astype(np.float32)


def _s2_block(
    bands: Sequence[np.ndarray], clear: np.ndarray, codes: np.ndarray, snow: np.ndarray | None,
    split: np.ndarray, sun: np.ndarray, n_features: int, keep_ndvi: bool,
) -> BlockResult:  # fmt: skip
    inside = np.flatnonzero(codes.ravel() > 0)
    n_time = clear.shape[0]
    flat = {b: a.reshape(n_time, -1)[:, inside] for b, a in zip(REFLECTANCE_BANDS, bands, strict=True)}
    clear_px = clear.reshape(n_time, -1)[:, inside]
    snow_px = None if snow is None else snow.reshape(n_time, -1)[:, inside]
    features = _s2_features(flat, clear_px, sun, snow_px)
    result = _reduce_block(features, n_features, n_time, codes.ravel()[inside], split)
    if not keep_ndvi:
        return result
    # clear alone, not every band: a view missing a SWIR band still shows the NDVI
    pixel_ndvi = np.where(clear_px, ndvi(flat["B04"], flat["B08"]), np.nan).astype(np.float32)
    return replace(result, pixels=inside, ndvi=pixel_ndvi)


def _s1_block(bands: Sequence[np.ndarray], codes: np.ndarray, split: np.ndarray) -> BlockResult:
    inside = np.flatnonzero(codes.ravel() > 0)
    n_time = bands[0].shape[0]
    features = (a.reshape(n_time, -1)[:, inside].astype(np.float32) for a in bands)
    return _reduce_block(features, len(S1_FEATURES), n_time, codes.ravel()[inside], split)


def _reduce_block(
    features: Iterator[np.ndarray], n_features: int, n_time: int, codes: np.ndarray, split: np.ndarray
) -> BlockResult:
    order, groups, starts = sort_by_label(codes)
    whole = ~np.isin(groups, split)
    pixel_split = np.isin(codes, split)
    stats = np.empty((int(whole.sum()), n_features, n_time, len(STATS)), np.float32)
    split_values = np.empty((n_features, n_time, int(pixel_split.sum())), np.float32)
    for f, values in enumerate(features):
        stats[:, f] = grouped_stats(values[:, order], starts)[whole]
        split_values[f] = values[:, pixel_split]
    return BlockResult(groups[whole], stats, codes[pixel_split], split_values)


# --- all blocks ------------------------------------------------------------------------------


@dataclass
class _Source:
    """One source's block tasks and the shape of its results."""

    name: str
    features: tuple[str, ...]
    dates: np.ndarray
    blocks: list[int]
    """Indices of the blocks holding parcels."""
    tasks: list[Task]
    """Their lazy BlockResults."""


def parcel_markers(
    cube: xr.Dataset,
    codes: xr.DataArray,
    parcels: ParcelSet,
    s1: xr.Dataset | None = None,
    layout: CodeBlocks | None = None,
    on_progress: Progress | None = None,
    batch: int | None = None,
) -> pd.DataFrame:
    """The long markers table of ``parcels`` (codes rasterised on the cube's grid) over ``cube``
    (and ``s1``, on the same grid).  See the module docstring for the columns."""
    return markers_pass(cube, codes, parcels, s1, layout, on_progress, batch).table


def markers_pass(
    cube: xr.Dataset,
    codes: xr.DataArray,
    parcels: ParcelSet,
    s1: xr.Dataset | None = None,
    layout: CodeBlocks | None = None,
    on_progress: Progress | None = None,
    batch: int | None = None,
    keep_ndvi: bool = False,
) -> Markers:
    """:func:`parcel_markers`' table and, with ``keep_ndvi``, the NDVI of every parcel pixel from the
    same reads (``Markers.pixel_ndvi``): one read of the scenes serves the markers and heterogeneity."""
    layout = layout or code_blocks(codes)
    sources = [_s2_source(cube, codes, layout, keep_ndvi)]
    if s1 is not None:
        sources.append(_s1_source(s1, codes, layout))
    total = sum(len(s.tasks) for s in sources)
    done = 0
    frames = []
    batch = batch or parallelism()
    kept = _NdviPieces(layout) if keep_ndvi else None
    for source in sources:
        merger = _SplitMerger(layout, len(source.features), len(source.dates))
        indices = iter(source.blocks)
        for results in compute_batches(source.tasks, batch):
            chunk = [next(indices) for _ in results]
            for index, result in zip(chunk, results, strict=True):
                frames.append(_rows(result.codes, result.stats, source, parcels))
                merger.add(index, result)
                if kept is not None and result.ndvi is not None:
                    kept.add(index, result)
            codes_ready, stats_ready = merger.finish_ready()
            frames.append(_rows(codes_ready, stats_ready, source, parcels))
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
    pixel_ndvi = kept.assemble(_days(cube).astype(np.int64)) if kept is not None else None
    return Markers(_assemble(frames), pixel_ndvi)


@dataclass(frozen=True)
class Markers:
    """What the markers pass gives: the long table and, when asked, the parcel pixels' NDVI."""

    table: pd.DataFrame
    """The long markers table (:data:`MARKER_COLUMNS`)."""
    pixel_ndvi: PixelNdvi | None = None


class _NdviPieces:
    """The parcel pixels' NDVI of each block, put back in the grid's row-major pixel order."""

    def __init__(self, layout: CodeBlocks) -> None:
        rows, cols = layout.chunks
        self.row0 = np.cumsum((0, *rows))[:-1]
        self.col0 = np.cumsum((0, *cols))[:-1]
        self.widths = cols
        self.width = int(sum(cols))
        self.flat: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def add(self, block: int, result: BlockResult) -> None:
        assert result.pixels is not None and result.ndvi is not None
        i, j = divmod(block, len(self.widths))
        row, col = np.divmod(result.pixels, self.widths[j])
        self.flat.append((self.row0[i] + row) * self.width + self.col0[j] + col)
        self.values.append(result.ndvi)

    def assemble(self, days: np.ndarray) -> PixelNdvi:
        """The pieces in one (time, pixel) array, each freed once placed: the array and the pieces are
        held at once, not a third copy."""
        flat = np.sort(np.concatenate(self.flat)) if self.flat else np.zeros(0, np.int64)
        values = np.empty((days.size, flat.size), np.float32)
        while self.flat:
            values[:, np.searchsorted(flat, self.flat.pop())] = self.values.pop()
        return PixelNdvi(days, flat, values)


def _s2_source(cube: xr.Dataset, codes: xr.DataArray, layout: CodeBlocks, keep_ndvi: bool) -> _Source:
    snow = cube["snow"].data if "snow" in cube else None
    features = S2_FEATURES if snow is None else (*S2_FEATURES, SNOW)
    sun = cube["sun_elevation"].values.astype(np.float64)
    indices, where = _parcel_blocks(layout)
    inputs = [[cube[b].data for b in REFLECTANCE_BANDS], cube["clear"].data, codes.data, snow]

    def arguments(i: int, j: int) -> tuple[object, ...]:
        return _split_codes(layout, i, j), sun, len(features), keep_ndvi

    tasks = per_block(_s2_block, inputs, layout.chunks, where, arguments)
    return _Source(S2, features, _days(cube), indices, tasks)


def _s1_source(s1: xr.Dataset, codes: xr.DataArray, layout: CodeBlocks) -> _Source:
    if s1.odc.geobox != codes.odc.geobox:
        raise ValueError("the Sentinel-1 cube must lie on the grid of the parcel codes")
    indices, where = _parcel_blocks(layout)
    inputs = [[s1[b].data for b in S1_FEATURES], codes.data]

    def arguments(i: int, j: int) -> tuple[object, ...]:
        return (_split_codes(layout, i, j),)

    tasks = per_block(_s1_block, inputs, layout.chunks, where, arguments)
    return _Source(S1, S1_FEATURES, _days(s1), indices, tasks)


def _parcel_blocks(layout: CodeBlocks) -> tuple[list[int], list[tuple[int, int]]]:
    """Indices and (row, column) of the blocks holding parcels: no other block of the cube is read."""
    found = [(index, ij) for index, ij in enumerate(_block_indices(layout)) if layout.block_codes[index].size]
    return [index for index, _ in found], [ij for _, ij in found]


def _split_codes(layout: CodeBlocks, i: int, j: int) -> np.ndarray:
    """The split parcels of block (i, j)."""
    index = i * len(layout.chunks[1]) + j
    return np.intersect1d(layout.block_codes[index], layout.split)


def _block_indices(layout: CodeBlocks) -> list[tuple[int, int]]:
    rows, cols = layout.chunks
    return [(i, j) for i in range(len(rows)) for j in range(len(cols))]


def _days(cube: xr.Dataset) -> np.ndarray:
    return cube.time.values.astype("datetime64[D]")


class _SplitMerger:
    """Collects the pieces of split parcels and reduces each once all its blocks are in."""

    def __init__(self, layout: CodeBlocks, n_features: int, n_time: int) -> None:
        self.remaining = np.zeros(layout.totals.size, np.int64)
        for codes in layout.block_codes:
            self.remaining[np.intersect1d(codes, layout.split)] += 1
        self.block_codes = layout.block_codes
        self.split = layout.split
        self.shape = (n_features, n_time)
        self.pieces: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, block: int, result: BlockResult) -> None:
        self.remaining[np.intersect1d(self.block_codes[block], self.split)] -= 1
        if result.split_codes.size:
            self.pieces.append((result.split_codes, result.split_values))

    def finish_ready(self) -> tuple[np.ndarray, np.ndarray]:
        """Codes whose every block has been seen, and their statistics."""
        empty = (np.zeros(0, np.int64), np.zeros((0, *self.shape, len(STATS)), np.float32))
        if not self.pieces:
            return empty
        all_codes = np.concatenate([c for c, _ in self.pieces])
        ready = np.unique(all_codes[self.remaining[all_codes] == 0])
        if ready.size == 0:
            return empty
        take_codes, take_values, keep = [], [], []
        for codes, values in self.pieces:
            mine = np.isin(codes, ready)
            take_codes.append(codes[mine])
            take_values.append(values[:, :, mine])
            if not mine.all():
                keep.append((codes[~mine], values[:, :, ~mine]))
        self.pieces = keep
        codes = np.concatenate(take_codes)
        values = np.concatenate(take_values, axis=2)
        order, groups, starts = sort_by_label(codes)
        stats = np.empty((groups.size, *self.shape, len(STATS)), np.float32)
        for f in range(self.shape[0]):
            stats[:, f] = grouped_stats(values[f][:, order], starts)
        return groups, stats


def _rows(codes: np.ndarray, stats: np.ndarray, source: _Source, parcels: ParcelSet) -> pd.DataFrame:
    """Long rows (count > 0) of (group, feature, time, stat) statistics."""
    g, f, t = np.nonzero(stats[..., STATS.index("count")] > 0)
    values = stats[g, f, t]
    frame = {
        "code": codes[g].astype(np.int64),
        "date": source.dates[t],
        "source": np.full(g.size, source.name, dtype=object),
        "feature": np.asarray(source.features, dtype=object)[f],
    }
    for k, stat in enumerate(STATS):
        frame[stat] = values[:, k].astype(np.int32 if stat == "count" else np.float32)
    table = pd.DataFrame(frame)
    table.insert(0, "parcel_id", parcels.id_of_code(table["code"].to_numpy()) if len(table) else [])
    return table


def _assemble(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_markers()
    table = pd.concat(frames, ignore_index=True)
    order = {name: k for k, name in enumerate((*S2_FEATURES, SNOW, *S1_FEATURES))}
    table["_source"] = table["source"].map({S2: 0, S1: 1})
    table["_feature"] = table["feature"].map(order)
    table = table.sort_values(["code", "_source", "date", "_feature"], kind="stable")
    table["date"] = pd.to_datetime(table["date"]).astype("datetime64[s]")
    return table[list(MARKER_COLUMNS)].reset_index(drop=True)


def empty_markers() -> pd.DataFrame:
    """A markers table without rows (the schema of :func:`parcel_markers`)."""
    columns: dict[str, pd.Series] = {
        "parcel_id": pd.Series(dtype=object),
        "date": pd.Series(dtype="datetime64[s]"),
        "source": pd.Series(dtype=object),
        "feature": pd.Series(dtype=object),
    }
    for stat in STATS:
        columns[stat] = pd.Series(dtype=np.int32 if stat == "count" else np.float32)
    return pd.DataFrame(columns)


# --- Sen4CAP's wide layout -----------------------------------------------------------------


def sen4cap_column(day: np.datetime64, stat: str, source: str, feature: str) -> str:
    """MDB1 column name: ``<YYYYMMDD>_<stat>_<file type>[_<pol>][_<band>]``.

    Bands are ``L2A`` with Sen4CAP's band names (``B2`` … ``B8A``), indices their own
    name (``NDVI``, ``FCOVER`` …), backscatter ``AMP`` with the polarisation; the MGRS
    tile and orbit of Sen4CAP's names are left out (markers here are on the EEA grid
    and merge tiles).
    """
    text = pd.Timestamp(day).strftime("%Y%m%d")
    name = SEN4CAP_STATS[stat]
    if source == S1:
        return f"{text}_{name}_AMP_{feature}"
    if feature in REFLECTANCE_BANDS:
        return f"{text}_{name}_L2A_{_sen4cap_band(feature)}"
    return f"{text}_{name}_{feature}"


def _sen4cap_band(band: str) -> str:
    return "B" + band[1:].lstrip("0") if band[1:].isdigit() else band


def wide_markers(markers: pd.DataFrame, parcels: ParcelSet, stats: Sequence[str] = STATS) -> gpd.GeoDataFrame:
    """One row per parcel (``NewID``), one column per date, statistic and feature, Sen4CAP's names;
    with the parcel geometry (EPSG:3035).  Columns in date order, then source, feature, statistic."""
    frame = parcels.frame
    out = gpd.GeoDataFrame({SEN4CAP_ID: frame["parcel_id"].to_numpy()}, geometry=frame.geometry.to_numpy(),
                           crs=frame.crs)  # fmt: skip
    if len(markers) == 0:
        return out
    table = markers.copy()
    days = table["date"].to_numpy().astype("datetime64[D]")
    feature_order = {name: k for k, name in enumerate((*S2_FEATURES, *S1_FEATURES))}
    pairs = {(str(a), str(b)) for a, b in zip(table["source"], table["feature"], strict=True)}
    keys = sorted(pairs, key=lambda k: (k[0] != S2, feature_order.get(k[1], 99)))
    pieces: list[pd.DataFrame] = []
    for source, feature in keys:
        mine = (table["source"] == source).to_numpy() & (table["feature"] == feature).to_numpy()
        rows = table[mine]
        # one name per date, not per row: the rows are parcels x dates, the names only dates
        dates, which = np.unique(days[mine], return_inverse=True)
        for stat in stats:
            names = np.asarray([sen4cap_column(d, stat, source, feature) for d in dates], dtype=object)[which]
            pieces.append(pd.DataFrame({"parcel_id": rows["parcel_id"].to_numpy(), "column": names,
                                        "value": rows[stat].to_numpy(), "day": days[mine],
                                        "rank": len(pieces)}))  # fmt: skip
    long = pd.concat(pieces, ignore_index=True)
    order = long.drop_duplicates("column").sort_values(["day", "rank"], kind="stable")["column"].tolist()
    wide = long.pivot_table(index="parcel_id", columns="column", values="value", aggfunc="first",
                            sort=False, dropna=False)  # fmt: skip
    wide = wide.reindex(index=out[SEN4CAP_ID].to_numpy(), columns=order)
    result = pd.concat([out, wide.set_axis(out.index, axis=0)], axis=1)
    for name in order:
        if name.split("_", 2)[1] == "valid":
            result[name] = result[name].astype("Int32")
    return gpd.GeoDataFrame(result, geometry="geometry", crs=frame.crs)
