"""Sentinel-1 backscatter over the simulated world: sigma0 VV and VH every 6 days, with speckle.

Published as Microsoft Planetary Computer publishes radiometrically terrain-corrected
Sentinel-1 (collection ``sentinel-1-rtc``): one item per acquisition, assets ``vv`` and
``vh``, float32 COGs of **linear power** on a 10 m UTM grid, nodata −32768.  The catalog is
its own (``stac/sentinel-1-rtc/catalog.json``), beside the Sentinel-2 ones.

The backscatter follows the water-cloud model (Attema & Ulaby 1978) per pixel::

    sigma0 = A·V·cosθ·(1 − τ²) + τ²·sigma0_soil,     τ² = exp(−2·B·V / cosθ)

with V the standing vegetation (green counts fully, dry half; from the crop state),
and the bare-soil term in dB rising with topsoil **moisture** (the weather's bucket,
the terrain's wetness and the fresh-tillage boost; frozen soil loses most of it) and
with **roughness** from tillage: ploughing leaves the roughest surface, stubble
tillage a medium one, a seedbed a smooth one; rain then slakes the clods back
towards a smooth crust.  Static materials (roofs, asphalt, water, rock) have
their own levels and mix linearly with the natural surface by their pixel fraction.
Speckle is multiplicative, Gamma-distributed with mean 1 and the equivalent number
of looks of the RTC product, independently per pixel, date and polarisation.

Every draw comes from its own generator (``sar`` keys), so the Sentinel-2 outputs of
a seed are the same with and without Sentinel-1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pystac
from pyproj import Transformer
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension
from pystac.extensions.sar import FrequencyBand, Polarization, SarExtension
from pystac.extensions.sat import OrbitState, SatExtension

from .crops import CropHistory
from .fields import rng_for
from .files import atomic, write_raster
from .spec import PIXEL_M, WorldSpec
from .stac import save_catalog, simulated_collection
from .weather import Weather
from .world import (
    FOREST_CONIFEROUS,
    FOREST_DECIDUOUS,
    GRASSLAND,
    HEDGE,
    MAT_ASPHALT,
    MAT_GREY_ROOF,
    MAT_RED_ROOF,
    MAT_ROCK,
    MAT_WATER,
    World,
)

COLLECTION_ID = "sentinel-1-rtc"
"""Planetary Computer's collection of radiometrically terrain-corrected Sentinel-1 GRD."""
POLARISATIONS = ("vv", "vh")
"""Asset keys (Planetary Computer's), one per polarisation."""
REVISIT_DAYS = 6
NODATA = -32768.0
ENL = 4.4
"""Equivalent number of looks of IW GRDH, the speckle's Gamma shape."""
INCIDENCE_DEG = 38.0
"""Incidence angle over the (few-kilometre) world: mid-swath of IW."""
OVERPASS_UTC = time(17, 5, 12)
"""Ascending pass over Bavaria in the early evening."""
RELATIVE_ORBIT = 117
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"

# Bare-soil backscatter in dB: base + moisture and roughness slopes (VH is the more roughness-driven).
SOIL_DB = {"vv": (-17.0, 6.0, 5.0), "vh": (-25.0, 5.0, 6.0)}
# Water-cloud parameters (A, B) by vegetation type; forest canopies scatter more volume.
CROP_AB = {"vv": (0.19, 0.5), "vh": (0.06, 0.5)}
FOREST_AB = {"vv": (0.40, 0.3), "vh": (0.12, 0.3)}
GRASS_V_SCALE = 0.5
"""A meadow's cover is dense but short: half the volume of a crop canopy of the same cover."""
MATERIAL_DB: Mapping[int, tuple[float, float]] = {
    MAT_RED_ROOF: (-3.0, -10.0),  # double bounce off walls and ground
    MAT_GREY_ROOF: (-3.0, -10.0),
    MAT_ASPHALT: (-18.0, -26.0),  # smooth: specular away from the sensor
    MAT_WATER: (-21.0, -28.0),
    MAT_ROCK: (-11.0, -18.0),
}
# Roughness (0 smooth … 1 fresh ploughing) left by each operation, and its decay.
ROUGHNESS_AFTER = {"ploughing": 1.0, "stubble_tillage": 0.6, "seedbed": 0.2, "harvest": 0.35}
ROUGHNESS_BASE = 0.15
ROUGHNESS_START = 0.35
"""Before the first event of the window: a stubble field."""
SLAKING_RAIN_MM = 150.0
"""Rain that takes away about two thirds of the clods' roughness above the crust."""
FROZEN_MOISTURE_SHARE = 0.3
"""Frozen topsoil keeps this share of its dielectric (moisture) effect."""


