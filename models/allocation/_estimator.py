"""Reward estimator: each request's reward under each chain from the request's context features,
constrained to be non-decreasing in the compute spent at every stage (GreenFlow's monotonicity)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from core.errors import InvalidArgument
from models._lightgbm import ReusablePredictor

__all__ = ["CHAIN_FEATURES", "ESTIMATORS", "GainEstimator", "RewardEstimator", "make_estimator", "monotone_envelope"]

CHAIN_FEATURES = ("recall_cost_us", "recall_k", "prerank_cost_us", "prerank_k", "rank_cost_us")


STAGE_COLUMNS = (0, 2, 4)  # recall, pre-rank and rank compute in CHAIN_FEATURES


def monotone_envelope(values: np.ndarray, chain_features: np.ndarray) -> np.ndarray:
    """Smallest majorant of ``values`` that is non-decreasing along every stage: each chain gets the
    best value of any chain using no more compute at every stage."""
    stages = chain_features[:, STAGE_COLUMNS]
    dominated = np.all(stages[None, :, :] <= stages[:, None, :] + 1e-9, axis=2)   # [c, c'] c' ≤ c
    return np.where(dominated, values[None, :], -np.inf).max(axis=1)


class RewardEstimator:
    """LightGBM regressor on [context features, chain compute descriptors, chain prior] with
    ``monotone_constraints`` = +1 on every chain column. The chain prior is the monotone envelope of
    each chain's mean logged reward (itself non-decreasing in every stage's compute), so the model
    is non-decreasing in compute along every stage, while trees remain free to learn which users
    gain from compute.

    ``fit(context, chain_features, rewards)``: context (n, f), chain_features (m, len(CHAIN_FEATURES)),
    rewards (n, m); ``predict(context)`` returns (n, m).
    """

    def __init__(self, n_estimators: int = 100, num_leaves: int = 15, learning_rate: float = 0.1,
                 min_child_samples: int = 50, tie_break: float = 1e-3, random_state: int = 0,
                 floor: float | None = 0.0) -> None:
        self.tie_break = tie_break
        self.floor = floor
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def _rows(self, context: np.ndarray) -> np.ndarray:
        n, m = len(context), len(self.chain_features_)
        block = getattr(self, "_chain_block", None)
        if block is None:
            block = self._chain_block = np.hstack([self.chain_features_, self.prior_[:, None]]).astype(np.float64)
        rows = np.empty((n * m, self.n_context_ + block.shape[1]), dtype=np.float64)
        rows[:, : self.n_context_] = np.repeat(context, m, axis=0) if n > 1 else context
        rows[:, self.n_context_ :] = np.tile(block, (n, 1)) if n > 1 else block
        return rows

    def _predict_rows(self, rows: np.ndarray) -> np.ndarray:
        inner: ReusablePredictor | None = getattr(self, "_inner", None)
        if inner is None:
            inner = self._inner = ReusablePredictor(self.booster_)
        return inner.predict(rows)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_inner", None)      # a C handle: rebuilt lazily after unpickling
        state.pop("_chain_block", None)
        return state

    def fit(self, context: np.ndarray, chain_features: np.ndarray, rewards: np.ndarray) -> RewardEstimator:
        context = np.asarray(context, dtype=np.float32)
        chain_features = np.asarray(chain_features, dtype=np.float32)
        rewards = np.asarray(rewards, dtype=np.float32)
        if rewards.shape != (len(context), len(chain_features)):
            raise InvalidArgument(f"rewards must be (n_requests, n_chains) = {(len(context), len(chain_features))}, "
                                  f"got {rewards.shape}", field="rewards")
        self.chain_features_ = chain_features
        self.n_context_ = context.shape[1]
        mono = [0] * self.n_context_ + [1] * (chain_features.shape[1] + 1)
        params = {"objective": "regression", "num_leaves": self.num_leaves, "learning_rate": self.learning_rate,
                  "min_data_in_leaf": self.min_child_samples, "monotone_constraints": mono,
                  "monotone_constraints_method": "advanced", "seed": self.random_state, "verbose": -1,
                  "num_threads": 1}
        self.prior_ = monotone_envelope(rewards.mean(axis=0), chain_features.astype(np.float64))
        self.__dict__.pop("_chain_block", None)
        self.__dict__.pop("_inner", None)
        self.booster_ = lgb.train(params, lgb.Dataset(self._rows(context), rewards.ravel()),
                                  num_boost_round=self.n_estimators)
        return self

    def predict(self, context: np.ndarray) -> np.ndarray:
        context = np.atleast_2d(np.asarray(context, dtype=np.float32))
        if context.shape[1] != self.n_context_:
            raise InvalidArgument(f"expected {self.n_context_} context features, got {context.shape[1]}",
                                  field="context")
        pred = self._predict_rows(self._rows(context))
        # Trees are piecewise constant, so many chains tie; a tiny share of the (monotone) chain prior
        # breaks ties toward the chain that did best in the logs instead of the cheapest one.
        # Hits cannot be negative; clipping at a floor keeps the prediction monotone in compute.
        out = np.asarray(pred, dtype=np.float64).reshape(len(context), len(self.chain_features_))
        if self.floor is not None:
            out = np.maximum(out, self.floor)
        return out + self.tie_break * self.prior_[None, :]



class GainEstimator:
    """The marginal value of compute: the chain is the treatment, the cheapest chain the control, and
    each richer chain's *gain* over it is learned per request from paired differences
    ``reward[c] − reward[cheapest]`` of the same logged request (every chain is replayed on every
    logged request, so the differences are observed, not imputed). Pairing cancels what all chains
    share (how many items the user will like at all), the noise that swamps a reward-level model;
    the gain model carries the same monotone constraints, so the prediction stays non-decreasing in
    compute along every stage. A separate model predicts the cheap chain's reward, so ``predict``
    returns rewards like :class:`RewardEstimator` (allocation only ever uses their differences).
    """

    def __init__(self, n_estimators: int = 100, num_leaves: int = 15, learning_rate: float = 0.05,
                 min_child_samples: int = 100, random_state: int = 0) -> None:
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def fit(self, context: np.ndarray, chain_features: np.ndarray, rewards: np.ndarray) -> GainEstimator:
        rewards = np.asarray(rewards, dtype=np.float64)
        chain_features = np.asarray(chain_features, dtype=np.float64)
        if rewards.ndim != 2 or rewards.shape != (len(context), len(chain_features)):
            raise InvalidArgument(f"rewards must be (n_requests, n_chains) = {(len(context), len(chain_features))}, "
                                  f"got {rewards.shape}", field="rewards")
        self.reference_ = int(np.argmin(chain_features[:, STAGE_COLUMNS].sum(axis=1)))
        base = rewards[:, self.reference_]
        self.gain_ = RewardEstimator(self.n_estimators, self.num_leaves, self.learning_rate, self.min_child_samples,
                                     random_state=self.random_state, floor=None).fit(
            context, chain_features, rewards - base[:, None])
        params = {"objective": "regression", "num_leaves": 7, "learning_rate": 0.05, "min_data_in_leaf": 50,
                  "seed": self.random_state, "verbose": -1, "num_threads": 1}
        self.base_ = lgb.train(params, lgb.Dataset(np.asarray(context, dtype=np.float64), base), num_boost_round=60)
        self.n_context_ = self.gain_.n_context_
        return self

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_base_inner", None)   # a C handle: rebuilt lazily after unpickling
        return state

    def gain(self, context: np.ndarray) -> np.ndarray:
        """Predicted gain of every chain over the cheapest one, (n, m)."""
        return self.gain_.predict(context)

    def predict(self, context: np.ndarray) -> np.ndarray:
        context = np.atleast_2d(np.asarray(context, dtype=np.float32))
        gain = self.gain(context)      # validates the context width
        inner: ReusablePredictor | None = getattr(self, "_base_inner", None)
        if inner is None:
            inner = self._base_inner = ReusablePredictor(self.base_)
        base = np.maximum(np.asarray(inner.predict(context.astype(np.float64)), dtype=np.float64), 0.0)
        return base[:, None] + gain


ESTIMATORS = ("reward", "gain")


def make_estimator(kind: str, random_state: int = 0) -> RewardEstimator | GainEstimator:
    """``reward``: LightGBM on reward levels (:class:`RewardEstimator`); ``gain``: the marginal value
    of compute over the cheapest chain (:class:`GainEstimator`)."""
    if kind == "reward":
        return RewardEstimator(random_state=random_state)
    if kind == "gain":
        return GainEstimator(random_state=random_state)
    raise InvalidArgument(f"estimator must be one of {', '.join(ESTIMATORS)}, got {kind!r}", field="estimator")
