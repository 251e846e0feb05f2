"""The ground truth is consistent with itself and with the scenes."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from baresoil.simulate.atmosphere import SKY_CLOUD, SKY_HAZE, SKY_SHADOW, SKY_SNOW
from baresoil.simulate.crops import EVENTS, MAIN_CROPS
from baresoil.simulate.surface import BARE_MIN_SOIL, MIN_BARE_PERIOD_DAYS, PARCEL_BARE_SHARE, interior_pixels
from baresoil.simulate.world import CROPLAND, LANDCOVER_NAMES, ROCK

pytestmark = pytest.mark.slow


def _scl10(sim, truth, mosaic, i):
    return np.repeat(np.repeat(mosaic(sim, truth, i, "SCL"), 2, axis=0), 2, axis=1)


def test_truth_files_and_legends(tiny_sim, tiny_truth):
    names = {p.name for p in tiny_sim.truth_dir.iterdir()}
    for name in (
        "landcover.tif",
        "bare.tif",
        "sky.tif",
        "green.tif",
        "soil.tif",
        "observations.csv",
        "parcels.gpkg",
        "events.csv",
        "bare_periods.csv",
        "parcel_daily.parquet",
        "world.json",
        "soil_soc.tif",
        "soil_clay.tif",
        "soil_silt.tif",
        "soil_sand.tif",
        "soil_ph.tif",
        "soil_n.tif",
        "soil_bulk_density.tif",
    ):
        assert name in names
    assert tiny_truth.world["seed"] == tiny_truth.spec.seed == 42
    assert {int(k) for k in tiny_truth.world["landcover_legend"]} == set(LANDCOVER_NAMES)
    assert set(np.unique(tiny_truth.landcover)) <= set(LANDCOVER_NAMES)
    n = len(tiny_truth.dates)
    assert tiny_truth.bare.shape == tiny_truth.sky.shape == (n, 60, 60)
    assert tiny_truth.dates == sorted(tiny_truth.dates)
    assert list(tiny_truth.observations["band"]) == list(range(1, n + 1))
    assert set(np.unique(tiny_truth.sky)) <= set(range(7))
    assert str(tiny_truth.crs) == "EPSG:32632"


def test_true_bare_soil_only_on_cropland_or_rock(tiny_truth):
    bare_anywhere = tiny_truth.bare.any(axis=0)
    assert set(np.unique(tiny_truth.landcover[bare_anywhere])) <= {CROPLAND, ROCK}
    assert tiny_truth.bare[:, tiny_truth.landcover == CROPLAND].any(), "some cropland is bare in winter"
    rock = tiny_truth.landcover == ROCK
    weather = tiny_truth.weather.set_index("date")
    no_snow = np.array([weather.loc[d, "snow_cover"] == 0 for d in tiny_truth.dates])
    assert no_snow.any() and not no_snow.all()
    assert tiny_truth.bare[no_snow][:, rock].all(), "rock is always a bare surface unless snowed over"


def test_snow_is_never_bare(tiny_truth):
    snow = tiny_truth.sky == SKY_SNOW
    assert snow.any(), "the tiny winter has snow"
    assert not tiny_truth.bare[snow].any()


def test_bare_pixels_are_mostly_soil_and_the_rest_may_be_green(tiny_truth):
    """The contract: exposed soil >= 75 %; residue or green vegetation may make up the rest."""
    bare = tiny_truth.bare == 1
    crop_bare = bare & (tiny_truth.landcover == CROPLAND)[None]
    assert tiny_truth.soil_cover[crop_bare].min() >= 100 * BARE_MIN_SOIL - 1  # rounded percent
    cropland = (tiny_truth.landcover == CROPLAND)[None]
    soil_enough = (tiny_truth.soil_cover >= 100 * BARE_MIN_SOIL + 1) & cropland
    weather = tiny_truth.weather.set_index("date")
    no_snow = np.array([weather.loc[d, "snow_cover"] == 0 for d in tiny_truth.dates])
    assert bare[no_snow][soil_enough[no_snow]].all()
    assert tiny_truth.green[crop_bare].max() > 0, "a little green cover does not make soil not bare"


def test_emergence_comes_before_harvest_in_each_season(tiny_truth):
    events = tiny_truth.events
    assert set(events["event"]) <= set(EVENTS)
    seasons = events[events["crop"].isin(MAIN_CROPS)].pivot_table(
        index=["parcel_id", "year", "crop"], columns="event", values="date", aggfunc="first"
    )
    both = seasons.dropna(subset=["emergence", "harvest"]) if "harvest" in seasons else seasons.iloc[:0]
    for (pid, year, crop), row in seasons.dropna(subset=["sowing", "emergence"]).iterrows():
        assert row["sowing"] < row["emergence"], (pid, year, crop)
    for (pid, year, crop), row in both.iterrows():
        assert row["emergence"] < row["harvest"], (pid, year, crop)


def test_emergence_is_when_green_cover_starts_rising(tiny_truth):
    daily = tiny_truth.parcel_daily.set_index(["parcel_id", "date"])
    emergences = tiny_truth.events[tiny_truth.events["event"] == "emergence"]
    assert len(emergences) > 0
    for row in emergences.itertuples():
        before = row.date - timedelta(days=1)
        if (row.parcel_id, before) not in daily.index:
            continue
        assert daily.loc[(row.parcel_id, row.date), "g"] > 0
        assert daily.loc[(row.parcel_id, before), "g"] < 0.02


def test_bare_periods_are_the_runs_of_parcel_daily(tiny_truth):
    daily = tiny_truth.parcel_daily.sort_values(["parcel_id", "date"])
    rebuilt = []
    for pid, group in daily.groupby("parcel_id"):
        run_start = None
        previous = None
        for day, bare in zip(group["date"], group["bare"], strict=True):
            if bare and run_start is None:
                run_start = day
            if not bare and run_start is not None:
                rebuilt.append((pid, run_start, previous))
                run_start = None
            previous = day
        if run_start is not None:
            rebuilt.append((pid, run_start, previous))
    rebuilt = [(pid, a, b) for pid, a, b in rebuilt if (b - a).days + 1 >= MIN_BARE_PERIOD_DAYS]
    periods = tiny_truth.bare_periods
    assert len(periods) > 0
    assert list(zip(periods["parcel_id"], periods["start"], periods["end"], strict=True)) == rebuilt
    assert ((periods["end"] - periods["start"]).map(lambda d: d.days) + 1 == periods["days"]).all()


def test_parcel_daily_fractions_sum_to_one_and_bare_follows_the_rule(tiny_truth):
    d = tiny_truth.parcel_daily
    total = d["g"] + d["d"] + d["r"] + d["s"] + d["other"]
    np.testing.assert_allclose(total, 1.0, atol=1e-5)
    assert (d["bare"] == (d["bare_share"] >= PARCEL_BARE_SHARE)).all()
    grass = d["parcel_id"].isin(
        tiny_truth.parcels.loc[tiny_truth.parcels["landcover"] == "grassland", "parcel_id"]
    )
    assert not d.loc[grass, "bare"].any()


def test_parcel_bare_share_is_the_share_of_interior_pixels_bare(tiny_truth):
    """The parcel series is the per-pixel truth counted over each parcel's interior pixels."""
    daily = tiny_truth.parcel_daily.set_index(["parcel_id", "date"])["bare_share"]
    interior = interior_pixels(tiny_truth.parcel_id)
    ids = tiny_truth.parcels.loc[tiny_truth.parcels["landcover"] == "cropland", "parcel_id"]
    checked = 0
    for i, day in enumerate(tiny_truth.dates):
        for pid in ids:
            pixels = tiny_truth.bare[i][(tiny_truth.parcel_id == pid) & interior]
            assert daily[(pid, day)] == pytest.approx(pixels.mean(), abs=1e-6), (pid, day)
            checked += 1
    assert checked > 100


