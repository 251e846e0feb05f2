"""The haze and cirrus screen on tiny hand-made blocks with known answers."""

import numpy as np
import pytest

from baresoil.kernels.haze import (
    departures,
    flat_shape,
    haze_shape,
    hazy_observations,
    matched_filter,
    window_mean,
)

WAVELENGTHS = (490, 560, 665, 705, 740, 783, 842, 865, 1610, 2190)
SOIL = np.array([0.08, 0.11, 0.16, 0.18, 0.20, 0.22, 0.24, 0.25, 0.30, 0.26])
CANOPY = np.array([0.03, 0.06, 0.03, 0.09, 0.25, 0.33, 0.38, 0.40, 0.20, 0.10])


def test_haze_shape_is_an_angstrom_power_law_from_the_blue():
    shape = haze_shape(WAVELENGTHS, exponent=2.0)
    assert shape[0] == 1.0
    assert shape[1] == pytest.approx((560 / 490) ** -2)
    assert np.all(np.diff(shape) < 0)
    np.testing.assert_array_equal(flat_shape(3), [1.0, 1.0, 1.0])


def test_departures_are_taken_from_the_median_of_the_same_kind_of_surface():
    # one pixel, 5 dates: soil 0.10, 0.12, 0.14 then canopy 0.03, 0.05; date 5 unobserved
    R = np.array([[[0.10], [0.12], [0.14], [0.03], [0.05], [np.nan]]])
    valid = np.isfinite(R[0])
    soil = np.zeros_like(valid)
    soil[:3] = True
    D = departures(R, valid, (soil, valid & ~soil))
    np.testing.assert_allclose(D[0, :5, 0], [-0.02, 0.0, 0.02, -0.01, 0.01], atol=1e-7)
    assert np.isnan(D[0, 5, 0])


def test_departures_fall_back_to_all_observations_without_a_group_median():
    R = np.array([[[0.1], [0.3]]])
    valid = np.ones((2, 1), dtype=bool)
    nothing = np.zeros_like(valid)
    D = departures(R, valid, (valid, nothing))
    np.testing.assert_allclose(D[0, :, 0], [-0.1, 0.1], atol=1e-7)


def test_matched_filter_recovers_the_shape_amplitude_and_ignores_surface_changes():
    rng = np.random.default_rng(0)
    n_time, n_pix = 40, 200
    shape = haze_shape(WAVELENGTHS)
    # the surface moves along the soil-canopy direction (a large change), plus sensor noise
    surface = rng.normal(0.0, 0.05, (n_time, n_pix))[None] * (SOIL - CANOPY)[:, None, None]
    D = surface + rng.normal(0.0, 0.002, (10, n_time, n_pix))
    D[:, 7] += 0.02 * shape[:, None]  # date 7: haze of 0.02 in the blue
    amplitude = matched_filter(D, shape)
    assert amplitude[7].mean() == pytest.approx(0.02, abs=0.002)
    others = np.delete(amplitude, 7, axis=0)
    assert abs(others.mean()) < 0.002 and others.std() < 0.01


def test_matched_filter_without_enough_observations_gives_nothing():
    D = np.full((10, 3, 2), np.nan)
    D[:, 0, 0] = 0.01
    assert np.isnan(matched_filter(D, flat_shape(10))).all()


def test_window_mean_averages_finite_values_and_shrinks_at_the_edges():
    values = np.array([[1.0, 2.0, np.nan, 4.0]])  # one date, a 1 x 4 block
    out = window_mean(values, 1, 4, 3)
    np.testing.assert_allclose(out[0], [1.5, 1.5, 3.0, 4.0])
    assert np.isnan(window_mean(np.full((1, 4), np.nan), 2, 2, 3)).all()


def _block(rng, n_time=30, side=12):
    """Fields of soil or canopy (west, east) with moisture, phenology and sensor noise."""
    west = np.zeros((side, side), dtype=bool)
    west[:, : side // 2] = True
    west = west.ravel()
    R = np.empty((10, n_time, side * side))
    for t in range(n_time):
        moisture = 1.0 + rng.normal(0.0, 0.08)
        green = 1.0 + rng.normal(0.0, 0.1)
        R[:, t] = np.where(west[None], SOIL[:, None] * moisture, CANOPY[:, None] * green)
    return R + rng.normal(0.0, 0.002, R.shape), west


def test_hazy_and_cirrus_dates_are_found_and_clear_dates_kept():
    rng = np.random.default_rng(1)
    R, west = _block(rng)
    haze, cirrus = haze_shape(WAVELENGTHS), flat_shape(10)
    R[:, 5] += 0.02 * haze[:, None]
    R[:, 11] += 0.015 * cirrus[:, None]
    valid = np.ones(R.shape[1:], dtype=bool)
    valid[20, :10] = False  # a cloud the SCL found: not tested, not flagged
    soil = np.broadcast_to(west[None], valid.shape) & valid
    hazy = hazy_observations(R, valid, (soil, valid & ~soil), (haze, cirrus), 12, 12, 5, 0.008)
    assert hazy[5].all() and hazy[11].all()
    assert not hazy[20, :10].any()
    clear = np.delete(hazy, [5, 11], axis=0)
    assert clear.mean() < 0.01


def test_a_field_ploughed_on_one_date_is_not_haze():
    rng = np.random.default_rng(2)
    R, west = _block(rng)
    east = ~west
    R[:, 15:, :] = np.where(east[None, None], SOIL[:, None, None], R[:, 15:, :])  # east ploughed from date 15
    valid = np.ones(R.shape[1:], dtype=bool)
    shapes = (haze_shape(WAVELENGTHS), flat_shape(10))
    soil_like = (R[6] - R[2]) / (R[6] + R[2]) < 0.3  # NDVI (B08, B04): the bare candidates
    hazy = hazy_observations(R, valid, (soil_like, ~soil_like), shapes, 12, 12, 5, 0.008)
    assert hazy.mean() < 0.01
