"""Observation cubes built in memory, as ``cube.load_cube`` returns them, for product tests that do not test
reading: no COG is written and odc-stac is not involved.

:func:`memory_cube` takes reflectance and SCL arrays on a grid and returns the dataset a product function
receives: float32 bands, the SCL, the clear-sky and snow masks made from it by the cube's own functions
(cloud buffer included), per-scene coordinates and the attributes the products read.  As in ``load_cube``,
an observation whose bands are not all present is no observation (SCL 0, every band NaN, not clear).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords

from baresoil.catalog.layouts import REFLECTANCE_BANDS
from baresoil.config import CubeConfig
from baresoil.cube.masks import clear_sky_mask, snow_mask
from baresoil.grid import geobox_for_bounds, pixel_size_m

SPECTRA = {
    "soil": (0.08, 0.11, 0.16, 0.18, 0.20, 0.22, 0.24, 0.25, 0.30, 0.26),
    "canopy": (0.03, 0.06, 0.03, 0.09, 0.25, 0.33, 0.38, 0.40, 0.20, 0.10),
    "water": (0.06, 0.05, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01, 0.005, 0.003),
}
"""Reflectance of a few surfaces in the order of ``REFLECTANCE_BANDS`` (B02 … B12)."""
ORIGIN = (4_400_000.0, 2_780_000.0)
"""South-west corner (EPSG:3035) of the default grid: in EEA tile E44N27."""

Chunks = int | tuple[int, ...]


def eea_geobox(ny: int, nx: int, resolution: float = 20.0, origin: tuple[float, float] = ORIGIN) -> GeoBox:
    """``ny`` x ``nx`` pixels on the EEA grid, south-west corner at ``origin``."""
    x0, y0 = origin
    return geobox_for_bounds((x0, y0, x0 + nx * resolution, y0 + ny * resolution), resolution)


def memory_cube(
    bands: Mapping[str, np.ndarray],
    scl: np.ndarray,
    times: Sequence[date | datetime | np.datetime64],
    *,
    geobox: GeoBox | None = None,
    chunks: tuple[Chunks, Chunks] | None = None,
    config: CubeConfig | None = None,
) -> xr.Dataset:
    """The cube of reflectance ``bands`` (name -> (time, y, x)) and ``scl`` (time, y, x) on ``geobox``
    (by default the EEA grid at ``config.resolution`` from :data:`ORIGIN`), in spatial ``chunks``
    (whole by default) with every date in each chunk, as ``load_cube`` chunks it."""
    config = config or CubeConfig()
    n_time, ny, nx = np.shape(scl)
    geobox = geobox or eea_geobox(ny, nx, config.resolution)
    if (geobox.height, geobox.width) != (ny, nx):
        raise ValueError(f"the arrays are {ny} x {nx} pixels, the geobox {geobox.height} x {geobox.width}")
    if len(times) != n_time:
        raise ValueError(f"{len(times)} times for {n_time} dates of data")
    spatial = chunks or (ny, nx)
    block = (n_time, *spatial)

    reflectance = {name: np.asarray(values, np.float32) for name, values in bands.items()}
    complete = np.logical_and.reduce([np.isfinite(v) for v in reflectance.values()])
    scl = np.where(complete, scl, 0).astype(np.uint8)
    dims = ("time", "y", "x")
    cube = xr.Dataset(coords={"time": pd.to_datetime(list(times)).to_numpy(), **xr_coords(geobox)})
    for name, values in reflectance.items():
        values = np.where(complete, values, np.float32(np.nan))
        attrs = {"long_name": f"surface reflectance {name}", "units": "1"}
        cube[name] = xr.DataArray(da.from_array(values, chunks=block), dims=dims, attrs=attrs)
    scl_array = xr.DataArray(da.from_array(scl, chunks=block), coords=cube.coords, dims=dims,
                             attrs={"long_name": "Sen2Cor scene classification"})  # fmt: skip
    pixel_m = pixel_size_m(geobox)
    cube["clear"] = clear_sky_mask(scl_array, config, pixel_m)
    cube["snow"] = snow_mask(scl_array, config)
    cube["SCL"] = scl_array
    cube = cube.assign_coords(
        sun_elevation=("time", np.full(n_time, 45.0, np.float32)),
        cloud_cover=("time", np.zeros(n_time, np.float32)),
        platform=("time", np.array(["sentinel-2a"] * n_time)),
        processing_baseline=("time", np.array(["05.00"] * n_time)),
        offset_source=("time", np.array(["baseline"] * n_time)),
        layout=("time", np.array(["memory"] * n_time)),
        items=("time", np.array([f"scene{i}" for i in range(n_time)])),
    )
    cube.attrs.update(crs=str(geobox.crs), resolution=pixel_m, n_scenes=n_time,
                      cloud_buffer_m=float(config.cloud_buffer_m))  # fmt: skip
    return cube


def surface_bands(surface: np.ndarray, noise: float = 0.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Reflectance (band -> (time, y, x) float32) of named surfaces: ``surface`` holds keys of
    :data:`SPECTRA`, each observation that spectrum times (1 + ``noise`` × a standard normal draw)."""
    rng = np.random.default_rng(seed)
    bands = {}
    for i, band in enumerate(REFLECTANCE_BANDS):
        values = np.zeros(surface.shape, np.float32)
        for name, spectrum in SPECTRA.items():
            values[surface == name] = spectrum[i]
        bands[band] = values * (1 + noise * rng.standard_normal(surface.shape)).astype(np.float32)
    return bands


def surface_scl(surface: np.ndarray) -> np.ndarray:
    """The SCL of named surfaces: 4 (vegetation) for the canopy, 6 for water, 5 (not vegetated) else."""
    return np.select([surface == "canopy", surface == "water"], [4, 6], 5).astype(np.uint8)


def surfaces_cube(
    surface: np.ndarray,
    times: Sequence[date | datetime | np.datetime64],
    *,
    noise: float = 0.0,
    seed: int = 0,
    scl: np.ndarray | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """The cube of named surfaces (:func:`surface_bands`), their SCL (:func:`surface_scl`) unless ``scl``
    is given; ``kwargs`` as :func:`memory_cube`'s."""
    bands = surface_bands(surface, noise, seed)
    return memory_cube(bands, surface_scl(surface) if scl is None else scl, times, **kwargs)


def ndvi_cube(
    ndvi: np.ndarray,
    times: Sequence[date | datetime | np.datetime64],
    *,
    scl: np.ndarray | None = None,
    red: float = 0.05,
    **kwargs: Any,
) -> xr.Dataset:
    """A cube of B04 and B08 whose NDVI is ``ndvi`` (time, y, x); SCL 4 (vegetation) unless ``scl`` is
    given."""
    red_band = np.full(ndvi.shape, red, np.float32)
    nir = (red_band * (1 + ndvi) / (1 - ndvi)).astype(np.float32)
    scl = np.full(ndvi.shape, 4, np.uint8) if scl is None else scl
    return memory_cube({"B04": red_band, "B08": nir}, scl, times, **kwargs)
