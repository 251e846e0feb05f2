"""The auxiliary inputs a user would bring, each in the shape its real source has.

* ``parcels.gpkg`` — the paying agency's declarations (GSAA/LPIS): agricultural
  parcels in ETRS89 / UTM 32N (EPSG:25832, as German agencies publish them),
  with the declared crop per year; a small share of declarations is wrong.
* ``soil_samples.csv`` / ``.gpkg`` — lab results at WGS84 points.
* ``worldcover.tif`` — ESA WorldCover classes on its own EPSG:4326 grid
  (1/12000° pixels, uint8, 0 = no data), with the confusion between cropland
  and grassland the real map has.
* ``dem.tif`` — elevation in metres on the 10 m UTM grid.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio.warp
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling

from .crops import CropHistory
from .fields import rng_for
from .files import atomic, write_raster
from .samples import SoilSamples
from .spec import WorldSpec
from .world import WORLDCOVER_CLASS, World

AGENCY_EPSG = 25832
WORLDCOVER_PIXEL_DEG = 1.0 / 12000.0
"""WorldCover's pixel size (about 8.33e-5°, ~10 m at the equator)."""
_AGRICULTURAL = ("cropland", "grassland")


def write_inputs(
    folder: Path, world: World, history: CropHistory, samples: SoilSamples, parcels: gpd.GeoDataFrame
) -> None:
    spec = world.spec
    write_declared_parcels(folder / "parcels.gpkg", spec, history, parcels)
    write_samples(folder, samples)
    write_worldcover(folder / "worldcover.tif", world)
    write_raster(
        folder / "dem.tif",
        world.dem,
        spec.transform(),
        spec.epsg,
        None,
        cog=True,
        tags={"UNITS": "m", "DESCRIPTION": "elevation above sea level"},
    )


def write_declared_parcels(
    path: Path, spec: WorldSpec, history: CropHistory, parcels: gpd.GeoDataFrame
) -> None:
    """Agricultural parcels with one declared crop column per year of the period."""
    rng = rng_for(spec.seed, "declarations")
    declared = parcels[parcels["kind"].isin(_AGRICULTURAL)][["parcel_id", "geometry"]].copy()
    crops = history.crops.pivot(index="parcel_id", columns="year", values="crop")
    choices = sorted(set(history.crops["crop"]))
    for year in range(spec.start.year, spec.end.year + 1):
        values = declared["parcel_id"].map(crops[year]).fillna("").to_numpy(dtype=object)
        wrong = rng.random(values.size) < spec.declared_error_rate
        for i in np.flatnonzero(wrong):
            others = [c for c in choices if c != values[i]]
            values[i] = others[int(rng.integers(len(others)))]
        declared[f"crop_{year}"] = values
    declared = declared.to_crs(epsg=AGENCY_EPSG)
    declared["area_ha"] = (declared.geometry.area / 10_000).round(4)
    columns = ["parcel_id", *[c for c in declared.columns if c.startswith("crop_")], "area_ha", "geometry"]
    write_vector(path, declared[columns].reset_index(drop=True), "parcels")


def write_samples(folder: Path, samples: SoilSamples) -> None:
    table = samples.measured
    with atomic(folder / "soil_samples.csv") as tmp:
        table.to_csv(tmp, index=False)
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326")
    write_vector(folder / "soil_samples.gpkg", points, "soil_samples")


def write_vector(path: Path, frame: gpd.GeoDataFrame, layer: str) -> None:
    with atomic(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The filename extension should be", category=RuntimeWarning)
        frame.to_file(tmp, driver="GPKG", layer=layer, engine="pyogrio")


def write_worldcover(path: Path, world: World) -> None:
    """WorldCover classes, reprojected (nearest) onto the 1/12000° lon/lat grid."""
    spec = world.spec
    lut = np.zeros(256, np.uint8)
    for code, wc in WORLDCOVER_CLASS.items():
        lut[code] = wc
    classes = lut[world.landcover]
    _confuse_agriculture(classes, world)
    x0, y0, x1, y1 = spec.bounds
    to_ll = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    lons, lats = to_ll.transform([x0, x1, x1, x0], [y0, y0, y1, y1])
    px = WORLDCOVER_PIXEL_DEG
    west, east = np.floor(min(lons) / px) * px, np.ceil(max(lons) / px) * px
    south, north = np.floor(min(lats) / px) * px, np.ceil(max(lats) / px) * px
    width, height = round((east - west) / px), round((north - south) / px)
    transform = Affine(px, 0.0, west, 0.0, -px, north)
    out = np.zeros((height, width), np.uint8)
    rasterio.warp.reproject(
        classes,
        out,
        src_transform=spec.transform(),
        src_crs=f"EPSG:{spec.epsg}",
        src_nodata=0,
        dst_transform=transform,
        dst_crs="EPSG:4326",
        dst_nodata=0,
        resampling=Resampling.nearest,
    )
    write_raster(
        path,
        out,
        transform,
        4326,
        0,
        cog=True,
        resampling="nearest",
        tags={
            "CLASSES": "10 tree cover, 30 grassland, 40 cropland, 50 built-up, "
            "60 bare/sparse vegetation, 80 permanent water"
        },
    )


def _confuse_agriculture(classes: np.ndarray, world: World) -> None:
    """Swap cropland and grassland on a few whole parcels, as the real map does (in place)."""
    rng = rng_for(world.spec.seed, "worldcover")
    agri = world.parcels[world.parcels["kind"].isin(_AGRICULTURAL)]
    wrong = agri["parcel_id"][rng.random(len(agri)) < world.spec.worldcover_error_rate].to_numpy()
    mask = np.isin(world.parcel_id, wrong)
    swapped = np.where(classes == 40, 30, np.where(classes == 30, 40, classes))
    classes[mask] = swapped[mask]
