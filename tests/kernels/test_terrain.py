"""Terrain covariates on tiny elevation grids with known answers."""

import numpy as np
import pytest

from baresoil.kernels.terrain import slope_degrees, topographic_position


def test_slope_of_a_plane():
    _, cols = np.mgrid[0:8, 0:10]
    dem = 100 + 2.0 * cols  # 2 m per 20 m pixel: 10 % slope
    slope = slope_degrees(dem, 20.0)
    np.testing.assert_allclose(slope, np.degrees(np.arctan(0.1)), rtol=1e-5)
    flat = slope_degrees(np.full((5, 5), 300.0), 20.0)
    np.testing.assert_allclose(flat, 0.0)


def test_topographic_position_of_a_plane_is_zero_inside_and_a_pit_is_negative():
    rows, cols = np.mgrid[0:15, 0:15]
    plane = 10.0 + 0.5 * rows + 0.25 * cols
    tpi = topographic_position(plane, radius=2)
    np.testing.assert_allclose(tpi[2:-2, 2:-2], 0.0, atol=1e-9)
    pit = np.full((9, 9), 50.0)
    pit[4, 4] = 41.0
    tpi = topographic_position(pit, radius=1)
    assert tpi[4, 4] == pytest.approx(-8.0)  # 41 - (8 * 50 + 41) / 9
    assert tpi[3, 4] == pytest.approx(1.0)  # 50 - (8 * 50 + 41) / 9
    assert tpi[0, 0] == pytest.approx(0.0)


def test_missing_cells_are_left_out_of_the_mean():
    dem = np.full((5, 5), 20.0)
    dem[2, 2] = np.nan
    dem[0, 0] = 10.0
    tpi = topographic_position(dem, radius=1)
    assert np.isnan(tpi[2, 2])
    # the neighbours of the hole: mean of the finite cells only
    assert tpi[1, 1] == pytest.approx(20 - (7 * 20 + 10) / 8)
    assert tpi[3, 3] == pytest.approx(0.0)
    # the edge: the window is cut, not padded with zeros
    assert tpi[0, 4] == pytest.approx(0.0)


def test_slope_next_to_missing_cells_is_one_sided_not_lost():
    """A river of nodata along the west: the first land column keeps the plane's slope."""
    rows, cols = np.mgrid[0:6, 0:8]
    dem = 100 + 2.0 * cols + 1.0 * rows  # 2 m per pixel east, 1 m per pixel south, 20 m pixels
    dem = dem.astype(np.float64)
    dem[:, :3] = np.nan
    slope = slope_degrees(dem, 20.0)
    expected = np.degrees(np.arctan(np.hypot(0.1, 0.05)))
    assert np.isnan(slope[:, :3]).all()
    np.testing.assert_allclose(slope[:, 3:], expected, rtol=1e-5)  # column 3: forward difference
    # a hole inside: its neighbours keep their slope, the hole stays missing
    dem = (100 + 2.0 * cols + 1.0 * rows).astype(np.float64)
    dem[3, 4] = np.nan
    slope = slope_degrees(dem, 20.0)
    assert np.isnan(slope[3, 4]) and np.isfinite(np.delete(slope.ravel(), 3 * 8 + 4)).all()
    np.testing.assert_allclose(slope[3, 3], expected, rtol=1e-5)
    # a cell with no finite neighbour along a row has no slope
    strip = np.full((3, 3), np.nan)
    strip[:, 1] = [1.0, 2.0, 3.0]
    assert np.isnan(slope_degrees(strip, 20.0)[:, 1]).all()
