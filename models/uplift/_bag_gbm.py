"""LightGBM variant of bag regularization: a T- or S-learner whose uplift a bag-level boosting stage corrects.

Stage 1 is a LightGBM T-learner (or S-learner). Stage 2 boosts a correction ``f(x)`` starting from the T-learner's
uplift (``init_score``) with a custom objective: at every boosting round the training rows are sorted
by their *current* uplift ``f``, cut into bags of ``bag_size``, and the loss is the inverse-variance
weighted squared error between each bag's mean ``f`` and its observed ATE (treated mean − control mean).
Its gradient reaches every member of a bag equally, so trees learn which features separate bags whose
observed effect is above or below what the two models claimed.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from models.uplift._bag import bag_ate_labels
from models.uplift._meta import SLearner, TLearner, _LGBMUplift, lgbm_params

__all__ = ["BagCorrectedSLearner", "BagCorrectedTLearner"]


def _fit_bag_correction(learner: _LGBMUplift, X: np.ndarray, t: np.ndarray, y: np.ndarray, init: np.ndarray,
                        bag_size: int, rounds: int, learning_rate: float) -> lgb.Booster:
    """Boost a correction of the uplift ``init`` towards the observed ATEs of bags of ``bag_size``
    consecutive rows in the current uplift order (inverse-variance weighted squared error)."""
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
        size = np.bincount(bag, minlength=n_bags).astype(np.float64)
        mean = np.bincount(bag, weights=preds, minlength=n_bags) / np.maximum(size, 1.0)
        grad = (w * (mean - ate) / np.maximum(size, 1.0))[bag]
        hess = (w / np.maximum(size, 1.0))[bag]
        # LightGBM needs a positive hessian everywhere; bags without both arms carry none.
        return grad, np.maximum(hess, 1e-12)

    params: dict[str, Any] = lgbm_params(rounds, learning_rate, int(learner.num_leaves),
                                         int(learner.min_child_samples), learner.random_state, int(learner.n_jobs))
    params.pop("n_estimators")
    params["objective"] = bag_objective
    params["min_sum_hessian_in_leaf"] = 0.0
    data = lgb.Dataset(X, label=np.zeros(n), init_score=init, free_raw_data=True)
    return lgb.train(params, data, num_boost_round=rounds)


class BagCorrectedTLearner(TLearner):
    """T-learner + bag-level LightGBM correction (registry name ``bag_regularized_gbm``)."""

    supports_continuous = False  # bag labels' variances assume a 0/1 outcome

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.05, num_leaves: int = 15,
                 min_child_samples: int = 100, early_stopping_rounds: int = 20, validation_fraction: float = 0.2,
                 bag_size: int = 512, correction_rounds: int = 30, correction_learning_rate: float = 0.05,
                 random_state: int | None = 0, n_jobs: int = 1) -> None:
        super().__init__(n_estimators=n_estimators, learning_rate=learning_rate, num_leaves=num_leaves,
                         min_child_samples=min_child_samples, early_stopping_rounds=early_stopping_rounds,
                         validation_fraction=validation_fraction, random_state=random_state, n_jobs=n_jobs)
        self.bag_size = bag_size
        self.correction_rounds = correction_rounds
        self.correction_learning_rate = correction_learning_rate

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        super()._fit(X, t, y)
        self.correction_ = _fit_bag_correction(self, X, t, y, super()._predict(X), int(self.bag_size),
                                               int(self.correction_rounds), float(self.correction_learning_rate))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return super()._predict(X) + self.correction_.predict(X, raw_score=True)


class BagCorrectedSLearner(SLearner):
    """S-learner + the same bag-level LightGBM correction (registry name ``bag_corrected_s``; the
    ``default`` learner for 0/1 outcomes).

    The S-learner's one model sees every row (both arms, rare positives pooled), so it stays sound
    where the bag net starves; the correction then moves whole bags towards their observed ATEs.
    """

    supports_continuous = False  # bag labels' variances assume a 0/1 outcome

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.05, num_leaves: int = 15,
                 min_child_samples: int = 100, early_stopping_rounds: int = 20, validation_fraction: float = 0.2,
                 bag_size: int = 512, correction_rounds: int = 30, correction_learning_rate: float = 0.05,
                 random_state: int | None = 0, n_jobs: int = 1) -> None:
        super().__init__(n_estimators=n_estimators, learning_rate=learning_rate, num_leaves=num_leaves,
                         min_child_samples=min_child_samples, early_stopping_rounds=early_stopping_rounds,
                         validation_fraction=validation_fraction, random_state=random_state, n_jobs=n_jobs)
        self.bag_size = bag_size
        self.correction_rounds = correction_rounds
        self.correction_learning_rate = correction_learning_rate

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        super()._fit(X, t, y)
        self.correction_ = _fit_bag_correction(self, X, t, y, super()._predict(X), int(self.bag_size),
                                               int(self.correction_rounds), float(self.correction_learning_rate))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return super()._predict(X) + self.correction_.predict(X, raw_score=True)
