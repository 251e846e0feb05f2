"""SCL masks: class membership, buffering by distance, chunked == whole-array."""

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from baresoil.config import CubeConfig
from baresoil.cube.masks import clear_sky_mask, snow_mask
from baresoil.kernels.masks import clear_sky, dilate, scl_in


def test_scl_in():
    scl = np.array([[0, 3, 4], [5, 6, 11]], dtype=np.uint8)
    assert scl_in(scl, (4, 5, 6)).tolist() == [[False, False, True], [True, True, False]]


def test_dilate_is_a_disk_of_the_given_radius():
    mask = np.zeros((1, 21, 21), dtype=bool)
    mask[0, 10, 10] = True
    grown = dilate(mask, 5)[0]
    assert grown[10, 15] and grown[15, 10] and not grown[10, 16]
    assert grown[13, 14]  # distance 5.0
    assert not grown[14, 14]  # distance 5.66: a disk, not a square
    assert grown.sum() == 81  # lattice points within radius 5
    assert np.array_equal(dilate(mask, 0), mask)
    assert not dilate(np.zeros((2, 5, 5), dtype=bool), 3).any()


def test_clear_sky_removes_clouds_and_their_buffer():
    scl = np.full((1, 12, 12), 4, dtype=np.uint8)
    scl[0, 0, 0] = 9  # cloud
    scl[0, 11, 11] = 11  # snow: not clear, not buffered
    scl[0, 6, 0] = 0  # nodata
    clear = clear_sky(scl, (4, 5, 6), (3, 8, 9, 10), radius_px=3)[0]
    assert not clear[0, 0] and not clear[0, 3] and not clear[2, 2] and clear[0, 4] and clear[3, 3]
    assert not clear[11, 11] and not clear[6, 0]
    assert clear[10, 10]


def test_buffer_crosses_chunk_edges_exactly():
    """A cloud in one chunk masks pixels of its neighbour chunk (map_overlap)."""
    rng = np.random.default_rng(3)
    scl = rng.choice(
        np.array([4, 5, 6, 8, 9, 3, 11, 0], dtype=np.uint8),
        size=(3, 40, 40),
        p=[0.3, 0.3, 0.1, 0.02, 0.02, 0.02, 0.14, 0.1],
    )
    config = CubeConfig(resolution=20, cloud_buffer_m=100, chunk_size=8)
    whole = clear_sky(scl, config.clear_classes, config.cloud_classes, radius_px=5)
    arr = xr.DataArray(da.from_array(scl, chunks=(3, 8, 8)), dims=("time", "y", "x"))
    chunked = clear_sky_mask(arr, config).compute().values
    assert np.array_equal(chunked, whole)
    assert np.array_equal(snow_mask(arr, config).compute().values, scl == 11)


def _random_scl(shape: tuple[int, ...], seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    classes = np.array([4, 5, 6, 8, 9, 3, 11, 0], dtype=np.uint8)
    return rng.choice(classes, size=shape, p=[0.35, 0.3, 0.1, 0.03, 0.03, 0.03, 0.06, 0.1])


@pytest.mark.parametrize("side", [1, 3, 4])
@pytest.mark.parametrize("chunk", [1, 2, 8])
def test_an_area_smaller_than_the_buffer_is_masked_as_the_whole_array(side, chunk):
    """One field at 20 m is a few pixels, the 100 m buffer 5: the overlap is clipped to the array."""
    scl = _random_scl((4, side, side))
    config = CubeConfig(resolution=20, cloud_buffer_m=100, chunk_size=chunk)
    whole = clear_sky(scl, config.clear_classes, config.cloud_classes, radius_px=5)
    arr = xr.DataArray(da.from_array(scl, chunks=(4, chunk, chunk)), dims=("time", "y", "x"))
    assert np.array_equal(clear_sky_mask(arr, config).compute().values, whole)


@pytest.mark.parametrize(("row", "col", "side"), [(10, 10, 1), (0, 0, 3), (20, 7, 4), (12, 12, 16)])
def test_a_small_area_is_the_larger_one_where_its_buffer_lies_inside_it_and_no_less_clear_elsewhere(
    row, col, side
):
    scl = _random_scl((6, 40, 40))
    config = CubeConfig(resolution=20, cloud_buffer_m=100, chunk_size=8)
    radius = 5

    def mask(values: np.ndarray) -> np.ndarray:
        arr = xr.DataArray(da.from_array(values, chunks=(6, 8, 8)), dims=("time", "y", "x"))
        return clear_sky_mask(arr, config).compute().values

    window = (slice(None), slice(row, row + side), slice(col, col + side))
    large, small = mask(scl)[window], mask(scl[window])
    assert np.all(small[large])  # a pixel clear in the larger area is clear in the small one
    rows, cols = np.indices((side, side))
    inner = (np.minimum(rows, side - 1 - rows) >= radius) & (np.minimum(cols, side - 1 - cols) >= radius)
    assert np.array_equal(small[:, inner], large[:, inner])  # its neighbourhood is the same: equal
    if side == 16:
        assert inner.any()


def test_a_cloud_beyond_the_edge_of_a_small_area_is_not_buffered_into_it():
    scl = np.full((1, 20, 20), 4, dtype=np.uint8)
    scl[0, 3, 3] = 9  # a cloud two pixels north-west of the area
    config = CubeConfig(resolution=20, cloud_buffer_m=100)
    small = clear_sky_mask(xr.DataArray(scl[:, 5:9, 5:9], dims=("time", "y", "x")), config).values
    large = clear_sky_mask(xr.DataArray(scl, dims=("time", "y", "x")), config).values[:, 5:9, 5:9]
    assert small.all() and not large[0, 0, 0] and large[0, -1, -1]
