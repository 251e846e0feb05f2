"""Declared parcels (GSAA/LPIS) for per-parcel products: read, repair, buffer, clip, rasterise.

A paying agency's parcel file comes in any CRS and format (GeoPackage, GeoParquet,
Shapefile) with its own id column.  :func:`read_parcels` turns it into a
:class:`ParcelSet`: the parcels in EPSG:3035, shrunk by an inward buffer (as
Sen4CAP: 5 m on a 10 m grid, 10 m on a 20 m grid, so that edge pixels mixing the
neighbour do not enter a parcel's statistics), and a **report** naming every
parcel that was repaired, clipped, dropped, overlaps another or has too few
pixels.  Nothing is dropped without a line in the report.

Parcels are rasterised onto a cube's grid as a lazy dask array of integer
*codes* (1 … n, 0 = no parcel): ids may be text, so the raster carries a code
and ``ParcelSet.frame`` maps code to id.  A pixel belongs to a parcel when its
centre lies inside the buffered polygon (GDAL's rule), so a parcel smaller than
a pixel may own no pixel at all; :func:`pixel_counts` and
:meth:`ParcelSet.with_pixel_counts` report those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from ..errors import BaresoilError
from ..grid import EEA_CRS

PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")

# Report issues; ``kept`` says whether the parcel stays in the set.
REPAIRED = "repaired_geometry"
"""Invalid geometry made valid (kept)."""
INVALID = "invalid_geometry"
"""No geometry, not a polygon, or nothing polygonal left after repair (dropped)."""
EMPTY_AFTER_BUFFER = "empty_after_buffer"
"""Narrower than twice the inward buffer: nothing left (dropped)."""
OVERLAP = "overlap"
"""Overlaps another parcel after buffering; shared pixels go to the parcel listed later (kept)."""
CLIPPED = "clipped_at_edge"
"""Crosses the edge of the area with data: the inside part is kept."""
OUTSIDE = "outside_area"
"""Entirely outside the area with data (dropped)."""
TOO_FEW_PIXELS = "too_few_pixels"
"""Fewer pixel centres inside than the minimum (kept, so its few values stay available)."""

REPORT_COLUMNS = ("parcel_id", "issue", "detail", "kept")


class ParcelError(BaresoilError):
    """A parcel file cannot be used as given (missing column, duplicate ids, unreadable)."""


@dataclass(frozen=True)
class ParcelSet:
    """Parcels ready for per-parcel statistics, and what happened to the others."""

    frame: gpd.GeoDataFrame
    """One row per usable parcel, EPSG:3035: ``parcel_id`` (as in the file), ``code`` (int32,
    1 … n, the raster value), ``category`` and ``crop`` (when their columns were given), ``area_m2``
    (declared area, before buffering and clipping), ``n_pixels`` (after
    :meth:`with_pixel_counts`, else absent) and ``geometry`` (buffered, clipped)."""
    report: pd.DataFrame
    """``parcel_id``, ``issue`` (one of the constants of this module), ``detail`` (text),
    ``kept`` (bool): one row per parcel and issue."""
    source: str
    """The file read."""
    id_column: str
    buffer_m: float
    """Inward buffer applied, metres."""

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Bounds of the buffered parcels, EPSG:3035."""
        x0, y0, x1, y1 = self.frame.total_bounds
        return (float(x0), float(y0), float(x1), float(y1))

    @property
    def ids(self) -> pd.Series:
        """Parcel id by code (index = code)."""
        return pd.Series(self.frame["parcel_id"].to_numpy(), index=self.frame["code"].to_numpy())

    def id_of_code(self, codes: np.ndarray) -> np.ndarray:
        """Parcel ids of raster codes (codes must be those of the frame)."""
        lookup = np.empty(int(self.frame["code"].max()) + 1 if len(self.frame) else 1, dtype=object)
        lookup[self.frame["code"].to_numpy()] = self.frame["parcel_id"].to_numpy()
        return lookup[np.asarray(codes)]

    def clip(self, area: BaseGeometry, label: str = "the area") -> ParcelSet:
        """Keep the part of each parcel inside ``area`` (EPSG:3035); report clipped and outside ones."""
        geoms = self.frame.geometry.to_numpy()
        inside = shapely.within(geoms, area)
        touching = shapely.intersects(geoms, area)
        crossing = touching & ~inside
        clipped = shapely.intersection(geoms[crossing], area)
        clipped = np.array([_polygonal(g) for g in clipped], dtype=object)
        kept_share = shapely.area(clipped) / np.maximum(shapely.area(geoms[crossing]), 1e-9)
        frame = self.frame.copy()
        new_geoms = geoms.copy()
        new_geoms[crossing] = clipped
        frame = frame.set_geometry(gpd.GeoSeries(new_geoms, index=frame.index, crs=EEA_CRS))
        empty = shapely.is_empty(new_geoms) | (shapely.area(new_geoms) <= 0)
        outside = ~touching | empty
        ids = frame["parcel_id"].to_numpy()
        cross_ids = ids[crossing]
        rows = [
            (
                pid,
                CLIPPED,
                f"crosses the edge of {label}: {100 * share:.0f} % of its buffered area kept",
                True,
            )
            for pid, share, gone in zip(cross_ids, kept_share, empty[crossing], strict=True)
            if not gone
        ]
        rows += [(pid, OUTSIDE, f"outside {label}", False) for pid in ids[outside]]
        return self._replace(frame[~outside], rows)

    def with_pixel_counts(self, counts: np.ndarray, min_pixels: int) -> ParcelSet:
        """Record ``n_pixels`` (counts indexed by code, e.g. from :func:`pixel_counts`) and report
        parcels with fewer than ``min_pixels``.  They stay in the set: a small parcel's few values
        are still values, and downstream rules decide what is enough."""
        frame = self.frame.copy()
        codes = frame["code"].to_numpy()
        padded = np.zeros(max(int(codes.max()) + 1 if codes.size else 1, counts.size), np.int64)
        padded[: counts.size] = counts
        frame["n_pixels"] = padded[codes].astype(np.int64)
        few = frame["n_pixels"].to_numpy() < min_pixels
        ids, counts_few = frame["parcel_id"].to_numpy()[few], frame["n_pixels"].to_numpy()[few]
        detail = "{} pixel(s) inside after the {:g} m inward buffer (minimum {})"
        rows = [
            (pid, TOO_FEW_PIXELS, detail.format(n, self.buffer_m, min_pixels), True)
            for pid, n in zip(ids, counts_few, strict=True)
        ]
        report = self.report[self.report["issue"] != TOO_FEW_PIXELS]
        return dataclasses.replace(self, frame=frame, report=_concat_report(report, rows))

    def _replace(self, frame: gpd.GeoDataFrame, rows: list[tuple[object, str, str, bool]]) -> ParcelSet:
        report = _concat_report(self.report, rows)
        gone = report.loc[~report["kept"], "parcel_id"]
        report.loc[report["parcel_id"].isin(gone), "kept"] = False
        return dataclasses.replace(self, frame=frame.reset_index(drop=True), report=report)


