"""The covariate stack: any rasters, SoilSuite composites and terrain on one grid, lazily.

Covariates come from sources (``--covariates``): a raster file, a folder of
rasters, or an output catalog of ``baresoil soilsuite``.  The maps are made on
the grid of ``--grid`` when given, else on that of the first source: each EEA
tile of SoilSuite outputs (per tile, the item of the longest period), or the
grid of the first raster in its own CRS.  A SoilSuite source contributes its
``SRC_MEAN``, ``SRC_STD``, ``BSF`` and ``MREF`` band by band, with three soil
ratios of the bare-soil composite (clay minerals SWIR1/SWIR2, iron oxides
red/blue, ferrous minerals SWIR1/NIR); a raster contributes every band, named
after the file.  A DEM adds elevation, slope and topographic position indices at
a few radii; extra rasters (land cover, S1 statistics …) are taken as they are.
Every raster is read block by block onto the grid (reprojected where it is not
on it; ``cube.aux``), so the stack is a dask array of (covariate, y, x) float32
with NaN where a value is missing.  A raster without a CRS is refused by name
unless the caller says which CRS it is in (``crs``): read as if it had none, it
would land nowhere and every sample would be lost.

Covariates fall in three groups, the steps of CUP4SOIL's comparison: ``terrain``
(DEM, extra rasters and other covariate rasters), ``mref`` (mean reflectance of
all clear observations) and ``src`` (the bare-soil composite, its spread and
frequency).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pystac
from affine import Affine
from odc.geo.geobox import GeoBox
from pyproj import CRS, Transformer

from ...catalog.layouts import REFLECTANCE_BANDS
from ...catalog.source import TimeRange
from ...config import SoilMapConfig
from ...cube.aux import RasterInfo, raster_blocks, raster_info
from ...errors import AssetError, BaresoilError
from ...grid import EEA_CRS
from ...kernels.terrain import slope_degrees, topographic_position
from ..apply import Lazy, as_lazy, at_pixels, per_neighbourhood, square_layout
from ..base import period_label

SOILSUITE_FAMILY = "soilsuite"
SOILSUITE_LAYERS = ("SRC_MEAN", "SRC_STD", "BSF", "MREF")
GROUPS = ("terrain", "mref", "src")
GROUP_OF_LAYER = {"SRC_MEAN": "src", "SRC_STD": "src", "BSF": "src", "MREF": "mref"}
SOIL_RATIOS = {"SRC_CMR": ("B11", "B12"), "SRC_IOR": ("B04", "B02"), "SRC_FMR": ("B11", "B8A")}
"""Soil ratios of the bare-soil composite: name -> (numerator band, denominator band)."""
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc", ".sdat", ".jp2")
"""Files of a folder of covariate rasters that are read (others, e.g. ``.aux.xml``, are not)."""


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
    def grid(self) -> MapGrid:
        return MapGrid(self.tile, self.geobox, TimeRange(self.start, self.end), self.item_id)


@dataclass(frozen=True)
class MapGrid:
    """A grid the maps are made on (one output item): an EEA tile of SoilSuite outputs, or a raster's."""

    name: str
    """The EEA tile code, or the name of the raster the grid comes from."""
    geobox: GeoBox
    period: TimeRange | None = None
    """The period of the SoilSuite item whose grid this is."""
    item_id: str | None = None
    """The SoilSuite item whose grid this is."""

    @property
    def label(self) -> str | None:
        return period_label(self.period) if self.period else None

    @property
    def resolution(self) -> float:
        return abs(float(self.geobox.resolution.x))


@dataclass(frozen=True)
class SoilSuiteSource:
    """An output catalog of ``baresoil soilsuite``: per EEA tile, the item of the longest period."""

    folder: Path
    tiles: tuple[CovariateTile, ...]


@dataclass(frozen=True)
class RasterSource:
    """One covariate raster (every band a covariate)."""

    path: Path


CovariateSource = SoilSuiteSource | RasterSource


@dataclass(frozen=True)
class Covariate:
    name: str
    group: str


