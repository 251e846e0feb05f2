"""SCL masks: class membership, buffering by distance, chunked == whole-array."""

import dask.array as da
import numpy as np
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
