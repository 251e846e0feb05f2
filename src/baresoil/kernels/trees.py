"""Gradient-boosted trees evaluated with numpy: a model trained elsewhere, shipped as plain arrays.

A binary classifier's trees (as scikit-learn's ``HistGradientBoostingClassifier`` grows them) are
stored node by node: the feature a node splits on, its threshold (a sample goes left when its value
is at most the threshold), its children and, at a leaf, its value.  The log-odds of a sample are the
baseline plus the value of the leaf it reaches in every tree.  Samples with a missing (non-finite)
feature get NaN: the caller decides what no answer means.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class TreeEnsemble(NamedTuple):
    """Every tree's nodes, concatenated; ``roots[k]`` is tree ``k``'s first node."""

    feature: np.ndarray
    """Feature index a node splits on (int64)."""
    threshold: np.ndarray
    """Split value: a sample goes left when its feature is at most this (float64)."""
    left: np.ndarray
    """Index (within the tree) of the left child (int64)."""
    right: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray
    """Leaf value, log-odds (float64)."""
    roots: np.ndarray
    """Offset of each tree's nodes in the arrays (int64)."""
    baseline: float
    """Log-odds before any tree."""


def predict_proba(model: TreeEnsemble, features: np.ndarray) -> np.ndarray:
    """Probability of the positive class of each row of ``features`` (sample, feature); NaN where a
    feature is not finite."""
    x = np.asarray(features, np.float64)
    logit = np.full(x.shape[0], model.baseline)
    rows = np.arange(x.shape[0])
    for root in model.roots:
        node = np.full(x.shape[0], root, np.int64)
        active = ~model.is_leaf[node]
        while active.any():
            at = node[active]
            goes_left = x[rows[active], model.feature[at]] <= model.threshold[at]
            node[active] = root + np.where(goes_left, model.left[at], model.right[at])
            active = ~model.is_leaf[node]
        logit += model.value[node]
    probability = 1.0 / (1.0 + np.exp(-logit))
    return np.where(np.isfinite(x).all(axis=1), probability, np.nan)


def from_gradient_boosting(classifier: Any) -> TreeEnsemble:
    """The trees of a fitted two-class ``sklearn.ensemble.HistGradientBoostingClassifier`` (one tree per
    iteration), read from its predictors' node arrays."""
    trees = [predictors[0].nodes for predictors in classifier._predictors]
    roots = np.cumsum([0] + [len(tree) for tree in trees[:-1]]).astype(np.int64)
    nodes = np.concatenate(trees)
    return TreeEnsemble(
        feature=nodes["feature_idx"].astype(np.int64),
        threshold=nodes["num_threshold"].astype(np.float64),
        left=nodes["left"].astype(np.int64),
        right=nodes["right"].astype(np.int64),
        is_leaf=nodes["is_leaf"].astype(bool),
        value=nodes["value"].astype(np.float64),
        roots=roots,
        baseline=float(np.ravel(classifier._baseline_prediction)[0]),
    )


def ensemble_arrays(model: TreeEnsemble) -> dict[str, np.ndarray]:
    """The arrays to store (``np.savez``): no pickled objects."""
    arrays = {name: np.asarray(getattr(model, name)) for name in TreeEnsemble._fields}
    arrays["baseline"] = np.asarray([model.baseline], np.float64)
    return arrays


def ensemble_from_arrays(arrays: dict[str, np.ndarray]) -> TreeEnsemble:
    """The model stored by :func:`ensemble_arrays`."""
    fields = {name: np.asarray(arrays[name]) for name in TreeEnsemble._fields if name != "baseline"}
    return TreeEnsemble(**fields, baseline=float(np.asarray(arrays["baseline"])[0]))