def default_buffer_m(resolution: float) -> float:
    """Sen4CAP's inward buffer: half a pixel (5 m at 10 m, 10 m at 20 m)."""
    return resolution / 2.0


def read_parcels(
    path: str | Path,
    id_column: str,
    *,
    category_column: str | None = None,
    crop_column: str | None = None,
    buffer_m: float = 5.0,
) -> ParcelSet:
    """Read, repair, reproject (EPSG:3035) and inward-buffer the parcels of ``path``.

    Errors (:class:`ParcelError`): the file is missing or unreadable, has no CRS,
    lacks ``id_column``, ``category_column`` or ``crop_column`` (the message lists the columns it
    has), has ids that are empty or repeated (the message names them).
    Everything else about single parcels goes to the report.
    """
    path = Path(path)
    frame = _read_frame(path)
    for column in (id_column, category_column, crop_column):
        if column is not None and column not in frame.columns:
            have = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
            raise ParcelError(f"{path}: no column {column!r}; the file has: {have}")
    if frame.crs is None:
        raise ParcelError(f"{path}: the parcels have no CRS")
    ids = frame[id_column]
    _check_ids(path, id_column, ids)
    if buffer_m < 0:
        raise ParcelError(f"inward buffer must be given as a positive distance, got {buffer_m}")
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ids.to_numpy()}, geometry=frame.geometry.to_numpy(), crs=frame.crs
    )
    if category_column is not None:
        parcels["category"] = frame[category_column].to_numpy()
    if crop_column is not None:
        parcels["crop"] = frame[crop_column].to_numpy()
    parcels, rows = _repair(parcels)
    parcels = parcels.to_crs(EEA_CRS)
    parcels["area_m2"] = parcels.geometry.area
    parcels, more = _shrink(parcels, buffer_m)
    rows += more
    parcels["code"] = np.arange(1, len(parcels) + 1, dtype=np.int32)
    rows += _overlaps(parcels)
    carried = [name for name, column in (("category", category_column), ("crop", crop_column)) if column]
    columns = ["parcel_id", "code", *carried, "area_m2", "geometry"]
    result = ParcelSet(
        frame=parcels[columns].reset_index(drop=True),
        report=_concat_report(_empty_report(), []),
        source=str(path),
        id_column=id_column,
        buffer_m=float(buffer_m),
    )
    return result._replace(result.frame, rows)


