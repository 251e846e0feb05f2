"""A tiny hand-made soil landscape for the soil-map tests: SoilSuite outputs, a DEM and samples.

True SOC and clay are smooth fields of known form; the bare-soil composite
(SRC_MEAN) is darker with more SOC and has a deeper SWIR2 absorption with more
clay, as real soils do, so the covariates determine the properties.  The
SoilSuite layers are written with the project's own COG and STAC writers (an
output catalog, as ``baresoil soilsuite`` leaves it); the composite is missing
(never bare) in the north-west corner.  The DEM is in UTM 32N at 10 m, so it must
be reprojected onto the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords
from pyproj import Transformer
from rasterio.transform import from_origin

import baresoil.products  # noqa: F401 - registers every layer
from baresoil.catalog.layouts import REFLECTANCE_BANDS
from baresoil.grid import EEA_CRS, tiles_covering
from baresoil.io.cog import LayerOutput, write_layers
from baresoil.io.stac import OutputItem, update_catalog, write_item

X0, Y0 = 4_400_000.0, 2_800_000.0
"""South-west corner of the landscape (EPSG:3035)."""
PIXELS = 64
RESOLUTION = 20.0
GAP = 12
"""The north-west GAP x GAP pixels have no bare-soil composite."""
SOIL_REFERENCE = np.array([0.08, 0.11, 0.15, 0.17, 0.19, 0.21, 0.23, 0.24, 0.30, 0.27])


@dataclass(frozen=True)
class Landscape:
    covariates: Path
    """SoilSuite output folder (catalog.json)."""
    dem: Path
    samples: Path
    """CSV with sample_id, lon, lat, soc, clay."""
    geobox: GeoBox
    soc: np.ndarray
    clay: np.ndarray
    table: pd.DataFrame
    """The samples' table, with x, y (EPSG:3035), row and col besides."""


def geobox() -> GeoBox:
    size = PIXELS * RESOLUTION
    return GeoBox.from_bbox((X0, Y0, X0 + size, Y0 + size), crs=EEA_CRS, resolution=RESOLUTION)


