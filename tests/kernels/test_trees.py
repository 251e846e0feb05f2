"""Trees evaluated with numpy against scikit-learn's own prediction, and stored as plain arrays."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from baresoil.kernels.trees import (
    ensemble_arrays,
    ensemble_from_arrays,
    from_gradient_boosting,
    predict_proba,
)


def _fitted(seed: int) -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 - x[:, 3] + rng.normal(0, 0.3, 600)) > 0.2
    return HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y), x


@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_trees_give_scikit_learns_probabilities(seed):
    classifier, x = _fitted(seed)
    model = from_gradient_boosting(classifier)
    fresh = np.random.default_rng(seed + 10).normal(size=(300, 4)) * 1.5  # beyond the training range too
    for rows in (x, fresh):
        expected = classifier.predict_proba(rows)[:, 1]
        np.testing.assert_allclose(predict_proba(model, rows), expected, atol=1e-9)


def test_a_missing_feature_gives_no_answer_and_arrays_round_trip(tmp_path):
    classifier, x = _fitted(3)
    model = from_gradient_boosting(classifier)
    rows = x[:5].copy()
    rows[2, 1] = np.nan
    found = predict_proba(model, rows)
    assert np.isnan(found[2]) and np.isfinite(np.delete(found, 2)).all()
    np.savez(tmp_path / "m.npz", **ensemble_arrays(model))
    with np.load(tmp_path / "m.npz", allow_pickle=False) as stored:
        again = ensemble_from_arrays(dict(stored))
    np.testing.assert_array_equal(predict_proba(again, x), predict_proba(model, x))
