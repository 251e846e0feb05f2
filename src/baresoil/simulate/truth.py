"""Ground truth on disk (``OUT/truth``) and back.

Static layers: ``landcover.tif`` (legend in its tags and in ``world.json``), ``parcel_id.tif``,
``soil_<property>.tif`` (float32, NaN where there is no topsoil: water, rock,
roofs, pavement).  One band per acquisition, band descriptions = ISO dates:
``bare.tif`` (1 = true bare soil, see :mod:`.surface`), ``sky.tif`` (0 clear,
1 cloud, 2 shadow, 3 haze, 4 cirrus, 5 snow: the true state, not SCL),
``green.tif`` and ``soil.tif`` (cover in percent).  Tables: ``observations.csv``,
``parcels.gpkg``, ``events.csv``, ``bare_periods.csv``, ``parcel_daily.parquet``,
``weather.csv``, ``soil_samples_true.csv``; ``world.json`` holds the spec, the
seed, the legends and the definitions, and is written last.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine

from .atmosphere import SKY_NAMES
from .crops import CropHistory
from .files import atomic, write_raster
from .inputs import write_vector
from .observe import Observation
from .render import SceneRecord
from .samples import SoilSamples
from .schedule import Acquisition
from .spec import RECIPE, WorldSpec
from .spectra import BANDS
from .surface import (
    BARE_MAX_SNOW,
    BARE_MIN_SOIL,
    MIN_BARE_PERIOD_DAYS,
    PARCEL_BARE_SHARE,
    bare_periods,
    parcel_daily,
)
from .weather import Weather
from .world import LANDCOVER_NAMES, SOIL_PROPERTIES, SOIL_UNITS, WORLDCOVER_CLASS, World, soil_mask

STACKS = ("bare", "sky", "green", "soil")
"""Per-observation truth layers, one band per acquisition."""
BARE_DEFINITION = (
    f"exposed soil (or rock) fraction >= {BARE_MIN_SOIL} and snow-covered fraction <= {BARE_MAX_SNOW}; "
    "the rest may be residue or green vegetation"
)
BARE_PERIOD_DEFINITION = (
    f"at least {MIN_BARE_PERIOD_DAYS} consecutive days on which at least {PARCEL_BARE_SHARE:.0%} of the "
    "parcel's interior pixels are bare"
)


def write_static_truth(
    folder: Path,
    world: World,
    history: CropHistory,
    weather: Weather,
    samples: SoilSamples,
    parcels: gpd.GeoDataFrame,
) -> None:
    spec = world.spec
    legend = json.dumps({str(k): v for k, v in LANDCOVER_NAMES.items()})
    write_raster(
        folder / "landcover.tif", world.landcover, spec.transform(), spec.epsg, None, tags={"LEGEND": legend}
    )
    write_raster(
        folder / "parcel_id.tif",
        world.parcel_id,
        spec.transform(),
        spec.epsg,
        0,
        tags={"DESCRIPTION": "parcel id (parcels.gpkg); 0 on field roads and hedges"},
    )
    has_soil = soil_mask(world.landcover)
    for prop in SOIL_PROPERTIES:
        values = np.where(has_soil, world.soil[prop], np.nan).astype(np.float32)
        write_raster(
            folder / f"soil_{prop}.tif",
            values,
            spec.transform(),
            spec.epsg,
            float("nan"),
            tags={"UNITS": SOIL_UNITS[prop]},
        )
    write_vector(folder / "parcels.gpkg", _truth_parcels(world, history, parcels), "parcels")
    _write_csv(folder / "events.csv", history.events)
    daily = parcel_daily(world, history, weather)
    with atomic(folder / "parcel_daily.parquet") as tmp:
        daily.to_parquet(tmp, index=False)
    _write_csv(folder / "bare_periods.csv", bare_periods(daily))
    _write_csv(folder / "weather.csv", _weather_table(weather, history.first, spec.end))
    _write_csv(folder / "soil_samples_true.csv", samples.true)


def _truth_parcels(world: World, history: CropHistory, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every parcel with its land use, true crop per year and mean soil properties."""
    out = parcels[["parcel_id", "kind", "n_pixels", "geometry"]].rename(columns={"kind": "landcover"})
    crops = history.crops.pivot(index="parcel_id", columns="year", values="crop")
    for year in crops.columns:
        out[f"crop_{year}"] = out["parcel_id"].map(crops[year]).fillna("")
    ids = world.parcel_id.ravel()
    has_soil = soil_mask(world.landcover).ravel()
    counts = np.bincount(ids[has_soil], minlength=ids.max() + 1)
    for prop in SOIL_PROPERTIES:
        sums = np.bincount(ids[has_soil], weights=world.soil[prop].ravel()[has_soil], minlength=ids.max() + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / counts, np.nan)
        out[f"{prop}_mean"] = means[out["parcel_id"].to_numpy()]
    out["area_ha"] = out.geometry.area / 10_000
    return out


