"""The uplift estimator contract, checked for every registered learner (like sklearn's check_estimator)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from core.errors import InvalidArgument
from models.uplift import LEARNERS, UpliftEstimator, make_learner

# Small and fast: every learner's constructor accepts these overrides.
FAST: dict[str, dict[str, object]] = {
    "t_learner": {"n_estimators": 30, "min_child_samples": 40},
    "s_learner": {"n_estimators": 30, "min_child_samples": 40},
    "x_learner": {"n_estimators": 30, "min_child_samples": 40},
    "class_transformation": {"n_estimators": 30, "min_child_samples": 40},
    "bag_regularized": {"epochs": 6, "bag_size": 128, "warmup_epochs": 2, "batch_size": 512},
    "bag_regularized_gbm": {"n_estimators": 30, "min_child_samples": 40, "bag_size": 128, "correction_rounds": 10},
    "bag_gated": {"bag_size": 128},
    "bag_blend": {"bag_size": 128},
    "bag_corrected_s": {"n_estimators": 30, "min_child_samples": 40, "bag_size": 128, "correction_rounds": 10},
}


def planted(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Treatment helps when x0 > 0 (+0.3) and hurts when x0 < 0 (-0.2); x1 drives the baseline."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    t = rng.integers(0, 2, n)
    effect = np.where(X[:, 0] > 0, 0.3, -0.2)
    p = np.clip(0.35 + 0.1 * np.tanh(X[:, 1]) + t * effect, 0.01, 0.99)
    y = (rng.random(n) < p).astype(int)
    return X, t, y, effect


def learner(name: str, random_state: int = 0) -> UpliftEstimator:
    return make_learner(name, random_state=random_state).set_params(**FAST[name])


def test_every_registered_learner_is_covered() -> None:
    assert set(FAST) == set(LEARNERS)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return planted()


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_contract(name: str, data) -> None:
    X, t, y, effect = data
    est = learner(name)

    with pytest.raises(NotFittedError):
        est.predict(X[:5])

    # fit returns self; predict gives one finite float64 per row.
    assert est.fit(X, t, y) is est
    pred = est.predict(X)
    assert pred.shape == (len(X),) and pred.dtype == np.float64 and np.isfinite(pred).all()
    assert est.n_features_in_ == X.shape[1]

    # The planted effect's sign is recovered: higher mean uplift where x0 > 0 than where x0 < 0,
    # and a positive rank correlation with the true effect.
    pos, neg = X[:, 0] > 0, X[:, 0] < 0
    assert pred[pos].mean() > pred[neg].mean() + 0.1
    assert np.corrcoef(pred, effect)[0, 1] > 0.3

    # Same seed, same model; predictions also agree on a numeric DataFrame of the same matrix.
    again = learner(name).fit(X, t, y)
    np.testing.assert_allclose(again.predict(X), pred, rtol=1e-6, atol=1e-9)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    from_frame = learner(name).fit(frame, pd.Series(t), pd.Series(y))
    np.testing.assert_allclose(from_frame.predict(frame), pred, rtol=1e-6, atol=1e-9)

    # clone gives an unfitted copy with the same parameters; pickling keeps predictions.
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "n_features_in_")
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict(X[:50]), pred[:50])

    # Wrong feature count at predict time is refused.
    with pytest.raises(InvalidArgument):
        est.predict(X[:, :2])


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_rejects_bad_training_data(name: str, data) -> None:
    X, t, y, _ = data
    est = learner(name)
    with pytest.raises(InvalidArgument) as err:
        est.fit(X, t[:-1], y)
    assert err.value.field == "treatment"
    with pytest.raises(InvalidArgument) as err:
        est.fit(X, t, y[:-5])
    assert err.value.field == "y"
    with pytest.raises(InvalidArgument, match="both treated"):
        est.fit(X, np.ones_like(t), y)
    with pytest.raises(InvalidArgument, match="0 .control. or 1"):
        est.fit(X, t * 2, y)
    if est.supports_continuous:  # revenue learners take a real-valued outcome, but not NaN
        with pytest.raises(InvalidArgument, match="NaN") as err:
            est.fit(X, t, np.where(np.arange(len(y)) == 7, np.nan, y))
        assert err.value.field == "y"
    else:
        with pytest.raises(InvalidArgument, match="binary"):
            est.fit(X, t, y + 0.5)
    bad = X.copy()
    bad[3, 1] = np.inf
    with pytest.raises(InvalidArgument, match="infinite"):
        est.fit(bad, t, y)
    with pytest.raises(InvalidArgument, match="not numeric"):
        est.fit(pd.DataFrame({"city": ["a"] * len(t)}), t, y)