def true_fields() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SOC (g/kg), clay (%) and elevation (m) on the grid, north up."""
    rows, cols = np.mgrid[0:PIXELS, 0:PIXELS] / PIXELS
    soc = 15 + 7 * np.sin(2 * np.pi * cols) * np.cos(np.pi * rows) + 4 * rows
    clay = 25 + 8 * np.cos(2 * np.pi * (rows + 0.3 * cols))
    elevation = 500 + 20 * rows - 10 * cols
    return soc, clay, elevation


def src_mean(soc: np.ndarray, clay: np.ndarray) -> np.ndarray:
    """Dry-soil reflectance (band, y, x): darker with SOC, SWIR2 absorption deeper with clay."""
    brightness = (soc / 15.0) ** -0.6
    spectrum = SOIL_REFERENCE[:, None, None] * brightness[None]
    spectrum[-1] = spectrum[-2] * (0.875 - 0.004 * (clay - 24))
    return spectrum


def make_landscape(folder: Path, n_samples: int = 90, seed: int = 1, noise: float = 0.02) -> Landscape:
    rng = np.random.default_rng(seed)
    gbox = geobox()
    soc, clay, elevation = true_fields()
    mean = src_mean(soc, clay) * (1 + rng.normal(0, 0.005, (10, PIXELS, PIXELS)))
    mean[:, :GAP, :GAP] = np.nan
    std = np.where(np.isnan(mean), np.nan, 0.01 + 0.002 * rng.random((10, PIXELS, PIXELS)))
    bsf = 20 + 30 * rng.random((PIXELS, PIXELS))
    mref = (
        0.5 * src_mean(soc, clay)
        + 0.5 * np.array([0.03, 0.06, 0.03, 0.1, 0.25, 0.3, 0.35, 0.38, 0.2, 0.1])[:, None, None]
    )
    covariates = folder / "soilsuite"
    _write_soilsuite(covariates, gbox, {"SRC_MEAN": mean, "SRC_STD": std, "BSF": bsf, "MREF": mref})
    dem = _write_dem(folder / "dem.tif", gbox, elevation)
    table = _samples(rng, gbox, soc, clay, n_samples, noise)
    samples = folder / "samples.csv"
    table[["sample_id", "lon", "lat", "soc", "clay"]].to_csv(samples, index=False)
    return Landscape(covariates, dem, samples, gbox, soc, clay, table)


def _write_soilsuite(out: Path, gbox: GeoBox, layers: dict[str, np.ndarray]) -> None:
    tile = tiles_covering(tuple(gbox.boundingbox))[0].code
    item_id = f"soilsuite_{tile}_2021-2022_R20m"
    coords = xr_coords(gbox)
    outputs, assets = [], {}
    for code, values in layers.items():
        if values.ndim == 3:
            array = xr.DataArray(
                values, coords={"band": list(REFLECTANCE_BANDS), **coords}, dims=("band", "y", "x")
            )
        else:
            array = xr.DataArray(values, coords=coords, dims=("y", "x"))
        assets[code] = out / item_id / f"{item_id}_{code}.tif"
        outputs.append(LayerOutput(code, array.chunk({"y": 32, "x": 32}), assets[code]))
    write_layers(outputs, gbox)
    properties = {"baresoil:family": "soilsuite", "gsd": RESOLUTION}
    write_item(out, OutputItem(item_id, tile, date(2021, 1, 1), date(2022, 12, 31), gbox, assets, properties))
    update_catalog(out, [item_id])


def _write_dem(path: Path, gbox: GeoBox, elevation: np.ndarray) -> Path:
    """The elevation field resampled to a 10 m UTM 32N raster a little larger than the grid."""
    to_utm = Transformer.from_crs(EEA_CRS, 32632, always_xy=True)
    x0, y0, x1, y1 = gbox.boundingbox
    xs, ys = to_utm.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    left, top = np.floor(min(xs) / 10) * 10 - 100, np.ceil(max(ys) / 10) * 10 + 100
    width, height = int((max(xs) - left) / 10) + 20, int((top - min(ys)) / 10) + 20
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    ux, uy = left + (cols + 0.5) * 10, top - (rows + 0.5) * 10
    ex, ey = Transformer.from_crs(32632, EEA_CRS, always_xy=True).transform(ux, uy)
    # the same linear field as true_fields(), continued outside the grid
    frac_rows = ((Y0 + PIXELS * RESOLUTION) - ey) / (PIXELS * RESOLUTION)
    frac_cols = (ex - X0) / (PIXELS * RESOLUTION)
    values = (500 + 20 * frac_rows - 10 * frac_cols).astype(np.float32)
    profile = dict(driver="GTiff", dtype="float32", count=1, width=width, height=height, crs="EPSG:32632",
                   transform=from_origin(left, top, 10, 10), nodata=-9999)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def _samples(
    rng: np.random.Generator, gbox: GeoBox, soc: np.ndarray, clay: np.ndarray, n: int, noise: float
) -> pd.DataFrame:
    flat = rng.choice(PIXELS * PIXELS, size=n, replace=False)
    rows, cols = np.unravel_index(flat, (PIXELS, PIXELS))
    x = X0 + (cols + 0.5) * RESOLUTION
    y = Y0 + PIXELS * RESOLUTION - (rows + 0.5) * RESOLUTION
    lon, lat = Transformer.from_crs(EEA_CRS, 4326, always_xy=True).transform(x, y)
    return pd.DataFrame(
        {
            "sample_id": [f"P{i:03d}" for i in range(n)],
            "lon": np.round(lon, 8),
            "lat": np.round(lat, 8),
            "soc": np.round(soc[rows, cols] * (1 + rng.normal(0, noise, n)), 2),
            "clay": np.round(clay[rows, cols] + rng.normal(0, 25 * noise, n), 2),
            "x": x,
            "y": y,
            "row": rows,
            "col": cols,
        }
    )
