"""Simulated practices (`WorldSpec(practices=True)`): split parcels and ploughed-up grassland, with truth."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pytest

from baresoil.simulate import WorldSpec, load_truth, simulate
from baresoil.simulate.practices import load_practices

SPEC = WorldSpec(size_m=800, start=date(2022, 1, 1), end=date(2022, 7, 31), practices=True, sentinel1=False,
                 grassland_share=0.35, n_samples=10)  # fmt: skip


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    return simulate(tmp_path_factory.mktemp("practices"), SPEC)


def test_default_worlds_have_no_practices(tiny_sim):
    assert not WorldSpec().practices
    assert not (tiny_sim.truth_dir / "practices.csv").exists()


@pytest.mark.slow
def test_split_parcels_are_declared_whole(sim):
    truth = load_truth(sim.root)
    practices = load_practices(sim.root)
    splits = practices[practices["practice"] == "split"]
    assert len(splits) > 0
    declared = gpd.read_file(sim.inputs_dir / "parcels.gpkg")
    ids = set(declared["parcel_id"])
    for host, strip, share in splits[["parcel_id", "other_id", "share"]].itertuples(index=False):
        assert host in ids and strip not in ids  # the strip is farmed apart but declared with its host
        n_host = int((truth.parcel_id == host).sum())
        n_strip = int((truth.parcel_id == strip).sum())
        assert n_strip == pytest.approx(share * (n_host + n_strip), abs=1)
        whole = declared.loc[declared["parcel_id"] == host, "geometry"].to_crs(truth.crs).iloc[0]
        assert whole.area == pytest.approx(100.0 * (n_host + n_strip), rel=1e-6)
        assert {"crop_2022", "other_crop_2022"} <= set(practices.columns)


@pytest.mark.slow
def test_converted_grassland_follows_a_crop_and_is_declared_or_not(sim):
    truth = load_truth(sim.root)
    practices = load_practices(sim.root)
    conversions = practices[practices["practice"] == "grassland_conversion"]
    assert len(conversions) > 0
    declared = gpd.read_file(sim.inputs_dir / "parcels.gpkg").set_index("parcel_id")
    daily = truth.parcel_daily
    for row in conversions.itertuples(index=False):
        assert (truth.landcover[truth.parcel_id == row.parcel_id] == 1).all()  # cropland now
        events = truth.events[truth.events["parcel_id"] == row.parcel_id]
        assert "ploughing" in set(events["event"]) and "sowing" in set(events["event"])
        assert row.crop_2022 != "permanent_grassland" and row.crop_2021 == "permanent_grassland"
        expected = row.crop_2022 if row.declared else "permanent_grassland"
        assert declared.loc[row.parcel_id, "crop_2022"] == expected
        mine = daily[daily["parcel_id"] == row.parcel_id]
        after = mine[mine["date"] >= row.date]
        other = daily[(daily["parcel_id"] == row.other_id) & (daily["date"] >= row.date)]
        np.testing.assert_allclose(after["g"].to_numpy()[:30], other["g"].to_numpy()[:30], atol=0.05)
        assert after["bare"].any() and not mine[mine["date"] < row.date]["bare"].any()
