"""The observation cube: Sentinel-2 scenes on the EEA grid as a lazy xarray Dataset.

This is the only module that reads pixels.  ``open_cube`` reads as the pipeline:
find items -> resolve and filter scenes -> choose the grid -> load DN with
odc-stac -> DN to reflectance with per-scene offsets -> clear-sky and snow masks.
Every chunk holds all dates of a spatial block, the shape per-pixel time-series
kernels want, so memory is bounded by the chunk size, not by the area.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

import dask.array as da
import numpy as np
import odc.stac
import pystac
import shapely
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords
from odc.loader._rio import rio_env
from odc.loader.types import RasterLoadParams
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..catalog.layouts import ALL_BANDS, NATIVE_RESOLUTION, REFLECTANCE_BANDS, SCL
from ..catalog.scenes import Scene, select_scenes
from ..catalog.source import StacSource, TimeRange, find_items
from ..config import Config, CubeConfig, ReadConfig
from ..errors import AssetError
from ..grid import EEA_CRS, Area, pixel_size_m
from ..kernels.scaling import dn_to_reflectance
from ..redact import redact
from ..spans import span
from .blockread import read_block
from .masks import clear_sky_mask, snow_mask
from .reader import AssetRef, FailureJournal, GuardedDriver


def open_cube(
    source: StacSource | str,
    area: Area,
    period: TimeRange,
    config: Config | None = None,
    bands: Sequence[str] = ALL_BANDS,
) -> xr.Dataset:
    """The clear-sky observation cube of ``area`` over ``period``, from any STAC source.

    Example
    -------
    >>> from baresoil import grid
    >>> cube = open_cube("sim/stac/earth-search/catalog.json", grid.area_from_tile("E44N27"),
    ...                  TimeRange.parse("2021-01-01", "2022-12-31"))       # doctest: +SKIP
    >>> cube.B04.where(cube.clear).mean("time")                              # doctest: +SKIP
    """
    config = config or Config()
    source = source if isinstance(source, StacSource) else StacSource(source)
    items = find_items(source, area, period, config.read)
    scenes = select_scenes(items, config.scenes, bands)
    area = area.intersection(data_footprint(items), "the footprint of the scenes")
    geobox = area.geobox(config.cube.resolution)
    return load_cube(scenes, geobox, config.cube, bands, config.read)


def load_cube(
    scenes: Sequence[Scene],
    geobox: GeoBox,
    config: CubeConfig = CubeConfig(),
    bands: Sequence[str] = ALL_BANDS,
    reads: ReadConfig | None = None,
    journal: FailureJournal | None = None,
) -> xr.Dataset:
    """Load ``scenes`` onto ``geobox``: reflectance (float32), SCL, masks and scene coordinates.

    An observation is a scene at a pixel where every band loaded has data: where one band has none (the
    edge of its footprint, or an asset that could not be read and was left out, see
    :mod:`.reader`), the scene is no observation there (SCL 0, every band NaN), so the observation
    counts say so.  Clouds are buffered from the scene classification as it was read, so that
    completeness, a per-pixel test, adds no reads of neighbouring chunks.

    The geobox is the EEA grid's for every product but the composites, which may ask for any CRS and
    resolution: the cloud buffer and the choice of resampling follow the geobox's pixel size in metres.
    """
    pixel_m = pixel_size_m(geobox)
    raw = read_dn(scenes, geobox, config, bands, reads, journal)
    complete = complete_observations(raw, scenes, bands)
    cube = xr.Dataset(coords=raw.coords)
    for band in bands:
        if band == SCL:
            continue
        cube[band] = _reflectance(_masked(raw[band], complete, scenes, band), scenes, band)
    if SCL in bands:
        scl = raw[SCL].astype(np.uint8)
        cube["clear"] = clear_sky_mask(scl, config, pixel_m)
        cube["snow"] = snow_mask(scl, config)
        if complete is not None:
            cube["clear"], cube["snow"] = cube.clear & complete, cube.snow & complete
            scl = scl.where(complete, np.uint8(0)).astype(np.uint8)
        scl.attrs = {"long_name": "Sen2Cor scene classification"}
        cube[SCL] = scl
    cube = cube.assign_coords(_scene_coords(scenes))
    cube.attrs.update(
        crs=str(geobox.crs) if geobox.crs is not None else str(EEA_CRS),
        resolution=pixel_m,
        n_scenes=len(scenes),
        cloud_buffer_m=float(config.cloud_buffer_m),
    )
    return cube


def read_dn(
    scenes: Sequence[Scene],
    geobox: GeoBox,
    config: CubeConfig = CubeConfig(),
    bands: Sequence[str] = ALL_BANDS,
    reads: ReadConfig | None = None,
    journal: FailureJournal | None = None,
    *,
    by_block: bool = True,
) -> xr.Dataset:
    """The scenes' digital numbers (uint16) on ``geobox``, lazily: the cube's only read of pixels.

    Reads are retried, and an asset that cannot be read is left out or ends the run, as ``reads``
    says (:mod:`.reader`); ``journal`` collects what was left out.  Each chunk of each band is read by
    :func:`.blockread.read_block` (every file once, the files of one grid warped together); with
    ``by_block=False``, by odc-stac's loader, file by file: the same Dataset, more slowly."""
    side = chunk_side(config, len(scenes))
    driver = GuardedDriver(asset_refs(scenes, bands), reads or ReadConfig(), journal or FailureJournal())
    resampling = _resampling(bands, pixel_size_m(geobox), config.resampling)
    if not by_block:
        raw = odc.stac.load(
            [item for scene in scenes for item in _odc_items(scene, bands)],
            bands=list(bands),
            geobox=geobox,
            groupby="time",
            chunks={"time": len(scenes), "y": side, "x": side},
            resampling=resampling,
            dtype="uint16",
            fail_on_error=True,
            driver=driver,
        )
        if raw.sizes["time"] != len(scenes):
            raise AssertionError(f"odc-stac grouped {raw.sizes['time']} dates for {len(scenes)} scenes")
        return raw
    env = driver.capture_env()  # GDAL's settings of this process, for the workers' reads
    shape = (len(scenes), *geobox.shape.yx)
    chunks = da.core.normalize_chunks((len(scenes), side, side), shape)
    times = xr.DataArray(np.array([scene.time for scene in scenes], dtype="datetime64[ns]"), dims="time")
    coords = {**xr_coords(geobox), "time": times}
    raw = xr.Dataset()
    for band in bands:
        files = tuple(tuple(item.bands[band].href for item in scene.items) for scene in scenes)
        nodata = _band_nodata(scenes, band)
        fill = None if nodata is None else float(nodata)
        cfg = RasterLoadParams(
            dtype="uint16", fill_value=fill, resampling=resampling[band], fail_on_error=True
        )
        reader = partial(_read_chunk, files=files, geobox=geobox, cfg=cfg, driver=driver, band=band, env=env)
        data = da.map_blocks(reader, chunks=chunks, dtype=np.uint16, meta=np.empty((0, 0, 0), np.uint16))
        attrs = {} if fill is None else {"nodata": fill}
        raw[band] = xr.DataArray(data, coords=coords, dims=("time", "y", "x"), attrs=attrs)
    return raw


