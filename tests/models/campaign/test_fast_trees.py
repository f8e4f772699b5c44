"""The compiled T-learner scorer gives LightGBM's own predictions."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from features.catalog import demo_catalog
from features.demo_world import generate_users
from models.campaign import compile_uplift_predictor
from models.uplift import SLearner, TLearner
from models.uplift.demo import train_demo_pipeline


def test_demo_model_scores_match_lightgbm():
    catalog = demo_catalog()
    users, truth = generate_users(catalog, 3_000, 2)
    model = train_demo_pipeline(users, truth["treatment"].to_numpy(), truth["converted"].to_numpy(), catalog,
                                n_estimators=30)
    fresh, _ = generate_users(catalog, 1_000, 3)
    X = model.encoder.transform(fresh)
    fast = compile_uplift_predictor(model.estimator)
    assert fast is not None
    np.testing.assert_allclose(fast(X), model.estimator.predict(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("missing", ["nan", "zero"])
def test_missing_values_follow_lightgbm_default_directions(missing):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4_000, 5))
    t = rng.integers(0, 2, 4_000)
    y = (rng.random(4_000) < 1 / (1 + np.exp(-X[:, 0] - t * X[:, 1]))).astype(float)
    if missing == "nan":
        X[rng.random(X.shape) < 0.2] = np.nan
    else:
        X[rng.random(X.shape) < 0.2] = 0.0
    model = TLearner(n_estimators=20, min_child_samples=20).fit(X, t, y)
    probe = X[:500].copy()
    probe[::7, 2] = np.nan
    fast = compile_uplift_predictor(model)
    assert fast is not None
    np.testing.assert_allclose(fast(probe), model.predict(probe), rtol=0, atol=1e-12)


def test_other_learners_are_not_compiled():
    rng = np.random.default_rng(1)
    X, t = rng.normal(size=(500, 3)), rng.integers(0, 2, 500)
    y = (rng.random(500) < 0.3).astype(float)
    assert compile_uplift_predictor(SLearner(n_estimators=5, min_child_samples=10).fit(X, t, y)) is None
    assert compile_uplift_predictor(lgb.LGBMClassifier()) is None
    assert compile_uplift_predictor(None) is None
