"""What a user would do instead: the decode floor and the plain odc-stac + xarray notebooks.

Every speed figure is a ratio measured in one run against two references on the same catalog
and area: the **decode floor** (every COG the run needs decoded whole with rasterio, two threads,
no warp: what no reader can beat) and the **notebook peer** (the plain odc-stac + xarray code a
user would write for the same product, written plainly here, as a user would).

* :func:`soilsuite_notebook`: ``odc.stac.load`` (EPSG:3035, 20 m, 512 px chunks, ``groupby=
  "solar_day"``), scale and offset, an SCL clear mask, PVIR2 ≤ 0.2, then the bare observations'
  mean, standard deviation and count and the bare-soil frequency, written as GeoTIFF;
* :func:`seasons_notebook`: NDVI, daily interpolation, a Savitzky–Golay filter, the emergence and
  harvest as threshold crossings of the smoothed curve, written as GeoTIFF;
* :func:`parcels_notebook`: the per-parcel mean of each band and index per date with
  ``xarray.groupby`` (flox) over a rasterised parcel grid, a bare rule per parcel and date on those
  means (the SoilSuite notebook's, half the parcel clear), written as Parquet.

Each runs in its own process (``measure``), so that its peak memory and CPU time are its own.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
CLEAR_SCL = (4, 5, 6, 7, 11)
"""Vegetation, not vegetated, water, unclassified, snow: what a notebook keeps as clear."""
OFFSET_FROM = date(2022, 1, 25)
"""Processing baseline 04.00: L2A DN carry -1000 from here (what a notebook writes by hand)."""


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu_percent: float
    """User + system CPU time over wall time, in percent (200 % = both cores busy)."""
    peak_rss_mb: float


def measure(target: str, *args: str) -> Measured:
    """Run ``peers.py TARGET ARGS`` (or any ``python -c``-able entry) in a child process and time it."""
    began = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, str(HERE / "peers.py"), target, *args], capture_output=True,
                          text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"{target} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"]
    return Measured(round(seconds, 2), round(100 * cpu / seconds), round(peak))


def decode_floor(files: Sequence[str], threads: int = 2) -> None:
    """Decode every file whole at native resolution, ``threads`` at a time (GDAL releases the GIL)."""
    import rasterio

    def decode(path: str) -> int:
        with rasterio.open(path) as src:
            return int(src.read(1).size)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(decode, files))


def _items(catalog: str, bbox: Sequence[float], start: str, end: str) -> list:
    """The catalog's items over ``bbox`` (lon/lat) and the period, as a notebook would filter them."""
    import pystac
    import shapely.geometry

    area = shapely.geometry.box(*bbox)
    first, last = np.datetime64(start), np.datetime64(end) + np.timedelta64(1, "D")
    out = []
    for item in pystac.Catalog.from_file(catalog).get_items(recursive=True):
        when = np.datetime64(item.datetime.replace(tzinfo=None))
        if first <= when < last and shapely.geometry.shape(item.geometry).intersects(area):
            out.append(item)
    return out


def _load(catalog: str, bbox: Sequence[float], start: str, end: str, bands: Sequence[str], resolution: float):  # type: ignore[no-untyped-def]
    import odc.stac

    items = _items(catalog, bbox, start, end)
    keys = {"B02": "blue", "B03": "green", "B04": "red", "B05": "rededge1", "B06": "rededge2",
            "B07": "rededge3", "B08": "nir", "B8A": "nir08", "B11": "swir16", "B12": "swir22",
            "SCL": "scl"}  # fmt: skip
    data = odc.stac.load(items, bands=[keys[b] for b in bands], crs="EPSG:3035", resolution=resolution,
                         chunks={"x": 512, "y": 512}, groupby="solar_day", bbox=list(bbox))  # fmt: skip
    return data.rename({keys[b]: b for b in bands})


def _reflectance(data, bands: Sequence[str]):  # type: ignore[no-untyped-def]
    """DN to reflectance with the baseline-04.00 offset, by date, as a notebook does by hand."""
    offset = xr_where_after(data.time, OFFSET_FROM, -0.1, 0.0)
    return {b: (data[b].where(data[b] > 0) * 1e-4 + offset).astype("float32") for b in bands}


def xr_where_after(times, day: date, after: float, before: float):  # type: ignore[no-untyped-def]
    import xarray as xr

    return xr.where(times >= np.datetime64(day), after, before)


def soilsuite_notebook(
    catalog: str, bbox: Sequence[float], start: str, end: str, out: str, resolution: float
) -> None:
    import xarray as xr

    data = _load(catalog, bbox, start, end, (*BANDS, "SCL"), resolution)
    refl = _reflectance(data, BANDS)
    clear = data.SCL.isin(CLEAR_SCL)
    ndvi = (refl["B08"] - refl["B04"]) / (refl["B08"] + refl["B04"])
    nbr = (refl["B08"] - refl["B12"]) / (refl["B08"] + refl["B12"])
    bare = clear & (ndvi + nbr <= 0.2)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    count = bare.sum("time")
    valid = clear.sum("time")
    layers = {"BSF": 100 * count / valid, "BOBS": count, "VOBS": valid}
    for b in BANDS:
        layers[f"MEAN_{b}"] = refl[b].where(bare).mean("time")
        layers[f"STD_{b}"] = refl[b].where(bare).std("time")
    computed = xr.Dataset(layers).astype("float32").compute()  # one pass over the data
    for name in layers:
        computed[name].odc.write_cog(str(out_dir / f"{name}.tif"), overwrite=True)