def _read_frame(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise ParcelError(f"parcel file not found: {path}")
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            return gpd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except Exception as exc:
        raise ParcelError(f"cannot read parcel file {path}: {exc}") from exc


def _check_ids(path: Path, column: str, ids: pd.Series) -> None:
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    if missing.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(missing.to_numpy())[:10])
        raise ParcelError(f"{path}: {int(missing.sum())} parcel(s) without an id in {column!r} (rows {rows})")
    counts = ids.value_counts()
    repeated = counts[counts > 1]
    if len(repeated):
        shown = ", ".join(f"{pid!r} ({n}x)" for pid, n in repeated.head(20).items())
        more = f" and {len(repeated) - 20} more" if len(repeated) > 20 else ""
        raise ParcelError(f"{path}: duplicate parcel ids in {column!r}: {shown}{more}")


def _repair(parcels: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[tuple[object, str, str, bool]]]:
    """Make invalid geometries valid (keeping their polygonal part); drop what cannot be a parcel."""
    geoms = parcels.geometry.to_numpy()
    ids = parcels["parcel_id"].to_numpy()
    rows: list[tuple[object, str, str, bool]] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    valid = np.zeros(len(geoms), bool)
    valid[~missing] = shapely.is_valid(geoms[~missing])
    fixed = geoms.copy()
    for i in np.flatnonzero(~missing & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        fixed[i] = _polygonal(shapely.make_valid(geoms[i]))
        if shapely.is_empty(fixed[i]) or shapely.area(fixed[i]) <= 0:
            rows.append((ids[i], INVALID, f"invalid geometry ({reason}) with no area after repair", False))
        else:
            rows.append((ids[i], REPAIRED, f"invalid geometry repaired ({reason})", True))
    polygonal = np.array([not missing[i] and _is_polygonal(fixed[i]) for i in range(len(fixed))], bool)
    for i in np.flatnonzero(missing):
        rows.append((ids[i], INVALID, "no geometry", False))
    for i in np.flatnonzero(~missing & ~polygonal):
        if not any(r[0] == ids[i] and r[1] == INVALID for r in rows):
            rows.append((ids[i], INVALID, f"not a polygon ({shapely.get_type_id(fixed[i])})", False))
    fixed_area = np.zeros(len(fixed))
    fixed_area[polygonal] = shapely.area(fixed[polygonal])
    usable = polygonal & (fixed_area > 0)
    out = parcels.copy()
    out = out.set_geometry(gpd.GeoSeries(fixed, index=out.index, crs=parcels.crs))
    return out[usable], rows


def _shrink(
    parcels: gpd.GeoDataFrame, buffer_m: float
) -> tuple[gpd.GeoDataFrame, list[tuple[object, str, str, bool]]]:
    if buffer_m == 0:
        return parcels, []
    shrunk = shapely.buffer(parcels.geometry.to_numpy(), -buffer_m)
    shrunk = np.array([_polygonal(g) for g in shrunk], dtype=object)
    empty = shapely.is_empty(shrunk) | (shapely.area(shrunk) <= 0)
    ids = parcels["parcel_id"].to_numpy()
    rows = [(pid, EMPTY_AFTER_BUFFER, f"nothing left after the {buffer_m:g} m inward buffer", False)
            for pid in ids[empty]]  # fmt: skip
    out = parcels.set_geometry(gpd.GeoSeries(shrunk, index=parcels.index, crs=parcels.crs))
    return out[~empty], rows


def _overlaps(parcels: gpd.GeoDataFrame) -> list[tuple[object, str, str, bool]]:
    """Pairs of buffered parcels sharing area (the pixels go to the later one when rasterised)."""
    geoms = parcels.geometry.to_numpy()
    left, right = parcels.sindex.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right])) > 0
    ids = parcels["parcel_id"].to_numpy()
    rows: list[tuple[object, str, str, bool]] = []
    for a, b in zip(left[shared], right[shared], strict=True):
        rows.append((ids[a], OVERLAP, f"overlaps parcel {ids[b]!r}, which takes the shared pixels", True))
        rows.append((ids[b], OVERLAP, f"overlaps parcel {ids[a]!r}", True))
    return rows


