"""A small Meuse-like floodplain for the soil-map tests: the user's own covariate rasters, no SoilSuite.

Like the Meuse data set (gstat), samples of topsoil organic matter (``om``, %)
and zinc (``zinc``, ppm) lie on a floodplain in the Dutch projection
(EPSG:28992), and both are richest next to the river.  Covariates are GeoTIFFs
on a 40 m grid: distance to the river (``dist``), flood frequency class
(``ffreq``, 1-3) and soil class (``soil``, 1-3); the DEM (``elev``) has no data
over the river, so the riverside samples sit in the first column of pixels next
to its nodata edge.  Zinc and organic matter follow the distance and the
elevation, with noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.transform import from_origin

CRS = "EPSG:28992"
X0, Y1 = 178_440.0, 333_760.0
"""North-west corner of the grid (EPSG:28992)."""
RESOLUTION = 40.0
ROWS, COLS = 40, 36
RIVER = 4
"""The westernmost RIVER columns are the river: no elevation there."""
NODATA = -9999.0
RIVERSIDE = ("1", "2", "3", "4", "5", "6")
"""Samples in the first column of pixels next to the river (the richest)."""
NO_OM = ("40", "41")
"""Samples whose organic matter was not measured (as two in the Meuse set)."""


@dataclass(frozen=True)
class Floodplain:
    covariates: Path
    """Folder of the covariate rasters (dist.tif, ffreq.tif, soil.tif)."""
    dem: Path
    samples: Path
    """CSV with id, x, y (EPSG:28992), om, zinc, landuse."""
    table: pd.DataFrame
    """The samples' table, with row and col besides."""
    dist: np.ndarray


def fields() -> dict[str, np.ndarray]:
    rows, cols = np.mgrid[0:ROWS, 0:COLS].astype(np.float64)
    dist = np.maximum(0.0, (cols - RIVER + 0.5) * RESOLUTION + 60 * np.sin(rows / 6))
    elev = 6.0 + 0.004 * dist + 0.6 * np.cos(rows / 5) + 0.3 * np.sin(cols / 3)
    elev[:, :RIVER] = np.nan
    ffreq = np.digitize(dist, [250, 700]) + 1
    soil = np.where(rows + 0.4 * cols < 22, 1, np.where(cols > 25, 3, 2))
    return {"dist": dist, "elev": elev, "ffreq": ffreq, "soil": soil}


def make_floodplain(folder: Path, n_samples: int = 155, seed: int = 7) -> Floodplain:
    rng = np.random.default_rng(seed)
    grids = fields()
    covariates = folder / "covariates"
    covariates.mkdir(parents=True)
    write_raster(covariates / "dist.tif", grids["dist"].astype(np.float32))
    write_raster(covariates / "ffreq.tif", grids["ffreq"].astype(np.uint8), nodata=0)
    write_raster(covariates / "soil.tif", grids["soil"].astype(np.uint8), nodata=0)
    dem = write_raster(folder / "elev.tif", np.where(np.isnan(grids["elev"]), NODATA, grids["elev"]))
    table = _samples(rng, grids, n_samples)
    samples = folder / "meuse.csv"
    table[["id", "x", "y", "om", "zinc", "landuse"]].to_csv(samples, index=False)
    return Floodplain(covariates, dem, samples, table, grids["dist"])


def write_raster(path: Path, values: np.ndarray, crs: str | None = CRS, nodata: float = NODATA,
                 resolution: float = RESOLUTION) -> Path:  # fmt: skip
    """One band on the floodplain's grid (or another resolution over the same corner); ``crs=None``
    writes no CRS at all."""
    transform = from_origin(X0, Y1, resolution, resolution)
    profile = dict(driver="GTiff", dtype=values.dtype.name, count=1, width=values.shape[1],
                   height=values.shape[0], transform=transform, nodata=nodata)  # fmt: skip
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def _samples(rng: np.random.Generator, grids: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    riverside_rows = rng.choice(ROWS, size=len(RIVERSIDE), replace=False)
    land = [(r, c) for r in range(ROWS) for c in range(RIVER + 1, COLS)]
    chosen = rng.choice(len(land), size=n - len(RIVERSIDE), replace=False)
    rows = np.concatenate([riverside_rows, [land[k][0] for k in chosen]])
    cols = np.concatenate([np.full(len(RIVERSIDE), RIVER), [land[k][1] for k in chosen]])
    dist, elev = grids["dist"][rows, cols], grids["elev"][rows, cols]
    zinc = (120 + 1500 * np.exp(-dist / 180)) * np.exp(-0.15 * (elev - 7) + rng.normal(0, 0.15, n))
    om = (1.5 + 11 * np.exp(-dist / 220) + 0.8 * (grids["soil"][rows, cols] == 1)) * np.exp(
        rng.normal(0, 0.12, n)
    )
    ids = [str(i + 1) for i in range(n)]
    om_text = [("" if i in NO_OM else f"{v:.1f}") for i, v in zip(ids, om, strict=True)]
    return pd.DataFrame(
        {
            "id": ids,
            "x": X0 + (cols + 0.5) * RESOLUTION,
            "y": Y1 - (rows + 0.5) * RESOLUTION,
            "om": om_text,
            "zinc": np.round(zinc).astype(int),
            "landuse": rng.choice(["Aa", "Ab", "W", "Fw"], size=n),
            "row": rows,
            "col": cols,
        }
    )
