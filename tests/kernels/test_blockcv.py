"""Spatial block cross-validation folds and validation figures, on small point sets with known answers."""

import numpy as np
import pytest

from baresoil.kernels import blockcv
from baresoil.kernels.blockcv import (
    assign_folds,
    block_folds,
    close_pairs,
    held_out_distances,
    interval_metrics,
    map_distance_folds,
    random_folds,
    spatial_groups,
)


def _clustered_points(seed=3, n_clusters=25, per_cluster=8):
    """Samples in clusters (several per field), as soil surveys take them."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, (n_clusters, 2))
    points = centres[:, None, :] + rng.normal(0, 40, (n_clusters, per_cluster, 2))
    return points[..., 0].ravel(), points[..., 1].ravel()


def _pairwise(x, y):
    return np.hypot(x[:, None] - x[None], y[:, None] - y[None])


@pytest.mark.parametrize(("block", "neighbour"), [(500.0, 100.0), (300.0, 150.0), (1000.0, 0.0)])
def test_neighbours_never_straddle_folds(block, neighbour):
    x, y = _clustered_points()
    folds = block_folds(x, y, n_folds=5, block_size=block, neighbour_distance=neighbour, seed=1)
    distance = _pairwise(x, y)
    different = folds[:, None] != folds[None]
    # no two samples closer than the neighbour distance are on both sides of a split
    assert not np.any(different & (distance < neighbour))
    # and samples of one block never are either
    bx, by = np.floor(x / block), np.floor(y / block)
    same_block = (bx[:, None] == bx[None]) & (by[:, None] == by[None])
    assert not np.any(different & same_block)
    assert set(folds) == {0, 1, 2, 3, 4}


def test_random_folds_do_leak_neighbours():
    """The reason for spatial folds: random ones put close samples on both sides."""
    x, y = _clustered_points()
    folds = random_folds(x.size, 5, seed=1)
    leaks = (folds[:, None] != folds[None]) & (_pairwise(x, y) < 100)
    assert leaks.sum() > 100
    assert np.bincount(folds).tolist() == [40] * 5


def test_chain_of_close_samples_is_one_group_across_blocks():
    # 30 samples 10 m apart along a line crossing three 100 m blocks, and one far away
    x = np.concatenate([np.arange(30) * 10.0 + 5, [5000.0]])
    y = np.full(31, 50.0)
    groups = spatial_groups(x, y, block_size=100, neighbour_distance=15)
    assert len(set(groups[:30])) == 1
    assert groups[30] != groups[0]
    # without the neighbour rule the three blocks are separate groups
    assert len(set(spatial_groups(x, y, block_size=100, neighbour_distance=0)[:30])) == 3


def test_folds_are_balanced_and_deterministic():
    x, y = _clustered_points(n_clusters=40, per_cluster=5)
    folds = block_folds(x, y, 4, 400, 50, seed=7)
    sizes = np.bincount(folds)
    largest_group = np.bincount(spatial_groups(x, y, 400, 50)).max()
    assert sizes.max() - sizes.min() <= largest_group
    np.testing.assert_array_equal(folds, block_folds(x, y, 4, 400, 50, seed=7))


def test_assign_folds_keeps_groups_whole():
    groups = np.array([5, 5, 5, 9, 9, 2, 2, 2, 2, 7])
    folds = assign_folds(groups, 3, seed=0)
    for g in np.unique(groups):
        assert len(set(folds[groups == g])) == 1
    # largest group (2: four samples) alone; 5 (three) alone; 9 and 7 together
    assert sorted(np.bincount(folds).tolist()) == [3, 3, 4]


def test_too_few_groups_for_the_folds():
    x, y = np.array([0.0, 10, 20, 5000]), np.array([0.0, 0, 0, 0])
    with pytest.raises(ValueError, match="only 2 spatial group"):
        block_folds(x, y, 3, block_size=100, neighbour_distance=0.0, seed=0)
    with pytest.raises(ValueError, match="at least 2 folds"):
        assign_folds(np.zeros(5, int), 1, seed=0)
    with pytest.raises(ValueError, match="block size must be positive"):
        spatial_groups(x, y, 0, 0)


def test_close_pairs_in_chunks_match_brute_force(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 100, 60), rng.uniform(0, 100, 60)
    monkeypatch.setattr(blockcv, "_PAIR_ROWS", 7)
    i, j = close_pairs(x, y, 12.0)
    expected = {
        (a, b) for a in range(60) for b in range(a + 1, 60) if np.hypot(x[a] - x[b], y[a] - y[b]) < 12
    }
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
    assert close_pairs(x, y, 0.0)[0].size == 0


def test_interval_metrics_known_answers():
    observed = np.array([1.0, 2.0, 3.0, 4.0])
    perfect = interval_metrics(observed, observed - 1, observed, observed + 1)
    assert perfect["rmse"] == 0 and perfect["mec"] == 1 and perfect["bias"] == 0
    assert perfect["picp90"] == 1 and perfect["pi90_width"] == 2 and perfect["n"] == 4
    mean = interval_metrics(observed, observed * 0, np.full(4, 2.5), observed * 0 + 5)
    assert mean["mec"] == pytest.approx(0.0)
    shifted = interval_metrics(observed, observed + 0.5, observed + 1, observed + 2)
    assert shifted["bias"] == pytest.approx(1.0) and shifted["rmse"] == pytest.approx(1.0)
    assert shifted["picp90"] == 0.0
    # MEC = 1 - SSE/SST: SSE 4, SST 5
    assert shifted["mec"] == pytest.approx(1 - 4 / 5)
    # three of four inside [Q05, Q95] (bounds included); NaN entries ignored
    lo = np.array([0.0, 2.0, 3.5, 0.0, np.nan])
    hi = np.array([1.0, 3.0, 4.0, 9.0, 1.0])
    partial = interval_metrics(np.append(observed, 9), lo, np.append(observed, 9), hi)
    assert partial["n"] == 4 and partial["picp90"] == 0.75
    assert np.isnan(interval_metrics(observed[:0], observed[:0], observed[:0], observed[:0])["rmse"])


def test_held_out_distances_known_answer():
    x, y = np.array([0.0, 10.0, 30.0, 60.0]), np.zeros(4)
    distances = held_out_distances(x, y, np.array([0, 1, 0, 1]))
    np.testing.assert_allclose(distances, [10.0, 10.0, 20.0, 30.0])


def _grid_samples(step=100.0, side=2000.0, seed=0):
    rng = np.random.default_rng(seed)
    g = np.arange(step / 2, side, step)
    x, y = (a.ravel() + rng.uniform(-step / 4, step / 4, a.size) for a in np.meshgrid(g, g))
    return x, y


def test_map_distance_folds_match_a_map_among_the_samples():
    """Pixels among samples 100 m apart are at most ~70 m from one: no block of 500 m is chosen,
    and the folds' held-out distances are within one sample spacing of the pixels'."""
    x, y = _grid_samples()
    px, py = (a.ravel() for a in np.meshgrid(np.arange(5.0, 2000, 20), np.arange(5.0, 2000, 20)))
    folds, info = map_distance_folds(x, y, px, py, 5, 500.0, seed=0)
    assert info["method"] == "random" or float(info["block_m"]) < 250
    assert abs(float(info["median_cv_distance_m"]) - float(info["median_map_distance_m"])) < 100
    assert np.bincount(folds).min() > 0.15 * len(x)


def test_map_distance_folds_extrapolate_for_a_map_away_from_the_samples():
    """Pixels 1 to 3 km beyond the samples: the largest blocks (the hardest folds) are chosen."""
    x, y = _grid_samples()
    px, py = (a.ravel() for a in np.meshgrid(np.arange(3000.0, 5000, 50), np.arange(0.0, 2000, 50)))
    folds, info = map_distance_folds(x, y, px, py, 5, 500.0, seed=0)
    assert info["method"] == "blocks" and info["block_m"] == pytest.approx(500.0)
    np.testing.assert_array_equal(folds, block_folds(x, y, 5, 500.0, 0.0, 0))
