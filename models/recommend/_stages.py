"""Base signals and the stage models of the cascade: recall, pre-ranking and ranking instances of
clearly different cost. Every stage scores a request's candidates through the same per-request
context, so what the calibration times is exactly what serving runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from models._lightgbm import ReusablePredictor

__all__ = [
    "BaseSignals", "RequestContext", "RecallModel", "PopularityRecall", "EmbeddingRecall", "ItemCFRecall",
    "Scorer", "LinearPreRanker", "MLPPreRanker", "LightGBMRanker", "pair_features", "FEATURE_NAMES",
]

CF_NEIGHBOURS = 100
CF_HISTORY = 60  # item-CF looks at the most recent items only (bounded cost per request)


@dataclass
class BaseSignals:
    """Everything learned from the base-period ratings: popularity, item means, SVD item embeddings
    (64 dims; the first 16 are the cheap embedding) and a top-k cosine item-item similarity."""

    item_pop: np.ndarray
    recent_pop: np.ndarray
    item_mean: np.ndarray
    emb64: np.ndarray
    emb16: np.ndarray
    sim: sp.csr_matrix
    genres: np.ndarray

    @classmethod
    def fit(cls, ratings: pd.DataFrame, n_users: int, n_items: int, genres: np.ndarray,
            recent_days: float = 30.0) -> BaseSignals:
        u = ratings["user"].to_numpy()
        i = ratings["item"].to_numpy()
        r = ratings["rating"].to_numpy(np.float32)
        t = ratings["ts"].to_numpy()
        pop = np.bincount(i, minlength=n_items).astype(np.float32)
        recent = np.bincount(i[t >= t.max() - recent_days * 86400], minlength=n_items).astype(np.float32)
        sums = np.bincount(i, weights=r, minlength=n_items)
        glob = float(r.mean())
        item_mean = ((sums + 10 * glob) / (pop + 10)).astype(np.float32)
        binary = sp.csr_matrix((np.ones_like(r), (u, i)), shape=(n_users, n_items))
        binary.data[:] = 1.0
        k = int(min(64, min(binary.shape) - 1))
        centred = sp.csr_matrix((r - glob, (u, i)), shape=(n_users, n_items))
        _, s, vt = svds(centred.astype(np.float64), k=k, random_state=0)
        order = np.argsort(-s)
        emb = (vt[order].T * np.sqrt(s[order])).astype(np.float32)
        if emb.shape[1] < 64:
            emb = np.pad(emb, ((0, 0), (0, 64 - emb.shape[1])))
        co = (binary.T @ binary).tocsr().astype(np.float32)
        co.setdiag(0)
        co.eliminate_zeros()
        norm = np.sqrt(np.maximum(pop, 1.0))
        co = sp.diags(1 / norm) @ co @ sp.diags(1 / norm)
        sim = _top_k_rows(co.tocsr(), CF_NEIGHBOURS)
        return cls(pop, recent, item_mean, np.ascontiguousarray(emb), np.ascontiguousarray(emb[:, :16]),
                   sim, genres.astype(np.float32))

    @property
    def n_items(self) -> int:
        return len(self.item_pop)


def _top_k_rows(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for r in range(m.shape[0]):
        a, b = m.indptr[r], m.indptr[r + 1]
        if b == a:
            continue
        d, c = m.data[a:b], m.indices[a:b]
        keep = np.argsort(-d)[:k]
        rows.append(np.full(len(keep), r))
        cols.append(c[keep])
        vals.append(d[keep])
    if not rows:
        return sp.csr_matrix(m.shape, dtype=np.float32)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=m.shape, dtype=np.float32)


class RequestContext:
    """One request's user-side state, computed lazily and cached, so each stage pays only for what it
    uses (and the calibration sees the same work)."""

    def __init__(self, base: BaseSignals, history: np.ndarray, ratings: np.ndarray) -> None:
        self.base = base
        self.history = np.asarray(history, dtype=np.int64)
        self.ratings = np.asarray(ratings, dtype=np.float32)
        self._cache: dict[str, np.ndarray] = {}

    def _get(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        v = self._cache.get(key)
        if v is None:
            v = self._cache[key] = make()
        return v

    @property
    def liked(self) -> np.ndarray:
        def make() -> np.ndarray:
            pos = self.history[self.ratings >= 4]
            return pos if len(pos) else self.history
        return self._get("liked", make)

    @property
    def seen(self) -> np.ndarray:
        def make() -> np.ndarray:
            m = np.zeros(self.base.n_items, dtype=bool)
            m[self.history] = True
            return m
        return self._get("seen", make)

    def user_vec(self, dim: int) -> np.ndarray:
        emb = self.base.emb16 if dim == 16 else self.base.emb64
        return self._get(f"u{dim}", lambda: emb[self.liked].mean(axis=0) if len(self.liked)
                         else np.zeros(emb.shape[1], np.float32))

    @property
    def genre_profile(self) -> np.ndarray:
        def make() -> np.ndarray:
            g = self.base.genres[self.liked].sum(axis=0) if len(self.liked) else self.base.genres.sum(axis=0)
            return (g / max(float(g.sum()), 1e-9)).astype(np.float32)
        return self._get("genre", make)

    @property
    def cf_scores(self) -> np.ndarray:
        """Summed item-CF similarity of every item to the recent liked items."""
        return self._get("cf", lambda: np.asarray(
            self.base.sim[self.liked[-CF_HISTORY:]].sum(axis=0)).ravel().astype(np.float32))


# -- pair features -----------------------------------------------------------------------------------

def _cf(ctx: RequestContext, items: np.ndarray) -> np.ndarray:
    return ctx.cf_scores[items] / max(len(ctx.liked[-CF_HISTORY:]), 1)


_FEATURES: dict[str, Callable[[RequestContext, np.ndarray], np.ndarray]] = {
    "log_pop": lambda c, i: np.log1p(c.base.item_pop[i]),
    "log_recent_pop": lambda c, i: np.log1p(c.base.recent_pop[i]),
    "item_mean": lambda c, i: c.base.item_mean[i],
    "emb16_dot": lambda c, i: c.base.emb16[i] @ c.user_vec(16),
    "emb64_dot": lambda c, i: c.base.emb64[i] @ c.user_vec(64),
    "genre_affinity": lambda c, i: c.base.genres[i] @ c.genre_profile,
    "itemcf": _cf,
    "log_history": lambda c, i: np.full(len(i), np.log1p(len(c.history)), np.float32),
    "user_mean": lambda c, i: np.full(len(i), float(c.ratings.mean()) if len(c.ratings) else 3.5, np.float32),
}
FEATURE_NAMES = tuple(_FEATURES)


def pair_features(ctx: RequestContext, items: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([_FEATURES[n](ctx, items) for n in names]).astype(np.float32)


# -- recall ----------------------------------------------------------------------------------------

class RecallModel(Protocol):
    name: str

    def recall(self, ctx: RequestContext, k: int) -> np.ndarray: ...


def _top_unseen(scores: np.ndarray, seen: np.ndarray, k: int) -> np.ndarray:
    scores = np.where(seen, -np.inf, scores)
    k = min(k, int((~seen).sum()))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]


@dataclass
class PopularityRecall:
    """Most-rated items of the last month the user has not seen: no per-user model at all."""

    base: BaseSignals
    name: str = "popularity"
    order: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.order = np.lexsort((-self.base.item_pop, -self.base.recent_pop))

    def recall(self, ctx: RequestContext, k: int) -> np.ndarray:
        o = self.order
        return o[~ctx.seen[o]][:k]


@dataclass
class EmbeddingRecall:
    """Dot product of the mean liked-item SVD embedding with every item embedding."""

    base: BaseSignals
    dim: int = 64
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or f"emb{self.dim}"

    def recall(self, ctx: RequestContext, k: int) -> np.ndarray:
        emb = self.base.emb16 if self.dim == 16 else self.base.emb64
        return _top_unseen(emb @ ctx.user_vec(self.dim), ctx.seen, k)


@dataclass
class ItemCFRecall:
    """Item-based collaborative filtering: summed cosine similarity to the recent liked items."""

    base: BaseSignals
    name: str = "itemcf"

    def recall(self, ctx: RequestContext, k: int) -> np.ndarray:
        s = ctx.cf_scores + 1e-6 * np.log1p(self.base.item_pop)
        return _top_unseen(s, ctx.seen, k)


# -- scoring stages -----------------------------------------------------------------------------------

class Scorer(Protocol):
    name: str
    features: tuple[str, ...]

    def fit(self, x: np.ndarray, y: np.ndarray) -> Scorer: ...

    def score_matrix(self, x: np.ndarray) -> np.ndarray: ...

    def score(self, ctx: RequestContext, items: np.ndarray) -> np.ndarray: ...


class _ScorerBase:
    name: str
    features: tuple[str, ...]

    def score(self, ctx: RequestContext, items: np.ndarray) -> np.ndarray:
        return self.score_matrix(pair_features(ctx, items, self.features))

    def score_matrix(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class LinearPreRanker(_ScorerBase):
    """Logistic regression on three cheap features, applied as one dot product."""

    def __init__(self, features: tuple[str, ...] = ("log_pop", "emb16_dot", "genre_affinity"),
                 name: str = "linear") -> None:
        self.features = features
        self.name = name

    def fit(self, x: np.ndarray, y: np.ndarray) -> LinearPreRanker:
        scaler = StandardScaler().fit(x)
        lr = LogisticRegression(max_iter=500).fit(scaler.transform(x), y)
        self.coef_ = (lr.coef_[0] / scaler.scale_).astype(np.float32)
        self.intercept_ = float(lr.intercept_[0] - (lr.coef_[0] * scaler.mean_ / scaler.scale_).sum())
        return self

    def score_matrix(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef_ + self.intercept_


class MLPPreRanker(_ScorerBase):
    """A two-hidden-layer perceptron on six features (numpy forward pass)."""

    def __init__(self, features: tuple[str, ...] = ("log_pop", "log_recent_pop", "item_mean", "emb16_dot",
                                                    "emb64_dot", "genre_affinity"),
                 hidden: tuple[int, ...] = (64, 32), max_iter: int = 25, name: str = "mlp",
                 random_state: int = 0) -> None:
        self.features = features
        self.hidden = hidden
        self.max_iter = max_iter
        self.name = name
        self.random_state = random_state

    def fit(self, x: np.ndarray, y: np.ndarray) -> MLPPreRanker:
        # A stratified-free subsample keeps training to seconds; the MLP saturates well before.
        rng = np.random.default_rng(self.random_state)
        if len(x) > 20_000:
            idx = rng.choice(len(x), 20_000, replace=False)
            x, y = x[idx], y[idx]
        self.scaler_ = StandardScaler().fit(x)
        with threadpool_limits(1):   # small matrices: BLAS threads only contend
            mlp = MLPClassifier(hidden_layer_sizes=self.hidden, max_iter=self.max_iter, early_stopping=True,
                                batch_size=512, learning_rate_init=0.003,
                                random_state=self.random_state).fit(self.scaler_.transform(x), y)
        self.weights_ = [w.astype(np.float32) for w in mlp.coefs_]
        self.biases_ = [b.astype(np.float32) for b in mlp.intercepts_]
        self.mean_ = self.scaler_.mean_.astype(np.float32)
        self.scale_ = self.scaler_.scale_.astype(np.float32)
        return self

    def score_matrix(self, x: np.ndarray) -> np.ndarray:
        h = (x - self.mean_) / self.scale_
        for w, b in zip(self.weights_[:-1], self.biases_[:-1], strict=True):
            h = np.maximum(h @ w + b, 0)
        return (h @ self.weights_[-1] + self.biases_[-1]).ravel()


class LightGBMRanker(_ScorerBase):
    """Gradient-boosted trees (binary relevance); small and large instances differ in trees and
    features."""

    def __init__(self, features: tuple[str, ...] = FEATURE_NAMES, n_estimators: int = 200,
                 num_leaves: int = 31, learning_rate: float = 0.05, name: str = "gbdt",
                 random_state: int = 0) -> None:
        self.features = features
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.name = name
        self.random_state = random_state

    def fit(self, x: np.ndarray, y: np.ndarray) -> LightGBMRanker:
        params = {"objective": "binary", "num_leaves": self.num_leaves, "learning_rate": self.learning_rate,
                  "min_data_in_leaf": 40, "feature_fraction": 0.9, "bagging_fraction": 0.8,
                  "bagging_freq": 1, "seed": self.random_state, "verbose": -1, "num_threads": 1}
        self.booster_ = lgb.train(params, lgb.Dataset(x, y), num_boost_round=self.n_estimators)
        self.__dict__.pop("_inner", None)
        return self

    def score_matrix(self, x: np.ndarray) -> np.ndarray:
        inner: ReusablePredictor | None = self.__dict__.get("_inner")
        if inner is None:
            inner = self._inner = ReusablePredictor(self.booster_)
        return inner.predict(x, raw_score=True)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_inner", None)      # a C handle: rebuilt lazily after unpickling
        return state
