"""The standard uplift baselines with LightGBM base models: T-, S-, X-learner and class transformation.

Each is a small, readable implementation of the textbook method behind :class:`UpliftEstimator`
(Künzel et al. 2019 for the meta-learners; Jaskowski & Jaroszewicz 2012 for class transformation).
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.model_selection import train_test_split

from models.uplift.base import UpliftEstimator

__all__ = ["ClassTransformation", "LGBMUplift", "SLearner", "TLearner", "XLearner", "lgbm_params"]


def lgbm_params(n_estimators: int, learning_rate: float, num_leaves: int, min_child_samples: int,
                random_state: int | None, n_jobs: int) -> dict[str, Any]:
    """LightGBM settings shared by every baseline (regularized: uplift signals are small and noisy)."""
    return {
        "n_estimators": n_estimators,
        "learning_rate": learning_rate,
        "num_leaves": num_leaves,
        "min_child_samples": min_child_samples,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "random_state": 0 if random_state is None else random_state,
        "n_jobs": n_jobs,
        "verbose": -1,
        "deterministic": True,
        "force_row_wise": True,
    }


_MIN_TREES = 30


class LGBMUplift(UpliftEstimator):
    """Shared constructor parameters of the LightGBM learners.

    Defaults are regularized for small data, weak signal and few features (15 leaves, at least 100
    rows per leaf, learning rate 0.05) and every base model stops early: up to ``n_estimators`` trees
    are grown on ``1 - validation_fraction`` of its rows while the held-out rest is watched, and the
    model is then refitted on all rows with the number of trees that did best there.
    ``early_stopping_rounds=0`` grows exactly ``n_estimators`` trees.
    """

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.05, num_leaves: int = 15,
                 min_child_samples: int = 100, early_stopping_rounds: int = 20, validation_fraction: float = 0.2,
                 random_state: int | None = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self, seed_offset: int = 0, n_estimators: int | None = None) -> dict[str, Any]:
        seed = None if self.random_state is None else self.random_state + seed_offset
        return lgbm_params(int(n_estimators or self.n_estimators), self.learning_rate, self.num_leaves,
                           self.min_child_samples, seed, self.n_jobs)

    def _best_rounds(self, model_class: type[lgb.LGBMModel], X: np.ndarray, y: np.ndarray, seed_offset: int,
                     sample_weight: np.ndarray | None, classify: bool) -> int:
        """Trees to grow: the early-stopping optimum on an inner validation split (all when off)."""
        rounds, share = int(self.early_stopping_rounds), float(self.validation_fraction)
        n_valid = int(len(X) * share)
        # Too few rows (or one class) for an honest validation split: no early stopping.
        if rounds <= 0 or not 0.0 < share < 1.0 or n_valid < 50 or (classify and len(np.unique(y)) < 2):
            return int(self.n_estimators)
        seed = 0 if self.random_state is None else int(self.random_state) + seed_offset
        rows = np.arange(len(X))
        fit_rows, valid_rows = train_test_split(rows, test_size=share, random_state=seed,
                                                stratify=y if classify and np.bincount(y.astype(np.int64)).min() >= 2
                                                else None)
        w_fit = None if sample_weight is None else sample_weight[fit_rows]
        w_valid = None if sample_weight is None else [sample_weight[valid_rows]]
        probe = model_class(**self._params(seed_offset)).fit(
            X[fit_rows], y[fit_rows], sample_weight=w_fit, eval_X=(X[valid_rows],), eval_y=(y[valid_rows],),
            eval_sample_weight=w_valid, callbacks=[lgb.early_stopping(rounds, verbose=False)])
        best = int(getattr(probe, "best_iteration_", 0) or 0) or int(self.n_estimators)
        # Refitting on all rows (a quarter more than the probe saw) supports proportionally more trees.
        # The floor keeps a ranking: outcome log-loss can stop improving after a tree or two while the
        # (much smaller) effect still needs more trees to show (class transformation on little data).
        floor = min(int(self.n_estimators), _MIN_TREES)
        return max(floor, min(int(self.n_estimators), int(round(best / (1.0 - share)))))

    def _classifier(self, X: np.ndarray, y: np.ndarray, seed_offset: int = 0,
                    sample_weight: np.ndarray | None = None) -> lgb.LGBMClassifier:
        n = self._best_rounds(lgb.LGBMClassifier, X, y, seed_offset, sample_weight, classify=True)
        return lgb.LGBMClassifier(**self._params(seed_offset, n)).fit(X, y, sample_weight=sample_weight)

    def _regressor(self, X: np.ndarray, y: np.ndarray, seed_offset: int = 0) -> lgb.LGBMRegressor:
        n = self._best_rounds(lgb.LGBMRegressor, X, y, seed_offset, None, classify=False)
        return lgb.LGBMRegressor(**self._params(seed_offset, n)).fit(X, y)

    def _outcome_model(self, X: np.ndarray, y: np.ndarray, seed_offset: int = 0) -> lgb.LGBMModel:
        """``E[y | x]``: a classifier for a 0/1 outcome, a regressor for revenue."""
        if self.outcome_kind_ == "binary":
            return self._classifier(X, y, seed_offset)
        return self._regressor(X, y, seed_offset)


def _proba(model: lgb.LGBMModel, X: np.ndarray) -> np.ndarray:
    """``E[y | x]``: the positive-class probability of a classifier, the prediction of a regressor."""
    if isinstance(model, lgb.LGBMClassifier):
        return np.asarray(model.predict_proba(X))[:, 1]
    return np.asarray(model.predict(X), dtype=np.float64)


class TLearner(LGBMUplift):
    """Two models: ``P(y | x, treated) - P(y | x, control)``, each fitted on its own arm."""

    supports_continuous = True

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        self.model_treated_ = self._outcome_model(X[t == 1], y[t == 1], 0)
        self.model_control_ = self._outcome_model(X[t == 0], y[t == 0], 1)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return _proba(self.model_treated_, X) - _proba(self.model_control_, X)


class SLearner(LGBMUplift):
    """One model with the treatment flag as a feature; uplift = prediction(t=1) - prediction(t=0)."""

    supports_continuous = True

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        self.model_ = self._outcome_model(np.column_stack([X, t]), y)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        # Both counterfactual rows in one call: a served 100-row request pays the booster's per-call cost once.
        n = len(X)
        both = np.column_stack([np.vstack([X, X]), np.repeat([1.0, 0.0], n)])
        p = _proba(self.model_, both)
        return p[:n] - p[n:]


class XLearner(LGBMUplift):
    """X-learner: impute individual effects with the other arm's outcome model, regress them per arm,
    and blend the two effect models by the (randomized, hence constant) propensity."""

    supports_continuous = True

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        treated, control = t == 1, t == 0
        mu1 = self._outcome_model(X[treated], y[treated], 0)
        mu0 = self._outcome_model(X[control], y[control], 1)
        effect_treated = y[treated] - _proba(mu0, X[treated])
        effect_control = _proba(mu1, X[control]) - y[control]
        self.tau_treated_ = self._regressor(X[treated], effect_treated, 2)
        self.tau_control_ = self._regressor(X[control], effect_control, 3)
        self.propensity_ = float(treated.mean())

    def _predict(self, X: np.ndarray) -> np.ndarray:
        e = self.propensity_
        tau_c = np.asarray(self.tau_control_.predict(X), dtype=np.float64)
        tau_t = np.asarray(self.tau_treated_.predict(X), dtype=np.float64)
        return e * tau_c + (1.0 - e) * tau_t


class ClassTransformation(LGBMUplift):
    """Class transformation: ``z = 1`` for treated responders and control non-responders; with arms
    weighted to equal size, ``uplift = 2 P(z = 1 | x) - 1``."""

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        z = (y == t).astype(np.int8)
        share = float(t.mean())
        weight = np.where(t == 1, 0.5 / share, 0.5 / (1.0 - share))
        self.model_ = self._classifier(X, z, sample_weight=weight)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return 2.0 * _proba(self.model_, X) - 1.0
