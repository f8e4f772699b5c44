"""The bag-ATE correction stage: empirical-Bayes shrinkage of each bag's pull, on real LightGBM fits."""

from __future__ import annotations

import numpy as np

from models.uplift import (
    BagCorrectedSLearner,
    BagCorrectedTLearner,
    BlendedBagUplift,
    bag_shrinkage,
    fit_bag_correction,
    make_learner,
)


def experiment(effect_size: float, n: int = 8000, seed: int = 0):
    """Treatment changes the response rate by ``+effect_size`` where x0 > 0 and ``-effect_size`` elsewhere."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    t = rng.integers(0, 2, n)
    effect = np.where(X[:, 0] > 0, effect_size, -effect_size)
    p = np.clip(0.4 + 0.1 * np.tanh(X[:, 1]) + t * effect, 0.01, 0.99)
    return X, t, (rng.random(n) < p).astype(float), effect


def test_shrinkage_is_zero_for_pure_noise_and_one_for_clear_discrepancies() -> None:
    rng = np.random.default_rng(3)
    variance = np.full(400, 0.02**2)
    noise = rng.normal(0.0, 0.02, 400)  # residuals exactly as large as their sampling noise
    assert bag_shrinkage(noise, variance).max() < 0.15
    assert bag_shrinkage(np.zeros(400), variance).max() == 0.0
    signal = rng.normal(0.0, 0.3, 400) + noise  # true discrepancies 15x the noise
    assert bag_shrinkage(signal, variance).min() > 0.99
    # A bag missing an arm has infinite variance and no pull; precise bags are trusted more.
    variance[:2] = [np.inf, 0.1**2]
    factor = bag_shrinkage(signal, variance)
    assert factor[0] == 0.0 and 0.0 < factor[1] < factor[2]


def test_noise_bags_leave_the_uplift_almost_unchanged() -> None:
    X, t, y, _ = experiment(0.0)  # no effect anywhere: every bag's ATE is noise around the flat start
    start = np.zeros(len(X))
    shrunk = fit_bag_correction(X, t, y, start, bag_size=200, rounds=40, learning_rate=0.1, min_child_samples=40)
    plain = fit_bag_correction(X, t, y, start, bag_size=200, rounds=40, learning_rate=0.1, min_child_samples=40,
                               shrinkage=False)
    moved_shrunk = np.abs(shrunk.predict(X, raw_score=True)).mean()
    moved_plain = np.abs(plain.predict(X, raw_score=True)).mean()
    # Without shrinkage the stage chases the noisy bag ATEs; with it, it barely moves.
    assert moved_plain > 0.01
    assert moved_shrunk < 0.2 * moved_plain


def test_strong_bags_pull_the_uplift_toward_their_ates() -> None:
    X, t, y, effect = experiment(0.25)
    timid = 0.1 * effect  # the right direction at a tenth of the size: the bags disagree with it
    booster = fit_bag_correction(X, t, y, timid, bag_size=200, rounds=40, learning_rate=0.1, min_child_samples=40)
    corrected = timid + booster.predict(X, raw_score=True)
    pos, neg = X[:, 0] > 0, X[:, 0] <= 0
    gap = corrected[pos].mean() - corrected[neg].mean()
    # True gap 0.5, the start claims 0.05: the shrunk pull still restores most of it, without overshooting.
    assert 0.3 < gap < 0.6


def test_default_blend_keeps_a_shrunk_correction_with_all_stage_one_trees() -> None:
    X, t, y, effect = experiment(0.25, n=3000)
    model = make_learner("default")
    assert isinstance(model, BlendedBagUplift)
    model.fit(X, t, y)
    corrected = model.models_[0]
    assert isinstance(corrected, BagCorrectedSLearner) and corrected.get_params()["shrinkage"] is True
    # No early stopping on the outcome's log-loss: stage 1 keeps every tree of its budget.
    assert corrected.model_.n_estimators == corrected.n_estimators == 100
    assert np.corrcoef(model.predict(X), effect)[0, 1] > 0.5


def test_t_and_s_variants_share_one_correction_and_clone_their_parameters() -> None:
    X, t, y, _ = experiment(0.25, n=3000)
    for cls in (BagCorrectedSLearner, BagCorrectedTLearner):
        model = cls(shrinkage=True, n_estimators=40, min_child_samples=40, bag_size=200, correction_rounds=10)
        assert model.get_params()["shrinkage"] is True and model.get_params()["bag_size"] == 200
        assert model.fit(X, t, y).predict(X[:5]).shape == (5,)