def test_pixel_and_parcel_truth_agree(tiny_truth):
    """The per-pixel bare stack (with texture) mostly agrees with the parcel-level series."""
    daily = tiny_truth.parcel_daily.set_index(["parcel_id", "date"])["bare"]
    parcels = tiny_truth.parcels
    ids = parcels.loc[parcels["landcover"] == "cropland", "parcel_id"]
    raster = tiny_truth.parcel_id
    agree, total = 0, 0
    for i, day in enumerate(tiny_truth.dates):
        for pid in ids:
            pixels = tiny_truth.bare[i][raster == pid]
            agree += int((pixels == int(daily[(pid, day)])).sum())
            total += pixels.size
    assert agree / total > 0.9


def test_stubble_is_not_bare_and_stubble_tillage_bares_the_soil(tiny_truth):
    daily = tiny_truth.parcel_daily.set_index(["parcel_id", "date"])
    events = tiny_truth.events
    cereal = events[(events["event"] == "harvest") & events["crop"].isin(["winter_wheat", "winter_barley"])]
    checked = 0
    for row in cereal.itertuples():
        key = (row.parcel_id, row.date + timedelta(days=1))
        if key in daily.index:
            assert not daily.loc[key, "bare"]
            assert daily.loc[key, "r"] > 0.3
            checked += 1
    tillage = events[events["event"] == "stubble_tillage"]
    after = [
        daily.loc[(r.parcel_id, r.date + timedelta(days=2)), "s"]
        for r in tillage.itertuples()
        if (r.parcel_id, r.date + timedelta(days=2)) in daily.index
    ]
    assert checked > 0, "the window starts in July: cereal harvests are in it"
    assert len(after) > 0
    assert np.median(after) > 0.7


