"""Spatial block cross-validation folds and the validation figures of soil maps.

Samples close to each other carry nearly the same information (spatial
autocorrelation), so a random split lets a model "predict" a sample from its
neighbour and the scores flatter it.  Here samples are grouped before they are
split: all samples of one square block form a group, and any two samples closer
than ``neighbour_distance`` end up in the same group (groups are merged through
chains of close pairs).  Whole groups are then dealt to folds, so neighbours
never sit on both sides of a split.

The figures follow soil-mapping practice (SoilGrids, GlobalSoilMap): RMSE,
MEC (model efficiency coefficient, 1 - SSE / SST, as Nash-Sutcliffe), bias
(mean error, predicted - observed), and the coverage of the 90 % prediction
interval (PICP: the share of observations inside [Q05, Q95], ideally 0.90).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import wasserstein_distance

_PAIR_ROWS = 2048
"""Rows of the distance matrix computed at once (memory ~ rows x samples)."""


def close_pairs(x: np.ndarray, y: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of points closer than ``distance`` (same units as x, y)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    firsts, seconds = [], []
    if distance <= 0 or x.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    for start in range(0, x.size, _PAIR_ROWS):
        stop = min(start + _PAIR_ROWS, x.size)
        d2 = (x[start:stop, None] - x[None]) ** 2 + (y[start:stop, None] - y[None]) ** 2
        i, j = np.nonzero(d2 < distance**2)
        i += start
        keep = i < j
        firsts.append(i[keep])
        seconds.append(j[keep])
    return np.concatenate(firsts), np.concatenate(seconds)


def spatial_groups(x: np.ndarray, y: np.ndarray, block_size: float, neighbour_distance: float) -> np.ndarray:
    """Group label (0 … G-1) per sample: same block, or linked by a chain of close pairs."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if block_size <= 0:
        raise ValueError(f"block size must be positive, got {block_size}")
    n = x.size
    if n == 0:
        return np.zeros(0, np.int64)
    bx = np.floor(x / block_size).astype(np.int64)
    by = np.floor(y / block_size).astype(np.int64)
    _, block = np.unique(np.stack([bx, by], axis=1), axis=0, return_inverse=True)
    block = block.ravel()
    # chain the samples of each block (sorted by block) so that a block is one connected piece
    order = np.argsort(block, kind="stable")
    same = block[order[1:]] == block[order[:-1]]
    i_block, j_block = order[:-1][same], order[1:][same]
    i_close, j_close = close_pairs(x, y, neighbour_distance)
    rows = np.concatenate([i_block, i_close])
    cols = np.concatenate([j_block, j_close])
    graph = coo_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def assign_folds(groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold (0 … n_folds-1) per sample: whole groups dealt to folds, keeping fold sizes balanced.

    Groups go largest first (ties in a seeded random order) to the fold with the
    fewest samples so far.  Fewer groups than folds is a ``ValueError``.
    """
    groups = np.asarray(groups, np.int64)
    if n_folds < 2:
        raise ValueError(f"need at least 2 folds, got {n_folds}")
    labels, sizes = np.unique(groups, return_counts=True)
    if labels.size < n_folds:
        raise ValueError(f"only {labels.size} spatial group(s) for {n_folds} folds")
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(labels.size)
    order = shuffled[np.argsort(-sizes[shuffled], kind="stable")]
    fold_of_group = np.empty(labels.size, np.int64)
    totals = np.zeros(n_folds, np.int64)
    for g in order:
        fold = int(np.argmin(totals))
        fold_of_group[g] = fold
        totals[fold] += sizes[g]
    return fold_of_group[np.searchsorted(labels, groups)]


def block_folds(
    x: np.ndarray,
    y: np.ndarray,
    n_folds: int,
    block_size: float,
    neighbour_distance: float,
    seed: int,
) -> np.ndarray:
    """Spatial cross-validation folds: see :func:`spatial_groups` and :func:`assign_folds`."""
    return assign_folds(spatial_groups(x, y, block_size, neighbour_distance), n_folds, seed)


def random_folds(n: int, n_folds: int, seed: int) -> np.ndarray:
    """Ordinary random K-fold assignment (for comparison with the spatial folds)."""
    if n < n_folds:
        raise ValueError(f"only {n} sample(s) for {n_folds} folds")
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % n_folds)


def interval_metrics(
    observed: np.ndarray, q05: np.ndarray, q50: np.ndarray, q95: np.ndarray
) -> dict[str, float]:
    """n, RMSE, MEC, bias (Q50 - observed), 90 % interval coverage and mean width, on finite entries."""
    o, lo, med, hi = (np.asarray(a, np.float64) for a in (observed, q05, q50, q95))
    ok = np.isfinite(o) & np.isfinite(lo) & np.isfinite(med) & np.isfinite(hi)
    o, lo, med, hi = o[ok], lo[ok], med[ok], hi[ok]
    n = int(o.size)
    if n == 0:
        nan = float("nan")
        return {"n": 0, "rmse": nan, "mec": nan, "bias": nan, "picp90": nan, "pi90_width": nan}
    error = med - o
    sst = float(np.sum((o - o.mean()) ** 2))
    return {
        "n": n,
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mec": 1.0 - float(np.sum(error**2)) / sst if sst > 0 else float("nan"),
        "bias": float(np.mean(error)),
        "picp90": float(np.mean((o >= lo) & (o <= hi))),
        "pi90_width": float(np.mean(hi - lo)),
    }


def held_out_distances(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Per sample, the distance to the nearest sample of the other folds (what its fold model had)."""
    points = np.stack([np.asarray(x, np.float64), np.asarray(y, np.float64)], axis=1)
    out = np.full(len(points), np.inf)
    for fold in np.unique(folds):
        test = folds == fold
        if (~test).any():
            out[test] = cKDTree(points[~test]).query(points[test])[0]
    return out


def map_distance_folds(
    x: np.ndarray,
    y: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    n_folds: int,
    largest_block: float,
    seed: int,
    n_sizes: int = 12,
) -> tuple[np.ndarray, dict[str, float | str]]:
    """Folds whose held-out distances resemble the map's: the k-fold NNDM idea (Milà et al. 2022,
    Linnenbrink et al. 2024).

    The map predicts pixels at (``px``, ``py``) from samples at their own distances to the nearest
    sample; a cross-validation's held-out sample is predicted from the samples of the other folds.
    Random folds and square blocks from the samples' spacing up to ``largest_block`` are tried, and
    the folds whose held-out distances are nearest the pixels' (1-Wasserstein) are kept, so that the
    residuals they give come from the prediction distances of the map, not of a harder or easier task.
    """
    points = np.stack([np.asarray(x, np.float64), np.asarray(y, np.float64)], axis=1)
    pixels = np.stack([np.asarray(px, np.float64), np.asarray(py, np.float64)], axis=1)
    to_pixels = cKDTree(points).query(pixels)[0]
    spacing = np.median(cKDTree(points).query(points, k=2)[0][:, 1]) if len(points) > 1 else largest_block
    candidates: list[tuple[str, float, np.ndarray]] = [
        ("random", 0.0, random_folds(len(points), n_folds, seed))
    ]
    for size in np.geomspace(max(float(spacing), 1e-6), max(largest_block, float(spacing)), n_sizes):
        try:
            candidates.append(("blocks", float(size), block_folds(x, y, n_folds, float(size), 0.0, seed)))
        except ValueError:  # fewer blocks than folds: this size and larger ones cannot be used
            break
    best: tuple[float, str, float, np.ndarray, np.ndarray] | None = None
    for kind, size, folds in candidates:
        held_out = held_out_distances(x, y, folds)
        score = wasserstein_distance(held_out, to_pixels)
        if best is None or score < best[0]:
            best = (score, kind, size, folds, held_out)
    assert best is not None
    score, kind, size, folds, held_out = best
    info: dict[str, float | str] = {"method": kind, "block_m": size, "wasserstein_m": float(score),
            "median_cv_distance_m": float(np.median(held_out)),
            "median_map_distance_m": float(np.median(to_pixels))}  # fmt: skip
    return folds, info
