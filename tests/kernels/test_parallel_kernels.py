"""The kernels that split their pixels over the cores give the same bits however they are split."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from baresoil.kernels import pixel_stripes, threadsafe_layer_loads
from baresoil.kernels.composite import _masked_median, masked_stats
from baresoil.kernels.haze import _departures


def _stack(seed: int, n_band: int = 3, n_time: int = 17, n_pix: int = 101) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 0.5, (n_band, n_time, n_pix)).astype(np.float32)
    values[rng.random(values.shape) < 0.1] = np.nan
    return values, rng.random((n_time, n_pix)) < 0.7


@pytest.mark.parametrize("stripes", [1, 2, 7, 101])
def test_departures_do_not_depend_on_the_stripes(stripes):
    values, valid = _stack(1)
    label = np.where(valid, (np.arange(valid.shape[1]) % 3)[None], -1).astype(np.int8)
    np.testing.assert_array_equal(_departures(values, label, 3, stripes), _departures(values, label, 3, 1))


@pytest.mark.parametrize("stripes", [2, 5, 101])
def test_masked_median_does_not_depend_on_the_stripes(stripes):
    values, valid = _stack(2, n_band=1)
    series, mask = np.ascontiguousarray(values[0].T.astype(np.float64)), np.ascontiguousarray(valid.T)
    np.testing.assert_array_equal(_masked_median(series, mask, stripes), _masked_median(series, mask, 1))


def test_masked_stats_do_not_depend_on_the_threads():
    values, valid = _stack(3, n_band=10)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = masked_stats(values, valid)
        numba.set_num_threads(before)
        many = masked_stats(values, valid)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)


def test_stripes_are_several_per_thread_and_never_more_than_the_pixels():
    assert pixel_stripes(0) == 1
    assert pixel_stripes(3) == 3
    assert pixel_stripes(10**6) == 8 * numba.get_num_threads()


def test_without_a_threadsafe_layer_the_kernels_are_serial():
    # a machine with neither libgomp nor TBB: numba's workqueue layer would end the process when two
    # threads launch a parallel kernel at once, so the kernels are compiled serial there
    assert not threadsafe_layer_loads(("baresoil_no_such_layer", "baresoil_nor_this_one"))
    assert threadsafe_layer_loads(("baresoil_no_such_layer", "json"))