def seasons_notebook(
    catalog: str, bbox: Sequence[float], start: str, end: str, out: str, resolution: float
) -> None:
    import dask
    import xarray as xr
    from scipy.signal import savgol_filter

    data = _load(catalog, bbox, start, end, ("B04", "B08", "SCL"), resolution)
    refl = _reflectance(data, ("B04", "B08"))
    ndvi = ((refl["B08"] - refl["B04"]) / (refl["B08"] + refl["B04"])).where(data.SCL.isin((4, 5)))
    ndvi = ndvi.chunk({"time": -1})
    # resampling splits time into chunks again (xarray 2025+), which interpolate_na refuses
    daily = ndvi.resample(time="1D").mean().chunk({"time": -1})
    daily = daily.interpolate_na("time").bfill("time").ffill("time").fillna(0)  # 0: never observed
    smooth = xr.apply_ufunc(savgol_filter, daily, kwargs={"window_length": 31, "polyorder": 2, "axis": -1},
                            input_core_dims=[["time"]], output_core_dims=[["time"]], dask="parallelized",
                            output_dtypes=[np.float32])  # fmt: skip
    smooth = smooth.transpose("time", ...)
    level = smooth.min("time") + 0.5 * (smooth.max("time") - smooth.min("time"))
    above = smooth > level
    peak = smooth.argmax("time")
    doy = smooth.time.dt.dayofyear
    rising = above & ~above.shift(time=1, fill_value=False)
    falling = ~above & above.shift(time=1, fill_value=False)
    index = xr.DataArray(np.arange(smooth.sizes["time"]), dims="time")
    first_rise = (rising * index).where(rising & (index <= peak)).max("time").fillna(0).astype(int)
    first_fall = (falling * index).where(falling & (index > peak)).min("time").fillna(0).astype(int)
    first_rise, first_fall = dask.compute(first_rise, first_fall)  # xarray indexes with computed arrays only
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    days = {"emergence": doy[first_rise], "harvest": doy[first_fall]}
    computed = xr.Dataset({k: v.drop_vars("time") for k, v in days.items()}).astype("float32")
    for name in ("emergence", "harvest"):
        computed[name].odc.write_cog(str(out_dir / f"{name}.tif"), overwrite=True)


def parcels_notebook(catalog: str, bbox: Sequence[float], start: str, end: str, out: str, resolution: float,
                     parcels: str) -> None:  # fmt: skip
    import geopandas as gpd
    import rasterio.features
    import xarray as xr

    bands = ("B02", "B03", "B04", "B08", "B8A", "B11", "B12")
    data = _load(catalog, bbox, start, end, (*bands, "SCL"), resolution)
    refl = _reflectance(data, bands)
    clear = data.SCL.isin((4, 5))
    geobox = data.odc.geobox
    frame = gpd.read_file(parcels).to_crs(geobox.crs.to_wkt())
    shapes = zip(frame.geometry, frame["parcel_id"], strict=True)
    grid = rasterio.features.rasterize(shapes, out_shape=geobox.shape, transform=geobox.transform, fill=0,
                                       dtype="int32")  # fmt: skip
    # outside every parcel is NaN, which groupby leaves out; the coordinates make it align with the cube
    ids = xr.DataArray(np.where(grid > 0, grid, np.nan), dims=("y", "x"), name="parcel_id",
                       coords={"y": data.y, "x": data.x})  # fmt: skip
    ndvi = (refl["B08"] - refl["B04"]) / (refl["B08"] + refl["B04"])
    ndti = (refl["B11"] - refl["B12"]) / (refl["B11"] + refl["B12"])
    nbr = (refl["B08"] - refl["B12"]) / (refl["B08"] + refl["B12"])
    stack = xr.Dataset({**refl, "NDVI": ndvi, "NDTI": ndti, "NBR": nbr}).where(clear)
    stack["clear"] = clear.astype("float32")  # its mean is the parcel's clear share
    means = stack.groupby(ids).mean().compute()  # flox, one pass over the data
    table = means.drop_vars("spatial_ref", errors="ignore").to_dataframe().reset_index()
    table["parcel_id"] = table["parcel_id"].astype("int64")
    # bare per parcel and date: the SoilSuite notebook's rule on the parcel means, half the parcel clear
    table["bare"] = (table["NDVI"] + table["NBR"] <= 0.2) & (table["clear"] >= 0.5)
    table = table[table["clear"] > 0]
    Path(out).mkdir(parents=True, exist_ok=True)
    table.to_parquet(Path(out) / "markers.parquet")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    """``peers.py decode FILES.json`` or ``peers.py <family> CATALOG W,S,E,N START END OUT RES [PARCELS]``."""
    import dask

    dask.config.set(num_workers=os.cpu_count())
    target, *args = argv
    if target == "decode":
        decode_floor(json.loads(Path(args[0]).read_text()))
    else:
        catalog, bbox, start, end, out, resolution, *rest = args
        box = [float(v) for v in bbox.split(",")]
        runner = {"soilsuite": soilsuite_notebook, "seasons": seasons_notebook, "parcels": parcels_notebook}
        runner[target](catalog, box, start, end, out, float(resolution), *rest)
    print(json.dumps({"peak_rss_mb": _peak_rss_mb()}))


if __name__ == "__main__":
    main(sys.argv[1:])
