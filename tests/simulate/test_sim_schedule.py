"""Acquisition dates, platforms, baselines, sun angles and product names."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from itertools import pairwise

import pytest

from baresoil.simulate import WorldSpec
from baresoil.simulate.schedule import acquisitions, baseline_on, product_ids, solar_position, tiles

SPEC = WorldSpec()


def test_one_acquisition_every_revisit_alternating_platforms():
    acqs = acquisitions(SPEC)
    assert acqs[0].date == SPEC.start and acqs[-1].date <= SPEC.end
    assert len(acqs) == 183  # 911 days from 1 January 2021 to 30 June 2023, every fifth
    assert all((b.date - a.date).days == 5 for a, b in pairwise(acqs))
    assert [a.platform for a in acqs[:4]] == ["sentinel-2a", "sentinel-2b"] * 2
    assert all(a.datetime.hour == 10 and 17 <= a.datetime.minute <= 23 for a in acqs)


def test_baseline_and_offset_switch_on_25_january_2022():
    assert baseline_on(date(2022, 1, 24)) in ("03.00", "03.01")
    assert baseline_on(date(2022, 1, 25)) == "04.00"
    for acq in acquisitions(SPEC):
        assert acq.offset_dn == (1000 if acq.date >= date(2022, 1, 25) else 0)


def test_sun_is_below_20_degrees_from_late_november_to_mid_january():
    low = {a.date for a in acquisitions(SPEC) if a.sun_elevation < 20}
    assert all(d.month in (11, 12, 1) for d in low)
    assert any(d.month == 12 for d in low)
    assert all((d.month, d.day) >= (11, 20) or (d.month, d.day) <= (1, 25) for d in low)
    summer = [a for a in acquisitions(SPEC) if a.date.month == 6]
    assert all(60 < a.sun_elevation < 66 for a in summer)
    assert all(140 < a.sun_azimuth < 175 for a in acquisitions(SPEC)), "the morning sun stands in the SSE"


def test_solar_position_matches_known_values():
    # Munich, summer solstice, 11:00 UTC: close to local noon, elevation ~65°, azimuth ~180°
    elevation, azimuth = solar_position(datetime(2021, 6, 21, 11, 14, tzinfo=UTC), 48.14, 11.58)
    assert elevation == pytest.approx(65.3, abs=0.5)
    assert azimuth == pytest.approx(180, abs=5)


def test_tiles_split_the_world_with_an_overlap():
    west, east = tiles(SPEC)
    assert (west.code, east.code) == ("32UPU", "32UQU")
    assert west.col_start == 0 and east.col_stop == SPEC.n_pixels
    assert east.col_start < west.col_stop
    assert west.col_stop % 2 == 0 and east.col_start % 2 == 0
    (single,) = tiles(WorldSpec(split_tiles=False))
    assert (single.col_start, single.col_stop) == (0, SPEC.n_pixels)


def test_product_ids_follow_provider_styles():
    acq = next(a for a in acquisitions(SPEC) if a.date == date(2022, 1, 26))
    assert acq.platform == "sentinel-2a"
    ids = product_ids(SPEC, acq, tiles(SPEC)[0])
    assert ids.earth_search == ids.scene == "S2A_32UPU_20220126_0_L2A"
    assert re.match(r"^S2A_MSIL2A_20220126T1020\d\d_R065_T32UPU_2022012[67]T\d{6}$", ids.planetary_computer)
    assert re.match(r"^S2A_MSIL2A_20220126T1020\d\d_N0400_R065_T32UPU_20220126T\d{6}$", ids.cdse)
    before = product_ids(SPEC, acquisitions(SPEC)[0], tiles(SPEC)[1])
    assert "_N0209_" in before.cdse and "_T32UQU_" in before.cdse


@pytest.mark.parametrize(
    "changes",
    [{"size_m": 390}, {"size_m": 610}, {"end": date(2020, 1, 1)}, {"revisit_days": 0}, {"tile_overlap": 1.0}],
)
def test_invalid_specs_are_refused(changes):
    from baresoil.errors import ConfigError

    with pytest.raises(ConfigError):
        WorldSpec(**changes)


def test_spec_round_trips_through_json():
    spec = WorldSpec(seed=3, size_m=800, start=date(2021, 3, 1))
    assert WorldSpec.from_json(spec.to_json()) == spec
    assert spec.sim_start == date(2020, 7, 1)
    assert WorldSpec(start=date(2021, 12, 1)).sim_start == date(2021, 7, 1)