@dataclass(frozen=True)
class CovariateStack:
    """All covariates on one grid: ``data`` is (covariate, y, x) float32, NaN = missing."""

    grid: MapGrid
    covariates: tuple[Covariate, ...]
    data: Lazy

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.covariates)

    def pixel_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row and column of each EPSG:3035 point, and whether it lies on the grid."""
        gx, gy = np.asarray(x, np.float64), np.asarray(y, np.float64)
        crs = CRS.from_user_input(str(self.grid.geobox.crs))
        if not crs.equals(EEA_CRS):
            gx, gy = Transformer.from_crs(EEA_CRS, crs, always_xy=True).transform(gx, gy, errcheck=False)
        cols, rows = ~self.grid.geobox.transform * (np.asarray(gx, np.float64), np.asarray(gy, np.float64))
        with np.errstate(invalid="ignore"):
            rows, cols = np.floor(rows), np.floor(cols)
            height, width = self.grid.geobox.shape
            inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        return np.where(inside, rows, 0).astype(np.int64), np.where(inside, cols, 0).astype(np.int64), inside

    def pixel_centres(self, most: int) -> tuple[np.ndarray, np.ndarray]:
        """EPSG:3035 x, y of a regular subsample of the grid's pixel centres (``most`` or fewer)."""
        height, width = self.grid.geobox.shape
        step = max(1, math.ceil(math.sqrt(height * width / max(most, 1))))
        rows, cols = np.meshgrid(np.arange(step / 2, height, step), np.arange(step / 2, width, step),
                                 indexing="ij")  # fmt: skip
        gx, gy = self.grid.geobox.transform * (cols.ravel(), rows.ravel())
        crs = CRS.from_user_input(str(self.grid.geobox.crs))
        if not crs.equals(EEA_CRS):
            gx, gy = Transformer.from_crs(crs, EEA_CRS, always_xy=True).transform(gx, gy)
        return np.asarray(gx, np.float64), np.asarray(gy, np.float64)

    def sample(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Covariate values (point, covariate) at points on the grid (NaN elsewhere), and the on-grid mask."""
        rows, cols, inside = self.pixel_of(x, y)
        values = np.full((len(rows), len(self.covariates)), np.nan, np.float32)
        if inside.any():
            values[inside] = at_pixels(self.data, rows[inside], cols[inside])
        return values, inside


def find_covariate_sources(paths: Sequence[str | Path]) -> list[CovariateSource]:
    """The covariate sources at ``paths``, in order: SoilSuite output folders, folders of rasters, rasters."""
    if not paths:
        raise CovariateError("no covariates given")
    sources: list[CovariateSource] = []
    for path in map(Path, paths):
        if path.is_dir() and (path / "catalog.json").exists():
            sources.append(SoilSuiteSource(path, tuple(find_covariate_tiles(path))))
        elif path.is_dir():
            rasters = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in RASTER_SUFFIXES)
            if not rasters:
                raise CovariateError(
                    f"{path}: neither an output folder of `baresoil soilsuite` (catalog.json) nor a folder "
                    f"of rasters ({', '.join(RASTER_SUFFIXES)})"
                )
            sources += [RasterSource(r) for r in rasters]
        elif path.is_file():
            sources.append(RasterSource(path))
        else:
            raise CovariateError(f"covariates not found: {path}")
    return sources


def map_grids(
    sources: Sequence[CovariateSource], grid: str | Path | None = None, crs: Any = None
) -> list[MapGrid]:
    """The grids to map on: that of ``grid`` (a raster), else each tile of the first source, or its grid."""
    if grid is not None:
        return [_raster_grid(Path(grid), crs)]
    first = sources[0]
    if isinstance(first, SoilSuiteSource):
        return [tile.grid for tile in first.tiles]
    return [_raster_grid(first.path, crs)]


def _raster_grid(path: Path, crs: Any) -> MapGrid:
    info = checked_raster(path, crs)
    name = re.sub(r"[^A-Za-z0-9]+", "_", path.stem).strip("_") or "grid"
    return MapGrid(name, info.geobox(crs))


def checked_raster(path: Path, crs: Any = None) -> RasterInfo:
    """The raster's description; refused when unreadable, or without a CRS when none is assumed for it."""
    try:
        info = raster_info(path)
    except AssetError as exc:
        raise CovariateError(f"cannot read covariate raster {path}: {exc}") from exc
    if info.crs is None and crs is None:
        raise CovariateError(
            f"covariate raster {path} has no CRS: give it with --covariate-crs (e.g. EPSG:28992) "
            "or write one into the file"
        )
    return info


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
        rank = (-(tile.end - tile.start).days, tile.grid.resolution, tile.item_id)
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
    grid: MapGrid,
    sources: Sequence[CovariateSource],
    config: SoilMapConfig,
    dem: str | Path | None = None,
    extras: Sequence[str | Path] = (),
    crs: Any = None,
) -> CovariateStack:
    """The lazy covariate stack on ``grid``: terrain (DEM, extras), then the sources in order.

    ``crs`` is the CRS of rasters that have none (they are refused without it).
    """
    chunks = _chunks(grid.geobox, config.chunk_size)
    layers: list[tuple[Covariate, Lazy]] = []
    if dem is not None:
        layers += _terrain(Path(dem), grid.geobox, chunks, config.tpi_radii_m, crs)
    names: set[str] = set()
    for path in extras:
        layers += _raster(Path(path), grid.geobox, chunks, names, crs)
    for source in sources:
        if isinstance(source, SoilSuiteSource):
            layers += _soilsuite(source, grid, chunks, config, names)
        else:
            layers += _raster(source.path, grid.geobox, chunks, names, crs)
    data = as_lazy(np.stack([array for _, array in layers])).rechunk({0: -1})
    return CovariateStack(grid, tuple(cov for cov, _ in layers), data)


