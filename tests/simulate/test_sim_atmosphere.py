"""Clouds, their displaced shadows, haze and cirrus, and the imperfect SCL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from baresoil.simulate import WorldSpec
from baresoil.simulate.atmosphere import (
    HAZE_SHAPE,
    SKY_CLEAR,
    SKY_CLOUD,
    SKY_HAZE,
    SKY_SHADOW,
    apply_sky,
    draw_cloud_fraction,
    scene_classification,
    simulate_sky,
    true_sky,
)
from baresoil.simulate.fields import rng_for
from baresoil.simulate.schedule import Acquisition

SPEC = WorldSpec(size_m=3000)


def _acquisition(month: int = 4, elevation: float = 45.0, azimuth: float = 158.0) -> Acquisition:
    return Acquisition(
        0, datetime(2022, month, 10, 10, 20, tzinfo=UTC), "sentinel-2a", "04.00", elevation, azimuth
    )


def _partly_cloudy_sky(acq: Acquisition, spec: WorldSpec = SPEC):
    for i in range(200):
        sky = simulate_sky(spec, acq, 0.0, rng_for(1, "test-sky", i))
        if 0.15 < sky.target_cloud_fraction < 0.5:
            return sky
    raise AssertionError("no partly cloudy sky drawn")


def test_shadow_is_the_cloud_displaced_away_from_the_sun():
    acq = _acquisition()
    sky = _partly_cloudy_sky(acq)
    dx, dy = sky.shadow_offset_m
    assert dx < 0 and dy > 0, "morning sun in the SSE: shadows to the NNW"
    length = np.hypot(dx, dy)
    assert length == pytest.approx(sky.cloud_height_m * np.tan(np.radians(90 - acq.sun_elevation)), rel=1e-6)
    # the shadow at P is the cloud at P - offset: shadow[r, c] == cloud[r + north, c + west] (pixels)
    north, west = round(dy / 10), round(-dx / 10)
    n = sky.cloud.shape[0]
    assert 0 < north < n and 0 <= west < n
    shadow = sky.shadow[: n - north, : n - west]
    cloud = sky.cloud[north:, west:]
    assert np.corrcoef(shadow.ravel(), cloud.ravel())[0, 1] > 0.95
    assert np.median(np.abs(shadow - cloud)) < 0.01
    assert np.corrcoef(sky.shadow.ravel(), sky.cloud.ravel())[0, 1] < 0.9, "shadows are not under the clouds"


def test_low_sun_throws_longer_shadows():
    high = _partly_cloudy_sky(_acquisition(elevation=60.0))
    low = _partly_cloudy_sky(_acquisition(elevation=20.0))
    ratio_high = np.hypot(*high.shadow_offset_m) / high.cloud_height_m
    ratio_low = np.hypot(*low.shadow_offset_m) / low.cloud_height_m
    assert ratio_low > 3 * ratio_high


def test_cloud_fraction_is_reached_and_clouds_are_opaque_in_the_core():
    sky = _partly_cloudy_sky(_acquisition())
    opaque = (sky.cloud >= 0.5).mean()
    assert opaque == pytest.approx(sky.target_cloud_fraction, abs=0.01)
    cloudy = sky.cloud > 0.03
    assert (sky.cloud[cloudy] >= 0.99).mean() > 0.5, "mostly opaque cores"
    assert ((sky.cloud > 0.03) & (sky.cloud < 0.25)).any(), "thin edges exist"
    assert sky.cloud_brightness.min() >= 0.4 and sky.cloud_brightness.max() <= 0.8


def test_cloud_fractions_are_bimodal_and_seasonal():
    winter = [draw_cloud_fraction(rng_for(3, "cf", i), _acquisition(month=1), 0.0) for i in range(400)]
    summer = [draw_cloud_fraction(rng_for(3, "cf", i), _acquisition(month=7), 0.0) for i in range(400)]
    for values in (winter, summer):
        values = np.array(values)
        assert (values < 0.05).mean() > 0.15 and (values > 0.8).mean() > 0.15
    assert np.mean(winter) > np.mean(summer)


def test_shadows_darken_haze_brightens_blue_most():
    sky = _partly_cloudy_sky(_acquisition())
    surface = np.full((10, *sky.cloud.shape), 0.2, np.float32)
    out = apply_sky(surface, sky)
    shade = (sky.shadow > 0.99) & (sky.cloud == 0)
    assert shade.any()
    assert np.all(out[6][shade] < 0.2 * 0.45)
    hazy = dataclasses.replace(
        sky,
        cloud=np.zeros_like(sky.cloud),
        shadow=np.zeros_like(sky.shadow),
        haze=np.full_like(sky.cloud, 0.05),
        cirrus=np.zeros_like(sky.cloud),
    )
    lifted = apply_sky(surface, hazy)[:, 0, 0] - 0.2
    assert lifted[0] > lifted[2] > lifted[6] > lifted[9] > 0
    assert HAZE_SHAPE[0] == 1.0


def test_scl_ignores_haze_and_flags_opaque_clouds():
    sky = _partly_cloudy_sky(_acquisition())
    hazy = dataclasses.replace(sky, haze=np.full_like(sky.cloud, 0.05), cirrus=np.zeros_like(sky.cloud))
    surface = np.full((10, *sky.cloud.shape), 0.15, np.float32)
    surface[6] = 0.25
    observed = apply_sky(surface, hazy)
    snow = np.zeros_like(sky.cloud)
    water = np.zeros(sky.cloud.shape, bool)
    scl = scene_classification(observed, hazy, snow, water, np.random.default_rng(0))
    truth = true_sky(hazy, snow)
    assert set(np.unique(truth)) <= {SKY_CLEAR, SKY_CLOUD, SKY_SHADOW, SKY_HAZE}
    haze_blocks = (truth == SKY_HAZE).reshape(150, 2, 150, 2).all(axis=(1, 3))
    assert haze_blocks.any()
    assert not np.isin(scl[haze_blocks], (3, 8, 9, 10)).any()
    opaque = (sky.cloud == 1.0).reshape(150, 2, 150, 2).all(axis=(1, 3))
    assert np.isin(scl[opaque], (8, 9)).all()
