"""netCDF-4 and Zarr data cubes of layers over several periods, encoded from the product registry.

A cube holds every period of one grid: each layer is a variable (time, y, x),
stored as the registry's COGs store it (integers with ``scale_factor``,
``add_offset`` and ``_FillValue``, CF conventions: xarray, GDAL and QGIS read
physical values), ``time`` is the first day of each period with its bounds in
``time_bounds``, ``period`` holds the period labels, and ``spatial_ref`` the
grid mapping (CRS as WKT and the geotransform).  The file (or the Zarr folder)
is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dask.array as da
import numpy as np
import odc.geo.xr
import xarray as xr
from odc.geo.geobox import GeoBox

from ..errors import OutputError
from ..registry import layer
from .atomic import PARTIAL, atomic_path

FORMATS = ("netcdf", "zarr")
SUFFIXES = {"netcdf": ".nc", "zarr": ".zarr"}
MEDIA_TYPES = {"netcdf": "application/netcdf", "zarr": "application/vnd+zarr"}
GRID_MAPPING = "spatial_ref"


@dataclass(frozen=True)
class CubePeriod:
    """One time step of a cube: its days and label, and its layers (physical values, dims (y, x))."""

    start: date
    end: date
    label: str
    layers: Mapping[str, xr.DataArray]


def cube_dataset(periods: Sequence[CubePeriod], geobox: GeoBox, attrs: Mapping[str, str]) -> xr.Dataset:
    """The periods' layers as one lazy dataset of stored values, with CF attributes."""
    codes = list(periods[0].layers)
    spatial = odc.geo.xr.xr_coords(geobox, crs_coord_name=GRID_MAPPING)
    starts = np.array([np.datetime64(p.start, "ns") for p in periods])
    bounds = np.array([[np.datetime64(p.start, "ns"), np.datetime64(p.end, "ns") + np.timedelta64(1, "D")]
                       for p in periods])  # fmt: skip
    variables = {code: _variable(code, [p.layers[code] for p in periods]) for code in codes}
    dataset = xr.Dataset(variables, coords={"time": starts, **spatial})
    dataset["time"].attrs.update(long_name="first day of the period", bounds="time_bounds")
    dataset["time_bounds"] = (("time", "nv"), bounds)
    dataset = dataset.assign_coords(period=("time", [p.label for p in periods]))
    dataset["period"].attrs["long_name"] = "period label"
    dataset.attrs.update({"Conventions": "CF-1.8", **attrs})
    return dataset


def _variable(code: str, values: Sequence[xr.DataArray]) -> xr.DataArray:
    spec = layer(code)
    stacked = da.stack([_lazy(v.transpose("y", "x")) for v in values])
    stored = da.map_blocks(spec.encode, stacked, dtype=spec.dtype)
    attrs: dict[str, object] = {"long_name": spec.title, "description": spec.description,
                                "grid_mapping": GRID_MAPPING}  # fmt: skip
    # float32 factors: readers unpack to float32, as the registry's physical values are
    if spec.scale != 1.0:
        attrs["scale_factor"] = np.float32(spec.scale)
    if spec.offset != 0.0:
        attrs["add_offset"] = np.float32(spec.offset)
    if spec.unit:
        attrs["units"] = spec.unit
    variable = xr.DataArray(stored, dims=("time", "y", "x"), attrs=attrs)
    variable.encoding = {"_FillValue": np.asarray(spec.nodata).astype(spec.dtype), "dtype": spec.dtype}
    return variable


def _lazy(values: xr.DataArray) -> da.Array:
    data = values.data
    return data if isinstance(data, da.Array) else da.from_array(np.asarray(data), chunks=(512, 512))


def write_cube(dataset: xr.Dataset, path: Path, fmt: str) -> Path:
    """Compute and write ``dataset`` as netCDF-4 (compressed, chunked) or Zarr (v2, consolidated)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown cube format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        if fmt == "netcdf":
            _write_netcdf(dataset, path)
        else:
            _write_zarr(dataset, path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path


_NETCDF_WRITE = threading.Lock()
"""One netCDF-4 write at a time in the process: HDF5 under it is not safe for two threads at once, and two
jobs of the API server, each writing its cube from its own thread, crashed the process (a segmentation
fault in netCDF4's variable write) with xarray's own locks in place."""


def _write_netcdf(dataset: xr.Dataset, path: Path) -> None:
    encoding = {}
    for name, variable in dataset.data_vars.items():
        if name == "time_bounds":
            continue
        chunks = [min(512, n) for n in variable.shape]
        chunks[0] = 1  # one period per chunk: a reader of one period reads only it
        encoding[name] = {**variable.encoding, "zlib": True, "complevel": 4, "shuffle": True,
                          "chunksizes": tuple(chunks)}  # fmt: skip
    with atomic_path(path) as partial, _NETCDF_WRITE:
        dataset.to_netcdf(partial, engine="netcdf4", encoding=encoding)


def _write_zarr(dataset: xr.Dataset, path: Path) -> None:
    """Zarr format 2 with consolidated metadata: what GDAL, QGIS and every xarray version read."""
    partial = path.with_name(path.name + PARTIAL)
    shutil.rmtree(partial, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunked = dataset.chunk({"time": 1, "y": 512, "x": 512})
    for variable in chunked.variables.values():
        variable.encoding.pop("chunks", None)
        variable.encoding.pop("preferred_chunks", None)
    try:
        chunked.to_zarr(partial, mode="w", zarr_format=2, consolidated=True)
        shutil.rmtree(path, ignore_errors=True)
        partial.rename(path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