def _weather_table(weather: Weather, first: date, last: date) -> pd.DataFrame:
    i0, i1 = weather.index(first), weather.index(last) + 1
    return pd.DataFrame(
        {
            "date": pd.date_range(first, last, freq="D").date,
            "rain_mm": weather.rain_mm[i0:i1].round(2),
            "temperature_c": weather.temperature_c[i0:i1].round(2),
            "snow_mm": weather.snow_mm[i0:i1].round(2),
            "snow_cover": weather.snow_cover[i0:i1].round(3),
            "moisture": weather.moisture[i0:i1].round(4),
        }
    )


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    with atomic(path) as tmp:
        table.to_csv(tmp, index=False)


class TruthStacks:
    """Collects the per-acquisition truth layers while scenes are rendered, then writes them."""

    def __init__(self, spec: WorldSpec, acquisitions: Sequence[Acquisition]) -> None:
        self.spec = spec
        self.acquisitions = acquisitions
        n = len(acquisitions)
        self.stacks = {name: np.zeros((n, *spec.shape), np.uint8) for name in STACKS}
        self.rows: list[dict[str, Any]] = []
        # sums of the true reflectance of truly bare, truly clear observations, per year and in all
        self.bare_sums: dict[str, np.ndarray] = {}
        self.bare_counts: dict[str, np.ndarray] = {}

    def add(self, obs: Observation, records: Sequence[SceneRecord]) -> None:
        i = obs.acquisition.index
        for name in STACKS:
            self.stacks[name][i] = getattr(obs, "sky_state" if name == "sky" else name)
        acq, sky = obs.acquisition, obs.sky
        seen_bare = (obs.bare == 1) & (obs.sky_state == 0)
        for key in ("all", str(acq.date.year)):
            if key not in self.bare_sums:
                self.bare_sums[key] = np.zeros(obs.surface.shape, np.float64)
                self.bare_counts[key] = np.zeros(seen_bare.shape, np.int32)
            self.bare_sums[key] += np.where(seen_bare, obs.soil_reflectance, 0.0)
            self.bare_counts[key] += seen_bare
        self.rows.append(
            {
                "band": i + 1,
                "date": acq.date.isoformat(),
                "datetime": acq.datetime.isoformat().replace("+00:00", "Z"),
                "platform": acq.platform,
                "items": ";".join(r.ids.scene for r in records),
                "tiles": ";".join(r.tile.code for r in records),
                "baseline": acq.baseline,
                "offset_dn": acq.offset_dn,
                "sun_elevation": acq.sun_elevation,
                "sun_azimuth": acq.sun_azimuth,
                "cloud_cover": round(100 * obs.cloud_fraction, 3),
                "item_cloud_cover": ";".join(f"{r.cloud_cover:.2f}" for r in records),
                "shadow_share": round(100 * float((obs.sky_state == 2).mean()), 3),
                "haze": bool(sky.haze.max() > 0),
                "cirrus": bool(sky.cirrus.max() > 0),
                "snow_share": round(100 * float((obs.sky_state == 5).mean()), 3),
                "bare_share": round(100 * float(obs.bare.mean()), 3),
                "cloud_height_m": round(sky.cloud_height_m, 1),
                "shadow_dx_m": round(sky.shadow_offset_m[0], 1),
                "shadow_dy_m": round(sky.shadow_offset_m[1], 1),
            }
        )

    def write(self, folder: Path) -> None:
        dates = [a.date.isoformat() for a in self.acquisitions]
        for name in STACKS:
            write_raster(
                folder / f"{name}.tif",
                self.stacks[name],
                self.spec.transform(),
                self.spec.epsg,
                None,
                descriptions=dates,
            )
        _write_csv(folder / "observations.csv", pd.DataFrame(self.rows))
        for key, sums in self.bare_sums.items():
            counts = self.bare_counts[key]
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(counts > 0, sums / counts, np.nan).astype(np.float32)
            write_raster(folder / f"bare_reflectance_{key}.tif", mean, self.spec.transform(), self.spec.epsg,
                         float("nan"), descriptions=list(BANDS))  # fmt: skip