@dataclass(frozen=True)
class SarAcquisition:
    """One Sentinel-1 pass over the world."""

    index: int
    datetime: datetime
    platform: str
    """``sentinel-1a`` or ``sentinel-1b``."""
    absolute_orbit: int

    @property
    def date(self) -> date:
        return self.datetime.date()

    @property
    def item_id(self) -> str:
        """Planetary Computer style: the GRD product id with an ``_rtc`` suffix."""
        unit = "S1" + self.platform[-1].upper()
        start = self.datetime.strftime("%Y%m%dT%H%M%S")
        stop = (self.datetime + timedelta(seconds=25)).strftime("%Y%m%dT%H%M%S")
        take = f"{(self.absolute_orbit * 7) % 0xFFFFFF:06X}"
        return f"{unit}_IW_GRDH_1SDV_{start}_{stop}_{self.absolute_orbit:06d}_{take}_rtc"


def sar_acquisitions(spec: WorldSpec) -> tuple[SarAcquisition, ...]:
    """One ascending pass every 6 days from ``spec.start`` (Sentinel-1A and -1B alternating)."""
    rng = rng_for(spec.seed, "sar", "schedule")
    out = []
    day, i = spec.start, 0
    while day <= spec.end:
        when = datetime.combine(day, OVERPASS_UTC, tzinfo=UTC) + timedelta(seconds=float(rng.uniform(-2, 2)))
        platform = "sentinel-1a" if i % 2 == 0 else "sentinel-1b"
        orbit = 36_000 + 175 * ((day - date(2021, 1, 1)).days // 12) + (0 if i % 2 == 0 else 1)
        out.append(SarAcquisition(i, when, platform, orbit))
        day += timedelta(days=REVISIT_DAYS)
        i += 1
    return tuple(out)


# --- the physics -------------------------------------------------------------------------


def soil_db(moisture: np.ndarray, roughness: np.ndarray, pol: str) -> np.ndarray:
    """Bare-soil sigma0 (dB) from moisture (0 … 1) and roughness (0 … 1)."""
    base, per_moisture, per_roughness = SOIL_DB[pol]
    return base + per_moisture * moisture + per_roughness * roughness


def water_cloud(
    vegetation: np.ndarray, soil_linear: np.ndarray, a: np.ndarray | float, b: np.ndarray | float
) -> np.ndarray:
    """sigma0 (linear) of a canopy of volume ``vegetation`` over a soil of ``soil_linear``."""
    cos_theta = math.cos(math.radians(INCIDENCE_DEG))
    tau2 = np.exp(-2.0 * b * vegetation / cos_theta)
    return a * vegetation * cos_theta * (1.0 - tau2) + tau2 * soil_linear


def speckle(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Multiplicative speckle: Gamma(ENL) with mean 1 and variance 1/ENL."""
    return rng.gamma(ENL, 1.0 / ENL, shape).astype(np.float32)


def to_db(linear: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (10.0 * np.log10(linear)).astype(np.float32)


def from_db(db: np.ndarray | float) -> np.ndarray:
    return np.asarray(10.0 ** (np.asarray(db) / 10.0), dtype=np.float32)


def roughness_history(history: CropHistory, weather: Weather, n_units: int) -> np.ndarray:
    """(unit, day) roughness from the tillage and harvest events, slaked by cumulative rain."""
    out = np.full((n_units, history.n_days), ROUGHNESS_START, np.float32)
    start = weather.index(history.first)
    rain = np.cumsum(weather.rain_mm[start : start + history.n_days].astype(np.float64))
    events = history.events[history.events["event"].isin(list(ROUGHNESS_AFTER))]
    for _, group in events.groupby("parcel_id"):
        level = np.full(history.n_days, ROUGHNESS_START, np.float64)
        for when, event in zip(group["date"], group["event"], strict=True):
            t = history.index(when)
            fallen = rain[t:] - rain[t]
            level[t:] = ROUGHNESS_BASE + (ROUGHNESS_AFTER[event] - ROUGHNESS_BASE) * np.exp(
                -fallen / SLAKING_RAIN_MM
            )
        out[int(group["parcel_id"].iloc[0])] = level
    return out


class Backscatter:
    """Noise-free sigma0 VV and VH of the whole world on any day (10 m grid, linear)."""

    def __init__(self, world: World, history: CropHistory, weather: Weather) -> None:
        self.world, self.history, self.weather = world, history, weather
        lc = world.landcover
        self.units = np.where((lc == HEDGE) & (world.parcel_id == 0), history.hedge_unit, world.parcel_id)
        forest = np.isin(lc, (FOREST_DECIDUOUS, FOREST_CONIFEROUS, HEDGE))
        self.ab = {
            pol: tuple(
                np.where(forest, FOREST_AB[pol][k], CROP_AB[pol][k]).astype(np.float32) for k in (0, 1)
            )
            for pol in POLARISATIONS
        }
        self.v_scale = np.where(lc == GRASSLAND, GRASS_V_SCALE, 1.0).astype(np.float32)
        self.wet_factor = (1.0 + 0.25 * np.clip(world.wetness, -2, 2)).astype(np.float32)
        self.roughness = roughness_history(history, weather, history.canopy.shape[0])
        self.material = {
            pol: from_db(np.choose(world.material, [0.0, *(MATERIAL_DB[m][k] for m in range(1, 6))]))
            for k, pol in enumerate(POLARISATIONS)
        }

    def state(self, day: date) -> dict[str, np.ndarray]:
        """Per-pixel vegetation volume, moisture and roughness on ``day``."""
        t = self.history.index(day)
        canopy = np.clip(self.history.canopy[self.units, t] * self.world.canopy_texture, 0.0, 1.0)
        green = self.history.green_share[self.units, t]
        vegetation = canopy * (green + 0.5 * (1.0 - green)) * self.v_scale
        tw = self.weather.index(day)
        moisture = np.clip(
            self.weather.moisture[tw] * self.wet_factor + self.history.boost[self.units, t], 0.0, 1.0
        )
        if self.weather.temperature_c[tw] < 0.0:
            moisture = moisture * FROZEN_MOISTURE_SHARE
        return {"vegetation": vegetation, "moisture": moisture, "roughness": self.roughness[self.units, t]}

    def on(self, day: date) -> dict[str, np.ndarray]:
        """sigma0 (linear, float32) per polarisation on ``day``, without speckle."""
        s = self.state(day)
        other = self.world.other
        out = {}
        for pol in POLARISATIONS:
            a, b = self.ab[pol]
            natural = water_cloud(s["vegetation"], from_db(soil_db(s["moisture"], s["roughness"], pol)), a, b)
            out[pol] = ((1.0 - other) * natural + other * self.material[pol]).astype(np.float32)
        return out


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SarRecord:
    acquisition: SarAcquisition
    assets: Mapping[str, Path]


def write_sar(root: Path, world: World, history: CropHistory, weather: Weather) -> Path:
    """Write every Sentinel-1 acquisition, its truth and its catalog; returns the catalog path."""
    spec = world.spec
    model = Backscatter(world, history, weather)
    records, truth_rows = [], []
    for acq in sar_acquisitions(spec):
        clean = model.on(acq.date)
        rng = rng_for(spec.seed, "sar", acq.index)
        folder = root / "sar" / acq.item_id
        assets = {}
        for pol in POLARISATIONS:
            noisy = clean[pol] * speckle(rng, clean[pol].shape)
            assets[pol] = write_raster(
                folder / f"{pol}.tif",
                noisy,
                spec.transform(),
                spec.epsg,
                NODATA,
                cog=True,
                resampling="average",
            )
        records.append(SarRecord(acq, assets))
        truth_rows.append(_parcel_truth(world, model, acq, clean))
    _write_truth(root / "truth", records, pd.concat(truth_rows, ignore_index=True))
    return write_sar_catalog(root, spec, records)


def _parcel_truth(
    world: World, model: Backscatter, acq: SarAcquisition, clean: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    """Per parcel on one pass: mean roughness, moisture, vegetation and noise-free sigma0 (dB)."""
    ids = world.parcels["parcel_id"].to_numpy()
    flat = world.parcel_id.ravel()
    size = int(flat.max()) + 1
    counts = np.maximum(np.bincount(flat, minlength=size)[ids], 1)

    def mean(values: np.ndarray) -> np.ndarray:
        return (
            np.bincount(flat, weights=values.ravel().astype(np.float64), minlength=size)[ids] / counts
        ).astype(np.float32)

    state = model.state(acq.date)
    table = {"parcel_id": ids.astype(np.int32), "date": acq.date, "item": acq.item_id}
    table.update({name: mean(state[name]) for name in ("roughness", "moisture", "vegetation")})
    table.update({f"{pol}_db": to_db(mean(clean[pol])) for pol in POLARISATIONS})
    return pd.DataFrame(table)


def _write_truth(folder: Path, records: Sequence[SarRecord], parcels: pd.DataFrame) -> None:
    passes = pd.DataFrame(
        {
            "date": [r.acquisition.date.isoformat() for r in records],
            "datetime": [r.acquisition.datetime.isoformat().replace("+00:00", "Z") for r in records],
            "platform": [r.acquisition.platform for r in records],
            "item": [r.acquisition.item_id for r in records],
            "incidence_deg": INCIDENCE_DEG,
            "relative_orbit": RELATIVE_ORBIT,
            "orbit_state": "ascending",
        }
    )
    with atomic(folder / "s1_observations.csv") as tmp:
        passes.to_csv(tmp, index=False)
    with atomic(folder / "s1_parcels.parquet") as tmp:
        parcels.to_parquet(tmp, index=False)


def load_s1_truth(out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Sentinel-1 passes and the per-parcel truth on each pass (dB of the noise-free mean)."""
    folder = Path(out_dir) / "truth"
    passes = pd.read_csv(folder / "s1_observations.csv")
    passes["date"] = pd.to_datetime(passes["date"]).dt.date
    return passes, pd.read_parquet(folder / "s1_parcels.parquet")


def write_sar_catalog(root: Path, spec: WorldSpec, records: Sequence[SarRecord]) -> Path:
    """``root/stac/sentinel-1-rtc/catalog.json``, written to a temporary folder and renamed."""
    to_lonlat = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    x0, y0, x1, y1 = spec.bounds
    lons, lats = to_lonlat.transform([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
    ring = [[round(lon, 7), round(lat, 7)] for lon, lat in zip(lons, lats, strict=True)]
    bbox = [min(lons), min(lats), max(lons), max(lats)]
    items = [_item(spec, r, ring, bbox) for r in records]
    catalog = pystac.Catalog(
        id="baresoil-simulation-sentinel-1-rtc",
        description=f"Simulated Sentinel-1 RTC in Microsoft Planetary Computer's layout (seed {spec.seed}).",
        title="baresoil simulation (Sentinel-1 RTC, Planetary Computer layout)",
    )
    catalog.add_child(
        simulated_collection(
            COLLECTION_ID,
            "Sentinel-1 radiometrically terrain-corrected backscatter, linear power (simulated).",
            "Sentinel 1 Radiometrically Terrain Corrected (RTC)",
            items,
        )
    )
    return save_catalog(catalog, root / "stac" / COLLECTION_ID)


def _item(spec: WorldSpec, record: SarRecord, ring: list[list[float]], bbox: list[float]) -> pystac.Item:
    acq = record.acquisition
    item = pystac.Item(
        id=acq.item_id,
        geometry={"type": "Polygon", "coordinates": [ring]},
        bbox=bbox,
        datetime=acq.datetime,
        properties={
            "platform": "SENTINEL-" + acq.platform[-2:].upper(),
            "constellation": "Sentinel-1",
            "s1:product_timeliness": "Fast-24h",
            "s1:processing_level": "1",
        },
        collection=COLLECTION_ID,
    )
    sar = SarExtension.ext(item, add_if_missing=True)
    sar.apply(
        instrument_mode="IW",
        frequency_band=FrequencyBand.C,
        polarizations=[Polarization.VV, Polarization.VH],
        product_type="GRD",
        center_frequency=5.405,
        looks_equivalent_number=ENL,
    )
    sat = SatExtension.ext(item, add_if_missing=True)
    sat.orbit_state = OrbitState.ASCENDING
    sat.relative_orbit = RELATIVE_ORBIT
    sat.absolute_orbit = acq.absolute_orbit
    ProjectionExtension.ext(item, add_if_missing=True).code = f"EPSG:{spec.epsg}"
    height, width = spec.shape
    t = spec.transform(PIXEL_M)
    for pol, path in record.assets.items():
        asset = pystac.Asset(
            href=str(path.resolve()),
            media_type=COG_MEDIA_TYPE,
            roles=["data"],
            title=f"{pol.upper()}: vertical transmit, {pol[1].upper()} receive",
            description=f"Terrain-corrected gamma nought values of signal transmitted with vertical "
            f"polarization and received with {'vertical' if pol[1] == 'v' else 'horizontal'} polarization "
            "with radiometric terrain correction applied.",
        )
        item.add_asset(pol, asset)
        proj = ProjectionExtension.ext(asset, add_if_missing=True)
        proj.code = f"EPSG:{spec.epsg}"
        proj.shape = [height, width]
        proj.transform = list(t)[:6]
        proj.bbox = list(spec.bounds)
        RasterExtension.ext(asset, add_if_missing=True).bands = [
            RasterBand.create(
                data_type=DataType.FLOAT32, nodata=NODATA, spatial_resolution=PIXEL_M, unit="linear power"
            )
        ]
    return item