def _soilsuite(
    source: SoilSuiteSource,
    grid: MapGrid,
    chunks: tuple[tuple[int, ...], ...],
    config: SoilMapConfig,
    taken: set[str],
) -> list[tuple[Covariate, Lazy]]:
    """MREF, then the bare-soil composite (and its soil ratios), from the tile whose grid this is or else
    from the mosaic of every tile."""
    own = [tile for tile in source.tiles if tile.item_id == grid.item_id]
    tiles = own or list(source.tiles)
    soilsuite = {code: raster_blocks([t.assets[code] for t in tiles], grid.geobox, chunks)
                 for code in SOILSUITE_LAYERS}  # fmt: skip
    layers = _bands("MREF", soilsuite["MREF"])
    for code in ("SRC_MEAN", "SRC_STD", "BSF"):
        layers += _bands(code, soilsuite[code])
    if config.spectral_indices:
        mean = dict(zip(REFLECTANCE_BANDS, soilsuite["SRC_MEAN"], strict=True))
        for name, (top, bottom) in SOIL_RATIOS.items():
            layers.append((Covariate(name, "src"), _ratio(mean[top], mean[bottom])))
    return [(Covariate(_unique(cov.name, taken), cov.group), array) for cov, array in layers]


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _chunks(geobox: GeoBox, size: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    height, width = geobox.shape
    return square_layout((height, width), max(16, int(size)))


def _bands(code: str, array: Lazy) -> list[tuple[Covariate, Lazy]]:
    group = GROUP_OF_LAYER[code]
    if array.shape[0] == 1:
        return [(Covariate(code, group), array[0])]
    return [(Covariate(f"{code}_{band}", group), array[i]) for i, band in enumerate(REFLECTANCE_BANDS)]


def _ratio(top: Lazy, bottom: Lazy) -> Lazy:
    with np.errstate(invalid="ignore", divide="ignore"):
        return as_lazy(np.where(bottom > 0, top / bottom, np.nan).astype(np.float32))


def _terrain(
    path: Path, geobox: GeoBox, chunks: tuple[tuple[int, ...], ...], radii_m: Sequence[float], crs: Any
) -> list[tuple[Covariate, Lazy]]:
    """Elevation, slope and a topographic position index per radius (neither lost next to missing cells)."""
    checked_raster(path, crs)
    dem = raster_blocks(path, geobox, chunks, crs)[0]
    resolution = abs(float(geobox.resolution.x))
    out = [
        (Covariate("DEM", "terrain"), dem),
        (Covariate("DEM_SLOPE", "terrain"),
         per_neighbourhood(slope_degrees, dem, 1, boundary="none", resolution=resolution)),
    ]  # fmt: skip
    for radius_m in radii_m:
        radius = max(1, round(radius_m / resolution))
        tpi = per_neighbourhood(topographic_position, dem, radius, boundary="none", radius=radius)
        out.append((Covariate(f"DEM_TPI{radius_m:g}M", "terrain"), tpi))
    return out


def _raster(
    path: Path, geobox: GeoBox, chunks: tuple[tuple[int, ...], ...], taken: set[str], crs: Any
) -> list[tuple[Covariate, Lazy]]:
    """Every band of a covariate raster, named after the file (and the band description or number)."""
    info = checked_raster(path, crs)
    array = raster_blocks(path, geobox, chunks, crs)
    stem = re.sub(r"[^A-Za-z0-9]+", "_", path.stem).strip("_").upper() or "EXTRA"
    out = []
    for i in range(info.count):
        band = info.descriptions[i] if info.count > 1 and info.descriptions[i] else str(i + 1)
        name = stem if info.count == 1 else f"{stem}_{band}"
        out.append((Covariate(_unique(name, taken), "terrain"), array[i]))
    return out
