"""The covariate stack: SoilSuite composites, terrain and extra rasters on one grid, lazily.

The grid is that of the SoilSuite outputs (an output catalog of ``baresoil
soilsuite``): per EEA tile, the item of the longest period.  Its ``SRC_MEAN``,
``SRC_STD``, ``BSF`` and ``MREF`` become covariates band by band, with three
soil ratios of the bare-soil composite (clay minerals SWIR1/SWIR2, iron oxides
red/blue, ferrous minerals SWIR1/NIR).  A DEM adds elevation, slope and
topographic position indices at a few radii; extra rasters (land cover, S1
statistics …) are taken as they are.  Every raster is read block by block onto
the grid (reprojected where it is not on it), so the stack is a dask array of
(covariate, y, x) float32 with NaN where a value is missing.

Covariates fall in three groups, the steps of CUP4SOIL's comparison: ``terrain``
(DEM and extra rasters), ``mref`` (mean reflectance of all clear observations)
and ``src`` (the bare-soil composite, its spread and frequency).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pystac
import rasterio
from affine import Affine
from odc.geo.geobox import GeoBox
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window

from ...catalog.layouts import REFLECTANCE_BANDS
from ...catalog.source import TimeRange
from ...config import SoilMapConfig
from ...errors import BaresoilError
from ...grid import EEA_CRS
from ...kernels.terrain import slope_degrees, topographic_position
from ..base import period_label

SOILSUITE_FAMILY = "soilsuite"
SOILSUITE_LAYERS = ("SRC_MEAN", "SRC_STD", "BSF", "MREF")
GROUPS = ("terrain", "mref", "src")
GROUP_OF_LAYER = {"SRC_MEAN": "src", "SRC_STD": "src", "BSF": "src", "MREF": "mref"}
SOIL_RATIOS = {"SRC_CMR": ("B11", "B12"), "SRC_IOR": ("B04", "B02"), "SRC_FMR": ("B11", "B8A")}
"""Soil ratios of the bare-soil composite: name -> (numerator band, denominator band)."""


class CovariateError(BaresoilError):
    """Covariates cannot be found or read."""


@dataclass(frozen=True)
class CovariateTile:
    """The SoilSuite item of one EEA tile whose layers (and grid) the soil maps use."""

    item_id: str
    tile: str
    start: date
    end: date
    geobox: GeoBox
    assets: Mapping[str, Path]
    """SoilSuite layer code -> COG path."""

    @property
    def label(self) -> str:
        return period_label(TimeRange(self.start, self.end))

    @property
    def resolution(self) -> float:
        return abs(float(self.geobox.resolution.x))


@dataclass(frozen=True)
class Covariate:
    name: str
    group: str


@dataclass(frozen=True)
class CovariateStack:
    """All covariates of one tile: ``data`` is (covariate, y, x) float32, NaN = missing."""

    tile: CovariateTile
    covariates: tuple[Covariate, ...]
    data: da.Array

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.covariates)

    def pixel_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row and column of each EPSG:3035 point, and whether it lies on the grid."""
        inverse = ~self.tile.geobox.transform
        cols, rows = inverse * (np.asarray(x, np.float64), np.asarray(y, np.float64))
        with np.errstate(invalid="ignore"):
            rows, cols = np.floor(rows), np.floor(cols)
            height, width = self.tile.geobox.shape
            inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        return np.where(inside, rows, 0).astype(np.int64), np.where(inside, cols, 0).astype(np.int64), inside

    def sample(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Covariate values (point, covariate) at points on the grid (NaN elsewhere), and the on-grid mask."""
        rows, cols, inside = self.pixel_of(x, y)
        values = np.full((len(rows), len(self.covariates)), np.nan, np.float32)
        if inside.any():
            values[inside] = np.asarray(self.data.vindex[:, rows[inside], cols[inside]].compute())
        return values, inside


def find_covariate_tiles(folder: str | Path) -> list[CovariateTile]:
    """Per EEA tile, the SoilSuite item of ``folder``'s output catalog with the longest period."""
    folder = Path(folder)
    catalog_path = folder / "catalog.json"
    if not catalog_path.exists():
        raise CovariateError(f"no STAC catalog of SoilSuite outputs at {catalog_path}")
    best: dict[str, tuple[tuple[Any, ...], CovariateTile]] = {}
    for item_path in _item_paths(catalog_path):
        item = json.loads(item_path.read_text())
        if item["properties"].get("baresoil:family") != SOILSUITE_FAMILY:
            continue
        tile = _tile_of(item, item_path.parent)
        rank = (-(tile.end - tile.start).days, tile.resolution, tile.item_id)
        if tile.tile not in best or rank < best[tile.tile][0]:
            best[tile.tile] = (rank, tile)
    if not best:
        raise CovariateError(f"{catalog_path}: no SoilSuite items (run `baresoil soilsuite` first)")
    return [best[code][1] for code in sorted(best)]


def _item_paths(catalog_path: Path) -> list[Path]:
    """The item files of an output catalog, through its collections (pystac walks the links)."""
    try:
        items = pystac.Catalog.from_file(str(catalog_path)).get_items(recursive=True)
        return [Path(str(item.get_self_href())) for item in items]
    except (OSError, pystac.STACError, ValueError, KeyError) as exc:
        raise CovariateError(f"{catalog_path}: cannot read the catalog of SoilSuite outputs: {exc}") from exc


def _tile_of(item: Mapping[str, Any], folder: Path) -> CovariateTile:
    absent = [code for code in SOILSUITE_LAYERS if code not in item["assets"]]
    if absent:
        raise CovariateError(f"SoilSuite item {item['id']} lacks the asset(s) {', '.join(absent)}")
    props = item["properties"]
    reference = item["assets"]["SRC_MEAN"]
    height, width = reference["proj:shape"]
    geobox = GeoBox((height, width), Affine(*reference["proj:transform"][:6]), EEA_CRS)
    assets = {code: folder / item["assets"][code]["href"] for code in SOILSUITE_LAYERS}
    return CovariateTile(
        item_id=item["id"],
        tile=props.get("eea:tile", item["id"]),
        start=date.fromisoformat(props["start_datetime"][:10]),
        end=date.fromisoformat(props["end_datetime"][:10]),
        geobox=geobox,
        assets=assets,
    )


def covariate_stack(
    tile: CovariateTile,
    config: SoilMapConfig,
    dem: str | Path | None = None,
    extras: Sequence[str | Path] = (),
) -> CovariateStack:
    """The lazy covariate stack of ``tile``: terrain (DEM, extras), MREF, then the bare-soil composite."""
    chunks = _chunks(tile.geobox, config.chunk_size)
    layers: list[tuple[Covariate, da.Array]] = []
    if dem is not None:
        layers += _terrain(Path(dem), tile.geobox, chunks, config.tpi_radii_m)
    names: set[str] = set()
    for path in extras:
        layers += _extra(Path(path), tile.geobox, chunks, names)
    soilsuite = {code: raster_blocks(tile.assets[code], tile.geobox, chunks) for code in SOILSUITE_LAYERS}
    layers += _bands("MREF", soilsuite["MREF"])
    for code in ("SRC_MEAN", "SRC_STD", "BSF"):
        layers += _bands(code, soilsuite[code])
    if config.spectral_indices:
        mean = dict(zip(REFLECTANCE_BANDS, soilsuite["SRC_MEAN"], strict=True))
        for name, (top, bottom) in SOIL_RATIOS.items():
            layers.append((Covariate(name, "src"), _ratio(mean[top], mean[bottom])))
    data = da.stack([array for _, array in layers]).rechunk({0: -1})
    return CovariateStack(tile, tuple(cov for cov, _ in layers), data)


def _chunks(geobox: GeoBox, size: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    height, width = geobox.shape
    size = max(16, int(size))
    rows, cols = da.core.normalize_chunks((size, size), (height, width))
    return tuple(rows), tuple(cols)


def _bands(code: str, array: da.Array) -> list[tuple[Covariate, da.Array]]:
    group = GROUP_OF_LAYER[code]
    if array.shape[0] == 1:
        return [(Covariate(code, group), array[0])]
    return [(Covariate(f"{code}_{band}", group), array[i]) for i, band in enumerate(REFLECTANCE_BANDS)]


def _ratio(top: da.Array, bottom: da.Array) -> da.Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        return da.where(bottom > 0, top / bottom, np.nan).astype(np.float32)


def _terrain(
    path: Path, geobox: GeoBox, chunks: tuple[tuple[int, ...], ...], radii_m: Sequence[float]
) -> list[tuple[Covariate, da.Array]]:
    """Elevation, slope and a topographic position index per radius."""
    dem = raster_blocks(path, geobox, chunks)[0]
    resolution = abs(float(geobox.resolution.x))
    out = [
        (Covariate("DEM", "terrain"), dem),
        (Covariate("DEM_SLOPE", "terrain"),
         da.map_overlap(slope_degrees, dem, depth=1, boundary="none", resolution=resolution,
                        dtype=np.float32)),
    ]  # fmt: skip
    for radius_m in radii_m:
        radius = max(1, round(radius_m / resolution))
        tpi = da.map_overlap(topographic_position, dem, depth=radius, boundary="none", radius=radius,
                             dtype=np.float32)  # fmt: skip
        out.append((Covariate(f"DEM_TPI{radius_m:g}M", "terrain"), tpi))
    return out


def _extra(
    path: Path, geobox: GeoBox, chunks: tuple[tuple[int, ...], ...], taken: set[str]
) -> list[tuple[Covariate, da.Array]]:
    """Every band of an extra raster, named after the file (and the band description or number)."""
    array = raster_blocks(path, geobox, chunks)
    with rasterio.open(path) as src:
        descriptions = src.descriptions
    stem = re.sub(r"[^A-Za-z0-9]+", "_", path.stem).strip("_").upper() or "EXTRA"
    out = []
    for i in range(array.shape[0]):
        band = descriptions[i] if array.shape[0] > 1 and descriptions[i] else str(i + 1)
        name = stem if array.shape[0] == 1 else f"{stem}_{band}"
        while name in taken:
            name += "_"
        taken.add(name)
        out.append((Covariate(name, "terrain"), array[i]))
    return out


def raster_blocks(path: str | Path, geobox: GeoBox, chunks: tuple[tuple[int, ...], ...]) -> da.Array:
    """All bands of a raster on ``geobox`` as a lazy (band, y, x) float32 array of physical values.

    Nodata becomes NaN and GDAL scales/offsets are applied.  Rasters on the grid
    are read by window; others are reprojected (bilinear, or nearest for class
    rasters: integers without a scale).
    """
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            count = src.count
            categorical = np.dtype(src.dtypes[0]).kind in "iu" and all(s == 1 for s in src.scales)
    except rasterio.errors.RasterioIOError as exc:
        raise CovariateError(f"cannot read covariate raster {path}: {exc}") from exc
    resampling = Resampling.nearest if categorical else Resampling.bilinear
    reader = partial(_read_block, path=str(path), geobox=geobox, resampling=resampling)
    return da.map_blocks(reader, chunks=((count,), *chunks), dtype=np.float32,
                         meta=np.array((), dtype=np.float32))  # fmt: skip


def _read_block(
    path: str, geobox: GeoBox, resampling: Resampling, block_info: dict[Any, Any] | None = None
) -> np.ndarray:
    _, rows, cols = block_info[None]["array-location"]  # type: ignore[index]
    window_box = geobox[slice(*rows), slice(*cols)]
    with rasterio.open(path) as src:
        window = _aligned_window(src, window_box)
        if window is not None:
            stored = src.read(window=window, boundless=True, masked=True).astype(np.float64)
            values = stored.filled(np.nan)
        else:
            values = np.full((src.count, *window_box.shape), np.nan, dtype=np.float64)
            for band in range(src.count):
                reproject(source=rasterio.band(src, band + 1), destination=values[band],
                          src_nodata=src.nodata, dst_transform=window_box.transform,
                          dst_crs=str(window_box.crs), dst_nodata=np.nan, resampling=resampling)  # fmt: skip
        scales = np.asarray(src.scales, np.float64)[:, None, None]
        offsets = np.asarray(src.offsets, np.float64)[:, None, None]
    return (values * scales + offsets).astype(np.float32)


def _aligned_window(src: Any, window_box: GeoBox) -> Window | None:
    """The source window that matches ``window_box`` pixel for pixel, or None if the grids differ."""
    if src.crs is None or not CRS.from_user_input(src.crs.to_wkt()).equals(str(window_box.crs)):
        return None
    src_t, dst_t = src.transform, window_box.transform
    if not (math.isclose(src_t.a, dst_t.a) and math.isclose(src_t.e, dst_t.e)) or src_t.b or src_t.d:
        return None
    col = (dst_t.c - src_t.c) / src_t.a
    row = (dst_t.f - src_t.f) / src_t.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    height, width = window_box.shape
    return Window(round(col), round(row), width, height)