def write_world_json(folder: Path, spec: WorldSpec, summary: Mapping[str, Any]) -> None:
    data = {
        "spec": spec.to_json(),
        "recipe": RECIPE,
        "seed": spec.seed,
        "sim_start": spec.sim_start.isoformat(),
        "crs": f"EPSG:{spec.epsg}",
        "transform": list(spec.transform())[:6],
        "shape": list(spec.shape),
        "landcover_legend": {str(k): v for k, v in LANDCOVER_NAMES.items()},
        "worldcover_of_landcover": {str(k): v for k, v in WORLDCOVER_CLASS.items()},
        "sky_legend": {str(k): v for k, v in SKY_NAMES.items()},
        "bare_definition": BARE_DEFINITION,
        "bare_period_definition": BARE_PERIOD_DEFINITION,
        "physics": spec.physics.to_json(),
        "soil_units": dict(SOIL_UNITS),
        **summary,
    }
    with atomic(folder / "world.json") as tmp:
        tmp.write_text(json.dumps(data, indent=2))


@dataclass(frozen=True)
class Truth:
    """Everything in ``OUT/truth``, read back."""

    world: dict[str, Any]
    spec: WorldSpec
    transform: Affine
    crs: str
    dates: list[date]
    """Acquisition dates, in the order of the stack bands."""
    landcover: np.ndarray
    parcel_id: np.ndarray
    """Parcel id per pixel (0 on field roads and hedges)."""
    soil: dict[str, np.ndarray]
    """Soil property maps (NaN where there is no topsoil)."""
    bare: np.ndarray
    """(date, y, x) uint8, 1 = true bare soil."""
    sky: np.ndarray
    green: np.ndarray
    soil_cover: np.ndarray
    observations: pd.DataFrame
    parcels: gpd.GeoDataFrame
    events: pd.DataFrame
    bare_periods: pd.DataFrame
    parcel_daily: pd.DataFrame
    weather: pd.DataFrame
    samples: pd.DataFrame
    """True soil properties at the sample points."""

    @property
    def crops(self) -> pd.DataFrame:
        """True main crop per parcel and harvest year: parcel_id, year, crop."""
        columns = [c for c in self.parcels.columns if c.startswith("crop_")]
        table = self.parcels[["parcel_id", *columns]].melt(
            id_vars="parcel_id", var_name="year", value_name="crop"
        )
        table["year"] = table["year"].str[len("crop_") :].astype(int)
        return table[table["crop"].fillna("") != ""].reset_index(drop=True)


_TEXT_COLUMNS = {"baseline": str, "items": str, "tiles": str, "item_cloud_cover": str, "crop": str}
"""Columns that look numeric to pandas but are text (``"03.00"`` must not become 3.0)."""


def load_bare_reflectance(out_dir: str | Path, period: str = "all") -> tuple[np.ndarray, Affine, str]:
    """True mean reflectance (band, y, x) of the truly bare, truly clear observations of ``period``.

    ``period`` is ``all`` (every acquisition) or a year (``"2021"``); NaN where never seen bare.
    """
    with rasterio.open(Path(out_dir) / "truth" / f"bare_reflectance_{period}.tif") as src:
        return src.read(), src.transform, src.crs.to_string()


def load_truth(out_dir: str | Path) -> Truth:
    """Read the truth written by :func:`baresoil.simulate.simulate` into ``out_dir``."""
    folder = Path(out_dir) / "truth"
    world = json.loads((folder / "world.json").read_text())
    stacks, dates = {}, []
    for name in STACKS:
        with rasterio.open(folder / f"{name}.tif") as src:
            stacks[name] = src.read()
            dates = [date.fromisoformat(d) for d in src.descriptions]
    with rasterio.open(folder / "landcover.tif") as src:
        landcover, transform, crs = src.read(1), src.transform, src.crs.to_string()
    with rasterio.open(folder / "parcel_id.tif") as src:
        parcel_id = src.read(1)
    soil = {}
    for prop in SOIL_PROPERTIES:
        with rasterio.open(folder / f"soil_{prop}.tif") as src:
            soil[prop] = src.read(1)

    def dated(name: str, *columns: str) -> pd.DataFrame:
        table = pd.read_csv(folder / name, dtype=_TEXT_COLUMNS)
        for column in columns:
            table[column] = pd.to_datetime(table[column]).dt.date
        return table

    daily = pd.read_parquet(folder / "parcel_daily.parquet")
    return Truth(
        world=world,
        spec=WorldSpec.from_json(world["spec"]),
        transform=transform,
        crs=crs,
        dates=dates,
        landcover=landcover,
        parcel_id=parcel_id,
        soil=soil,
        bare=stacks["bare"],
        sky=stacks["sky"],
        green=stacks["green"],
        soil_cover=stacks["soil"],
        observations=dated("observations.csv", "date"),
        parcels=gpd.read_file(folder / "parcels.gpkg", engine="pyogrio"),
        events=dated("events.csv", "date"),
        bare_periods=dated("bare_periods.csv", "start", "end"),
        parcel_daily=daily,
        weather=dated("weather.csv", "date"),
        samples=pd.read_csv(folder / "soil_samples_true.csv"),
    )