def test_truly_cloudy_pixels_are_mostly_flagged_by_scl(tiny_sim, tiny_truth, mosaic):
    flagged, cloudy = 0, 0
    for i in range(len(tiny_truth.dates)):
        cloud = tiny_truth.sky[i] == SKY_CLOUD
        if cloud.any():
            scl = _scl10(tiny_sim, tiny_truth, mosaic, i)
            flagged += int(np.isin(scl[cloud], (8, 9, 10)).sum())
            cloudy += int(cloud.sum())
    assert cloudy > 1000
    assert flagged / cloudy > 0.8


def test_scl_misses_some_thin_edges_and_shadows(tiny_sim, tiny_truth, mosaic):
    """Sen2Cor is imperfect: some truly cloudy or shadowed pixels look clear (4/5) in SCL."""
    missed_cloud, missed_shadow = 0, 0
    for i in range(len(tiny_truth.dates)):
        scl = _scl10(tiny_sim, tiny_truth, mosaic, i)
        missed_cloud += int(np.isin(scl[tiny_truth.sky[i] == SKY_CLOUD], (4, 5)).sum())
        missed_shadow += int(np.isin(scl[tiny_truth.sky[i] == SKY_SHADOW], (4, 5)).sum())
    assert missed_cloud > 0
    assert missed_shadow > 0


def test_haze_is_never_flagged_by_scl(tiny_sim, tiny_truth, mosaic):
    blocks_seen = 0
    for i in range(len(tiny_truth.dates)):
        haze = tiny_truth.sky[i] == SKY_HAZE
        if not haze.any():
            continue
        all_haze = haze.reshape(30, 2, 30, 2).all(axis=(1, 3))
        scl = mosaic(tiny_sim, tiny_truth, i, "SCL")
        assert not np.isin(scl[all_haze], (3, 8, 9, 10, 11)).any(), tiny_truth.dates[i]
        blocks_seen += int(all_haze.sum())
    assert blocks_seen > 100


def test_shadows_fall_to_the_north_west(tiny_truth):
    obs = tiny_truth.observations
    assert (obs["shadow_dx_m"] < 0).all() and (obs["shadow_dy_m"] > 0).all()
    assert (obs["shadow_dy_m"] > -obs["shadow_dx_m"]).all(), "mostly north: the sun is in the SSE"


def test_observation_table_matches_the_stacks(tiny_truth):
    obs = tiny_truth.observations
    share = [(tiny_truth.sky[i] == SKY_CLOUD).mean() * 100 for i in range(len(obs))]
    np.testing.assert_allclose(obs["cloud_cover"], share, atol=1e-2)
    assert set(obs["platform"]) == {"sentinel-2a", "sentinel-2b"}
    assert (obs["cloud_cover"] > 80).any() and (obs["cloud_cover"] < 20).any()


def test_soil_truth_is_physical(tiny_truth):
    soil = tiny_truth.soil
    has = ~np.isnan(soil["clay"])
    np.testing.assert_allclose((soil["clay"] + soil["silt"] + soil["sand"])[has], 100.0, atol=1e-3)
    assert np.nanmin(soil["soc"]) >= 8 and np.nanmax(soil["soc"]) <= 45
    assert np.nanmin(soil["clay"]) >= 10 and np.nanmax(soil["clay"]) <= 45
    assert np.nanmin(soil["ph"]) >= 5 and np.nanmax(soil["ph"]) <= 7.5
    assert np.nanmin(soil["bulk_density"]) >= 1.2 and np.nanmax(soil["bulk_density"]) <= 1.6
    np.testing.assert_allclose(np.nanmedian(soil["n"] / soil["soc"]), 0.1, rtol=0.1)
    assert np.isnan(soil["soc"][tiny_truth.landcover == ROCK]).all()


def test_truth_parcels_hold_true_crops_and_soil_means(tiny_truth):
    parcels = tiny_truth.parcels
    crop = parcels[parcels["landcover"] == "cropland"]
    for year in (2021, 2022):
        assert set(crop[f"crop_{year}"]) <= set(MAIN_CROPS)
    assert (parcels.loc[parcels["landcover"] == "grassland", "crop_2022"] == "permanent_grassland").all()
    assert crop["soc_mean"].between(8, 45).all()
    assert isinstance(tiny_truth.events["date"].iloc[0], type(tiny_truth.dates[0]))
    assert pd.api.types.is_bool_dtype(tiny_truth.parcel_daily["bare"])
