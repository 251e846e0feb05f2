"""Farming practices that parcel monitoring must find: split parcels and ploughed-up grassland.

Only with ``WorldSpec(practices=True)``; without it nothing here runs and the world is unchanged.

* **Split parcels** (:func:`split_parcels`): in some large cropland parcels a strip
  (35–50 % of the parcel, across its long side) is farmed on its own — its own
  rotation and calendar, so usually another crop.  The strip is a parcel of its
  own in the truth (``truth/parcel_id.tif``, its own crop history) but not in the
  declarations: the farmer declares the whole field under the host's id and crop
  (:func:`declared_parcels`).  A declared parcel is *heterogeneous* in a year when
  its strip grows another crop than the rest.
* **Grassland conversion** (:func:`convert_grassland`): some permanent grassland
  parcels are ploughed up in the last full simulated year and sown with a spring crop:
  from the day a cropland parcel with that crop gets its seedbed, the meadow takes
  that parcel's daily state (bare seedbed, emergence, growth, harvest, stubble) and
  its events; a ``ploughing`` event marks the conversion.  Half of the farmers declare
  the new crop that year; the others go on declaring permanent grassland (the
  undeclared ploughing-up a paying agency looks for).  Its land cover becomes cropland
  (it can be bare now).

``truth/practices.csv`` (:func:`write_practices`) lists both: ``parcel_id`` (the
declared parcel), ``practice`` (``split`` or ``grassland_conversion``), ``other_id``
(the strip, or the cropland parcel whose calendar the converted field follows),
``share`` (the strip's share of the field), ``date`` (conversion day), ``declared``
(the conversion is declared), and per year the true ``crop_<year>`` / ``other_crop_<year>``.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crops import GRASSLAND_CROP, CropHistory
from .fields import rng_for
from .files import atomic
from .world import CROPLAND, World

SPLIT_SHARE = 0.35
"""Share of the cropland parcels large enough to split that get a strip."""
SPLIT_MIN_PIXELS = 150
"""Only fields of at least this many 10 m pixels (1.5 ha) are split: both parts stay visible."""
STRIP_SHARE = (0.35, 0.5)
CONVERT_SHARE = 0.4
"""Share of the grassland parcels ploughed up in the last full year."""
DECLARED_SHARE = 0.5
"""Share of the conversions the farmer declares (the new crop); the others are still declared as
permanent grassland — the undeclared ploughing a paying agency looks for."""
SPRING_CROPS = ("maize", "sugar_beet", "spring_barley", "potatoes")
PRACTICE_COLUMNS = ("parcel_id", "practice", "other_id", "share", "date", "declared")


def split_parcels(world: World) -> tuple[World, pd.DataFrame]:
    """Cut a strip off some large cropland parcels; each strip gets a new parcel id (see module doc).

    Returns the world and the splits: ``parcel_id`` (host), ``other_id`` (strip), ``share``.
    """
    rng = rng_for(world.spec.seed, "practices", "split")
    parcels = world.parcels
    labels = world.parcel_id.copy()
    candidates = parcels[(parcels["kind"] == "cropland") & (parcels["n_pixels"] >= SPLIT_MIN_PIXELS)]
    chosen = candidates[rng.random(len(candidates)) < SPLIT_SHARE]
    next_id = int(parcels["parcel_id"].max()) + 1
    hosts, strips, shares = [], [], []
    for pid in chosen["parcel_id"].to_numpy():
        rows, cols = np.nonzero(labels == pid)
        along = rows if np.ptp(rows) >= np.ptp(cols) else cols
        share = rng.uniform(*STRIP_SHARE)
        cut = np.quantile(along, 1.0 - share)
        strip = along > cut if rng.random() < 0.5 else along < np.quantile(along, share)
        if strip.sum() < 20 or (~strip).sum() < 20:
            continue
        labels[rows[strip], cols[strip]] = next_id
        hosts.append(int(pid))
        strips.append(next_id)
        shares.append(float(strip.mean()))
        next_id += 1
    table = _parcel_rows(labels, parcels, hosts, strips)
    world = dataclasses.replace(world, parcel_id=labels, parcels=table)
    return world, pd.DataFrame({"parcel_id": hosts, "other_id": strips, "share": shares})


def _parcel_rows(
    labels: np.ndarray, parcels: pd.DataFrame, hosts: list[int], strips: list[int]
) -> pd.DataFrame:
    """The parcel table with pixel counts and centroids recomputed, one cropland row per strip."""
    kinds = dict(zip(parcels["parcel_id"], parcels["kind"], strict=True))
    kinds.update(dict.fromkeys(strips, "cropland"))
    ids = np.array(sorted(kinds), np.int64)
    flat = labels.ravel()
    size = int(max(ids.max(), flat.max())) + 1
    counts = np.bincount(flat, minlength=size)
    rows, cols = np.indices(labels.shape)
    sum_r = np.bincount(flat, weights=rows.ravel(), minlength=size)
    sum_c = np.bincount(flat, weights=cols.ravel(), minlength=size)
    ids = ids[counts[ids] > 0]
    return pd.DataFrame(
        {
            "parcel_id": ids.astype(np.int32),
            "kind": [kinds[int(i)] for i in ids],
            "n_pixels": counts[ids].astype(np.int64),
            "row": (sum_r[ids] / counts[ids]).astype(np.float32),
            "col": (sum_c[ids] / counts[ids]).astype(np.float32),
        }
    )


def convert_grassland(
    world: World, history: CropHistory, splits: pd.DataFrame
) -> tuple[World, CropHistory, pd.DataFrame]:
    """Plough up some grassland parcels in the last full year and follow a spring crop's calendar.

    Returns the world, the history and the conversions: ``parcel_id``, ``other_id`` (the
    cropland parcel followed), ``date`` (its seedbed day, the first day of the new crop).
    """
    spec = world.spec
    year = spec.last_full_year
    rng = rng_for(spec.seed, "practices", "conversion")
    parcels = world.parcels
    grass = parcels.loc[parcels["kind"] == "grassland", "parcel_id"].to_numpy()
    chosen = grass[rng.random(grass.size) < CONVERT_SHARE]
    crops, events = history.crops, history.events
    strips = set(splits["other_id"])
    spring = crops[
        (crops["year"] == year) & crops["crop"].isin(SPRING_CROPS) & ~crops["parcel_id"].isin(strips)
    ]
    seedbeds = events[(events["event"] == "seedbed") & (events["year"] == year)]
    donors = spring.merge(seedbeds[["parcel_id", "date"]], on="parcel_id")
    if donors.empty or chosen.size == 0:
        return world, history, _empty_conversions()
    arrays = {k: getattr(history, k).copy() for k in ("canopy", "green_share", "residue", "boost")}
    new_crops, new_events, rows = crops.copy(), [events], []
    landcover = world.landcover.copy()
    for pid in chosen:
        donor = donors.iloc[int(rng.integers(len(donors)))]
        day = history.index(donor["date"])
        for values in arrays.values():
            values[int(pid), day:] = values[int(donor["parcel_id"]), day:]
        new_crops.loc[(new_crops["parcel_id"] == pid) & (new_crops["year"] == year), "crop"] = donor["crop"]
        after = events[(events["parcel_id"] == donor["parcel_id"]) & (events["date"] >= donor["date"])]
        ploughing = donor["date"] - timedelta(days=1)
        plough = pd.DataFrame(
            [
                {
                    "parcel_id": int(pid),
                    "year": year,
                    "crop": donor["crop"],
                    "event": "ploughing",
                    "date": ploughing,
                }
            ]
        )
        mowing = events[(events["parcel_id"] == pid) & (events["date"] >= donor["date"])]
        new_events[0] = new_events[0].drop(mowing.index)
        new_events += [plough, after.assign(parcel_id=int(pid))]
        landcover[world.parcel_id == pid] = CROPLAND
        declared = bool(rng.random() < DECLARED_SHARE)
        rows.append({"parcel_id": int(pid), "other_id": int(donor["parcel_id"]), "date": donor["date"],
                     "declared": declared})  # fmt: skip
    table = pd.concat(new_events, ignore_index=True).sort_values(
        ["parcel_id", "date", "event"], kind="stable"
    )
    history = dataclasses.replace(history, **arrays, crops=new_crops, events=table.reset_index(drop=True))
    kinds = parcels.assign(kind=np.where(parcels["parcel_id"].isin(chosen), "cropland", parcels["kind"]))
    world = dataclasses.replace(world, landcover=landcover, parcels=kinds)
    return world, history, pd.DataFrame(rows)


def declarations(
    parcels: gpd.GeoDataFrame, history: CropHistory, splits: pd.DataFrame, conversions: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, CropHistory]:
    """What the farmers declare: each strip merged into its host field (host id and crop); an undeclared
    conversion still as permanent grassland.  Returns the parcels and a history whose ``crops``
    table is the declared one (for :func:`.inputs.write_inputs`)."""
    out = parcels.copy()
    if len(splits):
        strip_of = dict(zip(splits["other_id"], splits["parcel_id"], strict=True))
        owner = out["parcel_id"].map(lambda pid: strip_of.get(pid, pid))
        merged = out.assign(parcel_id=owner).dissolve(by="parcel_id", as_index=False, aggfunc="first")
        merged["geometry"] = [shapely.make_valid(g) for g in merged.geometry]
        out = merged[out.columns]
    crops = history.crops.copy()
    if len(conversions):
        hidden = conversions.loc[~conversions["declared"].astype(bool), "parcel_id"]
        last = crops["year"].max()
        crops.loc[crops["parcel_id"].isin(hidden) & (crops["year"] == last), "crop"] = GRASSLAND_CROP
    return out.reset_index(drop=True), dataclasses.replace(history, crops=crops)


def practices_table(splits: pd.DataFrame, conversions: pd.DataFrame, history: CropHistory) -> pd.DataFrame:
    """The truth rows of ``truth/practices.csv`` (see the module doc)."""
    parts = [splits.assign(practice="split", date=None), conversions.assign(practice="grassland_conversion")]
    table = pd.concat(parts, ignore_index=True)
    table = table.reindex(columns=list(PRACTICE_COLUMNS))
    crops = history.crops.pivot(index="parcel_id", columns="year", values="crop")
    for year in crops.columns:
        table[f"crop_{year}"] = table["parcel_id"].map(crops[year])
        table[f"other_crop_{year}"] = table["other_id"].map(crops[year])
    return table


def write_practices(
    folder: Path, splits: pd.DataFrame, conversions: pd.DataFrame, history: CropHistory
) -> None:
    with atomic(folder / "practices.csv") as tmp:
        practices_table(splits, conversions, history).to_csv(tmp, index=False)


def load_practices(out_dir: str | Path) -> pd.DataFrame:
    """``truth/practices.csv`` of a simulation made with ``practices=True``."""
    table = pd.read_csv(Path(out_dir) / "truth" / "practices.csv")
    table["date"] = pd.to_datetime(table["date"]).dt.date
    return table


def _empty_conversions() -> pd.DataFrame:
    empty = {
        "parcel_id": np.zeros(0, np.int64),
        "other_id": np.zeros(0, np.int64),
        "date": np.zeros(0, object),
    }
    return pd.DataFrame(empty)