# --- the scoring contract of the crop-season layers ----------------------------------------------

OUTSIDE_YEAR = 65529
"""HRL flag of a bare period whose bounding event lies outside the reference year."""
NEXT_EMERGENCES = ("emergence", "cover_emergence", "second_emergence")
"""What ends the bare period after the main harvest: anything emerging."""
HARVEST_LIKE = ("harvest", "second_harvest", "cover_termination")
"""What starts the bare period before the main emergence (with a grassland's ploughing-up)."""


def season_truth(events: pd.DataFrame, crops: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per parcel with a main crop harvested in ``year``: the HRL reference values of the contract.

    Columns: parcel_id, crop, emergence, harvest (dates), bsa and bsb (days, inclusive of both ends;
    :data:`OUTSIDE_YEAR` when the main emergence lies before ``year``).

    * CPBSA: from the main harvest to the next emergence (a cover crop, a second crop or the next
      main crop) within the year, or to 31 December;
    * CPBSB: from the last harvest-like event before the main emergence (a harvest, a cover crop's
      destruction, a grassland's ploughing-up) or from 1 January, to the main emergence.
    """
    jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
    arable = crops[(crops["year"] == year) & (crops["crop"] != "permanent_grassland")]
    main_crop = arable.set_index("parcel_id")["crop"]
    grassland = crops[crops["crop"] == "permanent_grassland"]
    was_grassland = set(zip(grassland["parcel_id"], grassland["year"], strict=True))
    rows = []
    for pid, parcel in events[events["parcel_id"].isin(main_crop.index)].groupby("parcel_id"):
        crop = main_crop[pid]
        main = parcel[(parcel["year"] == year) & (parcel["crop"] == crop)]
        emergence = main.loc[main["event"] == "emergence", "date"]
        harvest = main.loc[main["event"] == "harvest", "date"]
        if emergence.empty or harvest.empty or harvest.iloc[0].year != year:
            continue
        e, h = emergence.iloc[0], harvest.iloc[0]
        following = parcel.loc[parcel["event"].isin(NEXT_EMERGENCES) & (parcel["date"] > h), "date"]
        end = min([*following, dec31])
        bsa = (min(end, dec31) - h).days + 1
        ploughed_up = [
            (pid, d.year - 1) in was_grassland and event == "ploughing"
            for event, d in zip(parcel["event"], parcel["date"], strict=True)
        ]
        ends = parcel["event"].isin(HARVEST_LIKE).to_numpy() | np.array(ploughed_up, bool)
        preceding = parcel.loc[ends & (parcel["date"] < e), "date"]
        bsb = OUTSIDE_YEAR if e < jan1 else (e - max([*preceding, jan1])).days + 1
        rows.append((int(parcel["parcel_id"].iloc[0]), crop, e, h, bsa, bsb))
    return pd.DataFrame(rows, columns=["parcel_id", "crop", "emergence", "harvest", "bsa", "bsb"])


def heterogeneous_parcels(
    events: pd.DataFrame, crops: pd.DataFrame, practices: pd.DataFrame, year: int
) -> set[int]:
    """Declared parcels holding two management zones that differ in ``year``: a strip farmed apart
    whose crop or any event date of the year differs from the rest of the field's."""
    splits = practices[practices["practice"] == "split"]
    in_year = events[pd.to_datetime(events["date"]).dt.year == year]
    crop = crops[crops["year"] == year].set_index("parcel_id")["crop"]

    def calendar(pid: int) -> set[tuple[str, date]]:
        mine = in_year[in_year["parcel_id"] == pid]
        return set(zip(mine["event"], mine["date"], strict=True))

    out = set()
    for host, strip in zip(splits["parcel_id"], splits["other_id"], strict=True):
        if crop.get(host) != crop.get(strip) or calendar(int(host)) != calendar(int(strip)):
            out.add(int(host))
    return out
