"""Grouped statistics against numpy's per-group answers."""

from __future__ import annotations

import numpy as np

from baresoil.kernels.groupstats import STATS, grouped_stats, sort_by_label


def _reference(values: np.ndarray) -> list[float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [np.nan] * 7 + [0]
    return [finite.mean(), finite.std(), finite.min(), finite.max(), np.median(finite),
            np.quantile(finite, 0.25), np.quantile(finite, 0.75), finite.size]  # fmt: skip


def test_matches_numpy_per_group_with_gaps():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 6, 500).astype(np.int32)  # 0 = no parcel
    labels[labels == 4] = 9  # labels need not be contiguous
    values = rng.normal(0.3, 0.1, (7, 500)).astype(np.float32)
    values[rng.random(values.shape) < 0.3] = np.nan
    values[2, labels == 9] = np.nan  # one group without any value on date 2
    order, groups, starts = sort_by_label(labels)
    out = grouped_stats(values[:, order], starts)
    assert list(groups) == [1, 2, 3, 5, 9]
    assert out.shape == (5, 7, len(STATS))
    for g, label in enumerate(groups):
        for t in range(7):
            expected = _reference(values[t, labels == label])
            np.testing.assert_allclose(out[g, t], expected, rtol=2e-6, atol=1e-7, err_msg=f"{label} {t}")
    assert out[list(groups).index(9), 2, STATS.index("count")] == 0


def test_single_pixel_group_and_no_groups():
    labels = np.array([0, 7, 0], np.int32)
    order, groups, starts = sort_by_label(labels)
    out = grouped_stats(np.array([[1.0, 0.25, 3.0]], np.float32)[:, order], starts)
    assert list(groups) == [7]
    np.testing.assert_array_equal(out[0, 0], [0.25, 0.0, 0.25, 0.25, 0.25, 0.25, 0.25, 1])
    order, groups, starts = sort_by_label(np.zeros(4, np.int32))
    assert groups.size == 0 and grouped_stats(np.ones((2, 0), np.float32), starts).shape == (0, 2, 8)


def test_quartiles_interpolate_between_order_statistics():
    values = np.array([[4.0, 1.0, 3.0, 2.0]], np.float32)
    order, _, starts = sort_by_label(np.ones(4, np.int32))
    out = grouped_stats(values[:, order], starts)[0, 0]
    assert out[STATS.index("median")] == 2.5
    assert out[STATS.index("p25")] == 1.75 and out[STATS.index("p75")] == 3.25
