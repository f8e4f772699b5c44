"""LightGBM variant of bag regularization: a T- or S-learner whose uplift a bag-level boosting stage corrects.

Stage 1 is a LightGBM T-learner (or S-learner). Stage 2 boosts a correction ``f(x)`` starting from stage 1's
uplift (``init_score``) with a custom objective: at every boosting round the training rows are sorted
by their *current* uplift ``f``, cut into bags of ``bag_size``, and the loss is the inverse-variance
weighted squared error between each bag's mean ``f`` and its observed ATE (treated mean − control mean).
Its gradient reaches every member of a bag equally, so trees learn which features separate bags whose
observed effect is above or below what the two models claimed.

**Empirical-Bayes shrinkage** (``shrinkage=True``): a bag's residual ``r_b = ATE_b − mean_b`` is true
discrepancy plus sampling noise of variance ``v_b``. Across bags, ``E[r²] = τ² + E[v]``, so the spread
of the true discrepancies is estimated by moments, ``τ² = max(0, mean(r²) − mean(v))``, and each bag's
pull is shrunk by ``τ² / (τ² + v_b)``. Bags whose ATE is noise (rare outcomes, small bags, no effect
left to find) then barely move the predictions; as the correction explains the real discrepancies,
``τ²`` falls to zero and the stage stops moving by itself.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from models.uplift._bag import bag_ate_labels
from models.uplift._meta import LGBMUplift, SLearner, TLearner, lgbm_params

__all__ = ["BagCorrectedSLearner", "BagCorrectedTLearner", "bag_shrinkage", "fit_bag_correction"]


def bag_shrinkage(residual: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Empirical-Bayes factor ``τ² / (τ² + v_b)`` per bag (0 for bags without a finite variance).

    ``residual``: each bag's observed ATE minus its mean predicted uplift; ``variance``: the ATE's
    sampling variance. ``τ²``, the variance of the true residuals, is estimated by moments over the
    bags with a finite variance; when the residuals are no larger than their noise it is 0.
    """
    finite = np.isfinite(variance)
    out = np.zeros(len(residual))
    if not finite.any():
        return out
    tau2 = max(0.0, float(np.mean(residual[finite] ** 2) - np.mean(variance[finite])))
    out[finite] = tau2 / (tau2 + variance[finite]) if tau2 > 0.0 else 0.0
    return out


def fit_bag_correction(X: np.ndarray, t: np.ndarray, y: np.ndarray, init: np.ndarray, *, bag_size: int = 512,
                       rounds: int = 30, learning_rate: float = 0.05, shrinkage: bool = True, num_leaves: int = 15,
                       min_child_samples: int = 100, random_state: int | None = 0, n_jobs: int = 1) -> lgb.Booster:
    """Boost a correction of the uplift ``init`` towards the observed ATEs of bags of ``bag_size``
    consecutive rows in the current uplift order (inverse-variance weighted squared error, each bag's
    pull shrunk by :func:`bag_shrinkage` when ``shrinkage``). The corrected uplift of rows ``X'`` is
    ``init' + booster.predict(X', raw_score=True)``."""
    n = len(X)
    n_bags = max(1, n // max(1, bag_size))
    tf = t.astype(np.float64)

    def bag_objective(preds: np.ndarray, data: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(preds, kind="stable")] = np.arange(n)
        bag = np.minimum(rank * n_bags // n, n_bags - 1)
        ate, var = bag_ate_labels(bag, tf, y, n_bags)
        finite = np.isfinite(var)
        w = np.where(finite, 1.0 / np.where(finite, var, 1.0), 0.0)
        w = w / max(w[finite].mean(), 1e-12) if finite.any() else w
        size = np.maximum(np.bincount(bag, minlength=n_bags).astype(np.float64), 1.0)
        mean = np.bincount(bag, weights=preds, minlength=n_bags) / size
        pull = bag_shrinkage(ate - mean, var) if shrinkage else np.ones(n_bags)
        grad = (w * pull * (mean - ate) / size)[bag]
        hess = (w / size)[bag]
        # LightGBM needs a positive hessian everywhere; bags without both arms carry none.
        return grad, np.maximum(hess, 1e-12)

    params: dict[str, Any] = lgbm_params(rounds, learning_rate, num_leaves, min_child_samples, random_state, n_jobs)
    params.pop("n_estimators")
    params["objective"] = bag_objective
    params["min_sum_hessian_in_leaf"] = 0.0
    data = lgb.Dataset(X, label=np.zeros(n), init_score=init, free_raw_data=True)
    return lgb.train(params, data, num_boost_round=rounds)


class _BagCorrected(LGBMUplift):
    """Stage 1 (the next LightGBM learner in the MRO) plus the bag-level correction stage.

    Stage 1 grows a fixed 100 trees at learning rate 0.1 (``early_stopping_rounds=0``): early stopping on
    the *outcome's* log-loss kept 40–106 trees on the suite, stopping before the small treatment
    interaction was learned on weak experiments. 100 trees × 0.1 is the anchors' learning budget (200 ×
    0.05) with 15 leaves and at least 100 rows per leaf, at half the trees: the correction needs stage 1's
    in-sample uplift, two predictions per row, and 200 trees put the default over 3x the T-learner's fit
    time on rare outcomes (where the T-learner stops early).
    """

    supports_continuous = False  # bag labels' variances assume a 0/1 outcome

    def __init__(self, n_estimators: int = 100, learning_rate: float = 0.1, num_leaves: int = 15,
                 min_child_samples: int = 100, early_stopping_rounds: int = 0, validation_fraction: float = 0.2,
                 bag_size: int = 512, correction_rounds: int = 30, correction_learning_rate: float = 0.05,
                 shrinkage: bool = True, random_state: int | None = 0, n_jobs: int = 1) -> None:
        super().__init__(n_estimators=n_estimators, learning_rate=learning_rate, num_leaves=num_leaves,
                         min_child_samples=min_child_samples, early_stopping_rounds=early_stopping_rounds,
                         validation_fraction=validation_fraction, random_state=random_state, n_jobs=n_jobs)
        self.bag_size = bag_size
        self.correction_rounds = correction_rounds
        self.correction_learning_rate = correction_learning_rate
        self.shrinkage = shrinkage

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        super()._fit(X, t, y)
        self.correction_ = fit_bag_correction(
            X, t, y, super()._predict(X), bag_size=int(self.bag_size), rounds=int(self.correction_rounds),
            learning_rate=float(self.correction_learning_rate), shrinkage=bool(self.shrinkage),
            num_leaves=int(self.num_leaves), min_child_samples=int(self.min_child_samples),
            random_state=self.random_state, n_jobs=int(self.n_jobs))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return super()._predict(X) + self.correction_.predict(X, raw_score=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # An artifact pickled before ``shrinkage`` existed was fitted without it: say so, so that its
        # parameters, repr and clones describe the model it is.
        state.setdefault("shrinkage", False)
        super().__setstate__(state)


class BagCorrectedTLearner(_BagCorrected, TLearner):
    """T-learner + bag-level LightGBM correction (registry name ``bag_regularized_gbm``)."""


class BagCorrectedSLearner(_BagCorrected, SLearner):
    """S-learner + the same bag-level LightGBM correction (registry name ``bag_corrected_s``; the
    ``default`` learner for 0/1 outcomes).

    The S-learner's one model sees every row (both arms, rare positives pooled), so it stays sound
    where the bag net starves; the correction then moves whole bags towards their observed ATEs.
    """
