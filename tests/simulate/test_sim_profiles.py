"""World profiles: physics drawn from priors, calendars, practices, orbits and data losses."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import numpy as np
import pystac
import pytest
import rasterio
import shapely
import shapely.geometry

from baresoil.simulate import WorldSpec, load_truth, simulate
from baresoil.simulate.atmosphere import SKY_NODATA
from baresoil.simulate.crops import CALENDARS, SECOND_CROP, simulate_crops, world_calendars
from baresoil.simulate.observe import data_mask
from baresoil.simulate.physics import (
    LANDSCAPES,
    PROFILES,
    CalendarPhysics,
    CoverPhysics,
    Physics,
    draw_physics,
)
from baresoil.simulate.schedule import SECOND_ORBIT_STREAM, acquisitions, platform_on
from baresoil.simulate.world import build_world

DRAWN = [p for p in PROFILES if p != "demo"]


def _yday(md: tuple[int, int]) -> int:
    return date(2001, *md).timetuple().tm_yday


def test_the_demo_world_keeps_its_fixed_physics():
    assert WorldSpec().physics == Physics()
    assert WorldSpec(seed=7).physics == Physics()


@pytest.mark.parametrize("profile", DRAWN)
def test_every_parameter_is_drawn_within_its_prior(profile):
    for seed in range(1, 6):
        physics = draw_physics(profile, seed).to_json()
        for key, prior in PROFILES[profile].items():
            group, name = key.split(".")
            value = physics[group][name]
            if hasattr(prior, "hi") and not isinstance(prior.lo, tuple):
                assert prior.lo <= value <= prior.hi, (key, value)
            elif not hasattr(prior, "draw"):
                assert value == prior, key


def test_worlds_differ_by_seed_and_by_profile():
    assert draw_physics("central", 1) != draw_physics("central", 2)
    assert draw_physics("central", 1).soil != draw_physics("south", 1).soil
    assert draw_physics("south", 3) == draw_physics("south", 3)


@pytest.mark.parametrize("profile", DRAWN)
def test_a_profile_spec_is_reproducible_and_round_trips(profile):
    spec = WorldSpec.for_profile(profile, 5)
    assert spec == WorldSpec.for_profile(profile, 5)
    assert spec.profile == profile and spec.practices
    assert WorldSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    for key, prior in LANDSCAPES[profile].items():
        if hasattr(prior, "hi") and not isinstance(prior.lo, tuple):
            assert prior.lo <= getattr(spec, key) <= prior.hi, key


def test_unknown_profiles_are_refused():
    with pytest.raises(Exception, match="unknown world profile 'arctic'"):
        WorldSpec(profile="arctic")


def test_calendars_shift_and_widen_as_the_world_says():
    assert world_calendars(CalendarPhysics(), CoverPhysics()) == dict(CALENDARS)
    calendar = CalendarPhysics(spring_shift_days=-20, harvest_shift_days=-10, spread=2.0)
    shifted = world_calendars(calendar, CoverPhysics(harvest_residue=0.5))
    before, after = CALENDARS["maize"], shifted["maize"]
    lo, hi = (_yday(d) for d in before.sowing)
    new_lo, new_hi = (_yday(d) for d in after.sowing)
    assert (new_lo + new_hi) / 2 == pytest.approx((lo + hi) / 2 - 20, abs=1)
    assert new_hi - new_lo == pytest.approx(2 * (hi - lo), abs=1)
    assert _yday(after.harvest[0]) < _yday(before.harvest[0])
    assert after.residue == pytest.approx((before.residue[0] / 2, before.residue[1] / 2))


@pytest.fixture
def test_profile(monkeypatch):
    """Register a profile with chosen physics; returns a function making its spec."""

    def register(name: str, **priors: object) -> WorldSpec:
        monkeypatch.setitem(PROFILES, name, {k.replace("__", "."): v for k, v in priors.items()})  # type: ignore[index]
        return WorldSpec(profile=name, size_m=600, sentinel1=False)

    return register


def test_a_second_orbit_adds_partial_acquisitions_in_time_order(test_profile):
    spec = test_profile("two-orbits", acquisition__second_orbit=True, acquisition__second_orbit_cover=0.5)
    acqs = acquisitions(spec)
    assert [a.index for a in acqs] == list(range(len(acqs)))
    assert [a.datetime for a in acqs] == sorted(a.datetime for a in acqs)
    second = [a for a in acqs if a.stream >= SECOND_ORBIT_STREAM]
    first = [a for a in acqs if a.stream < SECOND_ORBIT_STREAM]
    assert len(second) == pytest.approx(len(first), abs=1)
    assert {a.relative_orbit for a in second} != {a.relative_orbit for a in first}
    assert all(a.swath_cover == 0.5 for a in second) and all(a.swath_cover == 1.0 for a in first)
    mask = data_mask(spec, second[0])
    assert mask is not None and 0.4 < mask.mean() < 0.6
    assert mask[:, 0].all() and not mask[:, -1].any(), "the swath covers the west, its edge crosses the world"
    assert data_mask(spec, first[0]) is None


def test_acquisitions_go_missing_and_scenes_lose_strips(test_profile):
    spec = test_profile("lossy", acquisition__missing_share=0.5, acquisition__strip_probability=1.0)
    full = WorldSpec(size_m=600, sentinel1=False)
    kept = acquisitions(spec)
    assert 0.35 < len(kept) / len(acquisitions(full)) < 0.65
    mask = data_mask(spec, kept[0])
    assert mask is not None
    lost_rows = ~mask.all(axis=1)
    assert lost_rows.any() and (mask[~lost_rows]).all(), "a strip is whole rows of no data"


def test_sentinel_2c_flies_in_2a_place_from_2025():
    assert platform_on(date(2024, 12, 31), 0) == "sentinel-2a"
    assert platform_on(date(2025, 2, 1), 0) == "sentinel-2c"
    assert platform_on(date(2025, 2, 1), 1) == "sentinel-2b"


def test_no_till_fields_are_never_tilled(test_profile):
    spec = test_profile("no-till", practices__no_till_share=1.0)
    history = simulate_crops(spec, build_world(spec).parcels)
    events = history.events
    assert not events["event"].isin(["stubble_tillage", "ploughing", "seedbed"]).any()
    sown = events[events["event"] == "sowing"]
    residue = [
        history.residue[pid, history.index(d)]
        for pid, d in zip(sown["parcel_id"], sown["date"], strict=True)
        if 0 <= history.index(d) < history.n_days
    ]
    assert np.median(residue) > 0.15, "residue stays on the surface at sowing"


def test_double_cropping_sows_a_second_crop_after_an_early_harvest(test_profile):
    spec = test_profile(
        "double", practices__double_crop_probability=1.0, calendar__crop_mix="south",
        calendar__harvest_shift_days=-25,
    )  # fmt: skip
    history = simulate_crops(spec, build_world(spec).parcels)
    events = history.events
    seconds = events[events["event"] == "second_emergence"]
    assert len(seconds) > 0 and set(events.loc[events["event"].str.startswith("second"), "crop"]) == {
        SECOND_CROP
    }
    harvests = events[events["event"] == "harvest"].set_index(["parcel_id", "year"])["date"]
    for row in seconds.itertuples():
        if (row.parcel_id, row.year) not in harvests.index:
            continue  # the main harvest fell before the simulated window
        assert harvests[(row.parcel_id, row.year)] < row.date, "the second crop follows the main harvest"
        assert history.green_share[row.parcel_id, history.index(row.date)] > 0


@pytest.mark.slow
def test_a_partial_swath_has_no_data_beyond_its_edge_and_a_smaller_footprint(test_profile, tmp_path):
    spec = dataclasses.replace(
        test_profile("partial", acquisition__second_orbit=True, acquisition__second_orbit_cover=0.4),
        size_m=400,
        start=date(2022, 5, 1),
        end=date(2022, 5, 20),
    )
    sim = simulate(tmp_path, spec)
    truth = load_truth(tmp_path)
    nodata = truth.sky == SKY_NODATA
    assert nodata.any(axis=(1, 2)).sum() >= 1
    catalog = pystac.Catalog.from_file(str(sim.catalog("earth-search")))
    items = list(catalog.get_items(recursive=True))
    i = int(np.flatnonzero(nodata.any(axis=(1, 2)))[0])
    scenes = [it for it in items if it.datetime.date() == truth.dates[i]]
    assert scenes, "a partly covered date still has items"
    for item in scenes:
        with rasterio.open(item.assets["red"].get_absolute_href()) as src:
            red = src.read(1)
        assert (red > 0).any()
        outline = shapely.geometry.shape(item.geometry)
        if (red == 0).any():
            assert outline.area < 0.99 * shapely.box(*item.bbox).area, "the footprint follows the swath edge"