def _is_polygonal(geom: BaseGeometry) -> bool:
    return shapely.get_type_id(geom) in (3, 6)  # Polygon, MultiPolygon


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of any geometry (make_valid and intersections can add lines and points)."""
    if geom is None or shapely.is_empty(geom):
        return shapely.Polygon()
    if _is_polygonal(geom):
        return geom
    parts = [p for p in shapely.get_parts(geom) if _is_polygonal(p)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _empty_report() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=bool if c == "kept" else object) for c in REPORT_COLUMNS})


def _concat_report(report: pd.DataFrame, rows: Sequence[tuple[object, str, str, bool]]) -> pd.DataFrame:
    if not rows:
        return report.reset_index(drop=True)
    extra = pd.DataFrame(list(rows), columns=list(REPORT_COLUMNS))
    extra["kept"] = extra["kept"].astype(bool)
    return pd.concat([report, extra], ignore_index=True) if len(report) else extra


# --- rasterising -----------------------------------------------------------------------------


def rasterise_parcels(
    parcels: ParcelSet,
    geobox: GeoBox,
    chunks: tuple[Sequence[int], Sequence[int]] | int | None = None,
) -> xr.DataArray:
    """Parcel codes on ``geobox`` as a lazy (y, x) int32 array; 0 = no parcel.

    ``chunks`` are the cube's spatial chunks (``cube.B02.chunks[-2:]``) or a side
    in pixels (default 512).  Each chunk rasterises only the parcels that touch
    it (chosen here with a spatial index, so a task carries only its own polygons).
    """
    ny, nx = geobox.shape.y, geobox.shape.x
    rows, cols = _normalise_chunks(chunks, ny, nx)
    frame = parcels.frame
    geoms = frame.geometry.to_numpy()
    codes = frame["code"].to_numpy().astype(np.int32)
    tree = shapely.STRtree(geoms)
    row_edges, col_edges = np.cumsum((0, *rows)), np.cumsum((0, *cols))
    blocks = []
    for i in range(len(rows)):
        line = []
        for j in range(len(cols)):
            window = geobox[
                int(row_edges[i]) : int(row_edges[i + 1]), int(col_edges[j]) : int(col_edges[j + 1])
            ]
            hits = np.sort(tree.query(box(*window.boundingbox), predicate="intersects"))
            task = dask.delayed(_burn, pure=True)(geoms[hits], codes[hits], window.transform, window.shape)
            line.append(da.from_delayed(task, shape=(rows[i], cols[j]), dtype=np.int32))
        blocks.append(line)
    data = da.block(blocks)
    attrs = {"long_name": "parcel code (0 = no parcel)", "source": parcels.source}
    return xr.DataArray(data, coords=xr_coords(geobox), dims=("y", "x"), name="parcel_code", attrs=attrs)


def _normalise_chunks(
    chunks: tuple[Sequence[int], Sequence[int]] | int | None, ny: int, nx: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if chunks is None or isinstance(chunks, int):
        side = chunks or 512
        return (
            tuple(min(side, ny - i) for i in range(0, ny, side)),
            tuple(min(side, nx - j) for j in range(0, nx, side)),
        )
    rows, cols = tuple(int(c) for c in chunks[0]), tuple(int(c) for c in chunks[1])
    if sum(rows) != ny or sum(cols) != nx:
        raise ValueError(f"chunks {chunks} do not cover a {ny} x {nx} grid")
    return rows, cols


def _burn(geoms: np.ndarray, codes: np.ndarray, transform: object, shape: object) -> np.ndarray:
    out_shape = (int(shape[0]), int(shape[1]))  # type: ignore[index]
    if len(geoms) == 0:
        return np.zeros(out_shape, np.int32)
    return rasterio.features.rasterize(
        zip(geoms, codes.tolist(), strict=True),
        out_shape=out_shape,
        transform=transform,
        fill=0,
        dtype=np.int32,
        all_touched=False,
    )


def pixel_counts(codes: xr.DataArray, n_codes: int) -> np.ndarray:
    """Pixels per code (index = code, 0 = outside any parcel) of a lazy code raster, block by block."""
    data = codes.data
    if not isinstance(data, da.Array):
        data = da.from_array(np.asarray(data))
    partial = [dask.delayed(_count_block)(block, n_codes) for block in data.to_delayed().ravel()]
    return np.sum(dask.compute(*partial), axis=0)


def _count_block(block: np.ndarray, n_codes: int) -> np.ndarray:
    return np.bincount(block.ravel(), minlength=n_codes + 1)[: n_codes + 1].astype(np.int64)
