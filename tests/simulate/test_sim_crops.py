"""Rotations, Bavarian calendars, management between crops, grassland mowing."""

from __future__ import annotations

import dataclasses
from datetime import date
from itertools import pairwise

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from baresoil.simulate import WorldSpec
from baresoil.simulate.crops import CALENDARS, CROP_MIXES, ROTATION, simulate_crops
from baresoil.simulate.world import build_world

SPEC = WorldSpec()


@pytest.fixture(scope="module")
def history():
    return simulate_crops(SPEC, build_world(SPEC).parcels)


def _months(history, crop, event):
    ev = history.events
    dates = ev.loc[(ev["crop"] == crop) & (ev["event"] == event), "date"]
    assert len(dates), (crop, event)
    return {d.month for d in dates}


@pytest.mark.parametrize("mix", sorted(CROP_MIXES))
def test_rotation_only_offers_feasible_successors(mix):
    initial, rotation = CROP_MIXES[mix]
    assert sum(initial.values()) == pytest.approx(1.0)
    assert set(initial) <= set(rotation)
    for crop, successors in rotation.items():
        assert crop in CALENDARS
        assert set(successors) <= set(rotation), "every successor has successors of its own"
        assert sum(successors.values()) == pytest.approx(1.0)
        if CALENDARS[crop].harvest[0][0] >= 10:  # harvested in October or later: no rapeseed or barley after
            assert "winter_rapeseed" not in successors and "winter_barley" not in successors


def test_calendars_are_bavarian(history):
    assert _months(history, "winter_wheat", "sowing") <= {10, 11}
    assert _months(history, "winter_wheat", "harvest") <= {7, 8}
    assert _months(history, "winter_barley", "harvest") <= {7}
    assert _months(history, "winter_rapeseed", "sowing") <= {8, 9}
    assert _months(history, "maize", "sowing") <= {4, 5}
    assert _months(history, "maize", "harvest") <= {9, 10}
    assert _months(history, "sugar_beet", "harvest") <= {10, 11}
    assert _months(history, "potatoes", "harvest") <= {9, 10}
    assert _months(history, "cover_crop", "cover_sowing") <= {8, 9}
    assert _months(history, "cover_crop", "cover_termination") <= {11, 12, 1, 2, 3}
    assert _months(history, "permanent_grassland", "mowing") <= {5, 6, 7, 8, 9, 10}


def test_every_crop_occurs_and_follows_its_predecessor(history):
    crops = history.crops
    assert set(crops["crop"]) == {*ROTATION, "permanent_grassland"}
    table = crops[crops["crop"] != "permanent_grassland"].pivot(
        index="parcel_id", columns="year", values="crop"
    )
    years = sorted(table.columns)
    for a, b in pairwise(years):
        for before, after in zip(table[a], table[b], strict=True):
            assert after in ROTATION[before], (before, after)


def test_growth_cycle_of_one_season(history):
    ev = history.events
    wheat = ev[(ev["crop"] == "winter_wheat") & (ev["year"] == 2022)]
    pid = wheat["parcel_id"].iloc[0]
    dates = wheat[wheat["parcel_id"] == pid].set_index("event")["date"]
    f = history.fractions(pid, slice(None))
    day = history.index
    assert f["g"][day(dates["emergence"]) - 1] == 0 and f["g"][day(dates["emergence"])] > 0
    peak = f["g"][day(date(2022, 6, 1))]
    assert peak > 0.8
    assert f["d"][day(dates["harvest"]) - 1] > 0.5, "ripe standing crop before harvest"
    after = day(dates["harvest"]) + 1
    assert f["g"][after] + f["d"][after] == pytest.approx(0, abs=1e-6)
    assert f["r"][after] > 0.3 and f["s"][after] < 0.7, "stubble is not bare"


def test_grassland_is_mown_but_never_bare(history):
    ev = history.events
    grass = ev.loc[ev["event"] == "mowing", "parcel_id"].unique()
    f = history.fractions(grass, slice(None))
    assert f["s"].max() < 0.7
    cuts = ev[(ev["event"] == "mowing") & (ev["parcel_id"] == grass[0])]
    assert 3 <= cuts.groupby(cuts["date"].map(lambda d: d.year)).size().max() <= 4
    first = cuts["date"].iloc[0]
    g = history.fractions(grass[0], slice(None))["g"]
    assert g[history.index(first)] < 0.6 * g[history.index(first) - 1], "green cover drops sharply at mowing"
    assert g[history.index(first) + 30] > 0.8 * g[history.index(first) - 1], "and regrows within weeks"


def test_cover_crops_are_green_in_autumn(history):
    ev = history.events
    sown = ev[ev["event"] == "cover_emergence"]
    greens = [
        history.fractions(r.parcel_id, history.index(r.date) + 50)["g"]
        for r in sown.itertuples()
        if history.index(r.date) + 50 < history.n_days
    ]
    assert len(greens) > 10
    assert np.median(greens) > 0.4


def test_a_longer_span_extends_the_same_history():
    """Simulating to a later end changes nothing before the earlier end: each stream is span-free."""
    short = dataclasses.replace(SPEC, size_m=600, end=date(2022, 6, 30))
    long = dataclasses.replace(short, end=date(2023, 6, 30))
    parcels = build_world(short).parcels
    a, b = simulate_crops(short, parcels), simulate_crops(long, parcels)
    n = a.n_days
    assert b.n_days > n
    for name in ("canopy", "green_share", "residue", "boost"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name)[:, :n], err_msg=name)
    shared = b.events[b.events["date"] <= short.end].reset_index(drop=True)
    assert_frame_equal(a.events, shared)