def _read_chunk(
    files: tuple[tuple[str, ...], ...],
    geobox: GeoBox,
    cfg: RasterLoadParams,
    driver: GuardedDriver,
    band: str,
    env: dict[str, Any],
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray:
    assert block_info is not None
    (t0, t1), (y0, y1), (x0, x1) = block_info[None]["array-location"]
    with rio_env(**env):  # one GDAL environment for the block, not one per file
        return read_block(files[t0:t1], geobox[y0:y1, x0:x1], cfg, driver, band)


def asset_refs(scenes: Sequence[Scene], bands: Sequence[str]) -> dict[str, AssetRef]:
    """Href -> the item and band it is, for naming an asset that cannot be read."""
    return {
        scene_item.bands[band].href: AssetRef(scene_item.id, band)
        for scene in scenes
        for scene_item in scene.items
        for band in bands
    }


def complete_observations(
    raw: xr.Dataset, scenes: Sequence[Scene], bands: Sequence[str]
) -> xr.DataArray | None:
    """True where every band has data, per scene and pixel (None when no band declares a nodata)."""
    has_data = [raw[band] != nodata for band in bands if (nodata := _band_nodata(scenes, band)) is not None]
    if not has_data:
        return None
    complete = has_data[0]
    for more in has_data[1:]:
        complete = complete & more
    return complete


def _masked(
    dn: xr.DataArray, complete: xr.DataArray | None, scenes: Sequence[Scene], band: str
) -> xr.DataArray:
    nodata = _band_nodata(scenes, band)
    if complete is None or nodata is None:
        return dn
    return dn.where(complete, nodata).astype(dn.dtype)


def _band_nodata(scenes: Sequence[Scene], band: str) -> int | None:
    return _dn(scenes[0].items[0].bands[band].nodata)


def chunk_side(config: CubeConfig, n_dates: int) -> int:
    """Spatial chunk side: the configured one, or one that fits the memory budget (multiple of 32)."""
    if config.chunk_size > 0:
        return config.chunk_size
    bytes_per_pixel = len(REFLECTANCE_BANDS) * max(n_dates, 1) * 4
    side = int((config.chunk_megabytes * 1e6 / bytes_per_pixel) ** 0.5) // 32 * 32
    return min(max(side, 64), 2048)


def data_footprint(items: Sequence[pystac.Item]) -> BaseGeometry:
    """Union of the items' footprints, in EPSG:3035."""
    from pyproj import Transformer

    to_eea = Transformer.from_crs(4326, EEA_CRS, always_xy=True)
    geoms = [shape(it.geometry) for it in items if it.geometry is not None]
    union = shapely.union_all(geoms)
    footprint: BaseGeometry = shapely.transform(
        union, lambda c: np.column_stack(to_eea.transform(c[:, 0], c[:, 1]))
    )
    return footprint


def _odc_items(scene: Scene, bands: Sequence[str]) -> Iterator[pystac.Item]:
    """Copies of the scene's items with canonical asset keys and the scene's time.

    One timestamp per solar day lets odc-stac's ``groupby="time"`` mosaic the
    items of one overpass, and canonical keys let one load serve every layout.
    """
    for scene_item in scene.items:
        source = scene_item.item
        item = canonical_item(source, scene.time)
        for band in bands:
            resolved = scene_item.bands[band]
            original = source.assets[scene_item.layout.asset_key(band)]
            add_canonical_asset(item, band, original, resolved.href, "uint16", resolved.nodata)
        yield item


def canonical_item(source: pystac.Item, time: datetime) -> pystac.Item:
    """An empty copy of ``source`` at ``time`` with its ``proj:`` properties, for odc-stac."""
    return pystac.Item(
        id=source.id,
        geometry=source.geometry,
        bbox=source.bbox,
        datetime=time,
        properties={k: v for k, v in source.properties.items() if k.startswith("proj:")},
    )


def add_canonical_asset(
    item: pystac.Item, band: str, original: pystac.Asset, href: str, data_type: str, nodata: float | None
) -> None:
    """``original`` as asset ``band`` of ``item``: its ``proj:`` fields and one ``raster:bands`` entry."""
    extra = {k: v for k, v in original.extra_fields.items() if k.startswith("proj:")}
    extra["raster:bands"] = [{"data_type": data_type, "nodata": nodata}]
    item.add_asset(
        band, pystac.Asset(href=href, media_type=original.media_type, roles=["data"], extra_fields=extra)
    )


def _dn(value: float | None) -> int | None:
    """A nodata value as the integer DN it is (None when there is none, or it is no integer)."""
    return int(value) if value is not None and float(value).is_integer() else None


def _resampling(bands: Sequence[str], resolution: float, choice: str = "auto") -> dict[str, str]:
    """Average when aggregating finer pixels, bilinear when refining, nearest for classes (``auto``), or
    nearest for every band."""
    methods = {}
    for band in bands:
        if band == SCL or choice == "nearest":
            methods[band] = "nearest"
        else:
            methods[band] = "average" if resolution >= NATIVE_RESOLUTION[band] else "bilinear"
    return methods


def _reflectance(dn: xr.DataArray, scenes: Sequence[Scene], band: str) -> xr.DataArray:
    scale, offset = np.array([scene.band_scaling(band) for scene in scenes], dtype=np.float64).T
    nodata = scenes[0].items[0].bands[band].nodata
    kernel = partial(_to_reflectance, scale=scale, offset=offset, nodata=nodata)
    data = dn.data.map_blocks(kernel, dtype=np.float32)
    return xr.DataArray(
        data,
        coords=dn.coords,
        dims=dn.dims,
        name=band,
        attrs={"long_name": f"surface reflectance {band}", "units": "1"},
    )


def _to_reflectance(dn: np.ndarray, **kwargs: Any) -> np.ndarray:
    with span("reflectance"):
        return dn_to_reflectance(dn, **kwargs)


def _scene_coords(scenes: Sequence[Scene]) -> dict[str, tuple[str, np.ndarray]]:
    return {
        "sun_elevation": ("time", np.array([s.sun_elevation for s in scenes], dtype=np.float32)),
        "cloud_cover": ("time", np.array([s.cloud_cover for s in scenes], dtype=np.float32)),
        "platform": ("time", np.array([s.platform for s in scenes])),
        "processing_baseline": ("time", np.array([s.processing_baseline for s in scenes])),
        "offset_source": ("time", np.array([s.offset_source for s in scenes])),
        "layout": ("time", np.array([s.layout for s in scenes])),
        "items": ("time", np.array([",".join(it.id for it in s.items) for s in scenes])),
    }


@contextmanager
def explain_read_errors(scenes: Sequence[Scene]) -> Iterator[None]:
    """Turn a GDAL read failure during computation into an error naming the item and band."""
    try:
        yield
    except AssetError:
        raise
    except Exception as exc:
        message = str(exc)
        for scene in scenes:
            for item in scene.items:
                for band, asset in item.bands.items():
                    if _local_path(asset.href) in message:
                        first_line = message.splitlines()[0] if message else type(exc).__name__
                        raise AssetError(
                            redact(f"item {item.id}: band {band} cannot be read ({asset.href}): {first_line}")
                        ) from exc
        raise


def _local_path(href: str) -> str:
    return href.removeprefix("file://")


__all__ = ["data_footprint", "explain_read_errors", "load_cube", "open_cube", "read_dn"]
