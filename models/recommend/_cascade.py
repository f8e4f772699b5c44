"""The cascade: recall → pre-rank → rank → top-k, its action chains and their replay."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from core.errors import InvalidArgument
from models.artifacts import load_artifact, save_artifact
from models.recommend._data import RatingData
from models.recommend._requests import Request, TimeSplit, build_requests, time_split
from models.recommend._stages import (
    FEATURE_NAMES,
    BaseSignals,
    EmbeddingRecall,
    ItemCFRecall,
    LightGBMRanker,
    LinearPreRanker,
    MLPPreRanker,
    PopularityRecall,
    RecallModel,
    RequestContext,
    Scorer,
    pair_features,
)

__all__ = ["Chain", "Cascade", "REWARDS", "train_cascade", "TOP_K", "reward_of"]

TOP_K = 10
REWARDS = ("hits", "ndcg")
_DISCOUNT = 1.0 / np.log2(np.arange(2, TOP_K + 2))


def reward_of(top: np.ndarray, targets: np.ndarray, reward: str = "hits") -> float:
    """A request's reward for a ranked top-k list: ``hits`` (how many of the items the user later
    rates 4+ it contains) or ``ndcg`` (binary-relevance NDCG@k, graded by position)."""
    rel = np.isin(top[:TOP_K], targets)
    if reward == "hits":
        return float(rel.sum())
    ideal = float(_DISCOUNT[: min(len(targets), TOP_K)].sum())
    return float((rel * _DISCOUNT[: len(rel)]).sum() / ideal) if ideal > 0 else 0.0
ARTIFACT_VERSION = 1


@dataclass(frozen=True, order=True)
class Chain:
    """One action chain: a model instance and a pass-on size per stage."""

    recall: str
    recall_k: int
    prerank: str
    prerank_k: int
    ranker: str

    @property
    def name(self) -> str:
        return f"{self.recall}@{self.recall_k}>{self.prerank}@{self.prerank_k}>{self.ranker}"

    @classmethod
    def parse(cls, name: str) -> Chain:
        try:
            r, p, k = name.split(">")
            rn, rk = r.split("@")
            pn, pk = p.split("@")
            return cls(rn, int(rk), pn, int(pk), k)
        except ValueError:
            raise InvalidArgument(f"malformed chain name {name!r}", field="chain") from None


class Cascade:
    """Trained stage instances plus the grid of pass-on sizes; ``chains`` enumerates every
    combination."""

    def __init__(self, base: BaseSignals, recalls: Sequence[RecallModel], preranks: Sequence[Scorer],
                 rankers: Sequence[Scorer], recall_sizes: Sequence[int] = (100, 200, 400),
                 prerank_sizes: Sequence[int] = (50, 100)) -> None:
        self.base = base
        self.recalls = {m.name: m for m in recalls}
        self.preranks = {m.name: m for m in preranks}
        self.rankers = {m.name: m for m in rankers}
        self.recall_sizes = tuple(sorted(recall_sizes))
        self.prerank_sizes = tuple(sorted(prerank_sizes))
        self.chains: list[Chain] = [
            Chain(r, rk, p, pk, k) for r, rk, p, pk, k in itertools.product(
                self.recalls, self.recall_sizes, self.preranks, self.prerank_sizes, self.rankers)]
        self.chain_index = {c.name: i for i, c in enumerate(self.chains)}

    def context(self, history: np.ndarray, ratings: np.ndarray) -> RequestContext:
        return RequestContext(self.base, history, ratings)

    def recommend(self, ctx: RequestContext, chain: Chain, k: int = TOP_K) -> tuple[np.ndarray, np.ndarray]:
        """Run one chain: returns (items, ranker scores), best first."""
        cands = self.recalls[chain.recall].recall(ctx, chain.recall_k)
        if len(cands) == 0:
            return cands, np.zeros(0, np.float32)
        if len(cands) > chain.prerank_k:
            ps = self.preranks[chain.prerank].score(ctx, cands)
            cands = cands[np.argpartition(-ps, chain.prerank_k - 1)[: chain.prerank_k]]
        rs = self.rankers[chain.ranker].score(ctx, cands)
        top = np.argsort(-rs, kind="stable")[:k]
        return cands[top], rs[top]

    def popular(self, k: int, exclude: Iterable[int] = ()) -> np.ndarray:
        """The popularity fallback (no model, no user)."""
        pop = self.recalls.get("popularity")
        order = pop.order if isinstance(pop, PopularityRecall) else np.argsort(-self.base.item_pop)
        ex = set(exclude)
        return np.asarray([i for i in order[: k + len(ex)] if i not in ex][:k], dtype=np.int64)

    def replay(self, requests: Sequence[Request], *, progress: bool = True, desc: str = "replaying chains",
               reward: str = "hits") -> np.ndarray:
        """The reward (see :func:`reward_of`) of every chain on every request: an (n_requests,
        n_chains) matrix (int for hits, float for NDCG). Shared work (a recall list is a prefix of
        the longest one, ranker scores do not depend on the chain) is done once per request."""
        if reward not in REWARDS:
            raise InvalidArgument(f"reward must be one of {', '.join(REWARDS)}, got {reward!r}", field="reward")
        with threadpool_limits(1):  # tiny matrices: BLAS threads only contend on a busy machine
            return self._replay(requests, progress, desc, reward == "ndcg", False)[0]

    def replay_expected(self, requests: Sequence[Request], *, progress: bool = True,
                        desc: str = "replaying chains") -> tuple[np.ndarray, np.ndarray]:
        """Where the truth is known (every request has ``relevance``): the realized hits and the
        *expected* hits (sum of the top-k items' like probabilities) of every chain, in one pass."""
        if any(q.relevance is None for q in requests):
            raise InvalidArgument("expected rewards need every request's relevance", field="requests")
        with threadpool_limits(1):
            hits, expected = self._replay(requests, progress, desc, False, True)
        assert expected is not None
        return hits, expected

    def _replay(self, requests: Sequence[Request], progress: bool, desc: str, ndcg: bool, expected: bool
                ) -> tuple[np.ndarray, np.ndarray | None]:
        out = np.zeros((len(requests), len(self.chains)), dtype=np.float32 if ndcg else np.int16)
        exp = np.zeros((len(requests), len(self.chains)), dtype=np.float64) if expected else None
        kmax = self.recall_sizes[-1]
        scratch = {name: np.zeros(self.base.n_items, np.float32) for name in self.rankers}
        tops = np.full((len(self.chains), TOP_K), self.base.n_items, dtype=np.int64)   # n_items: "no item"
        discount = np.r_[_DISCOUNT, 0.0]
        for qi, req in enumerate(tqdm(requests, desc=desc, disable=not progress, leave=False)):
            ctx = self.context(req.history, req.ratings)
            target = np.zeros(self.base.n_items + 1, dtype=bool)
            target[req.targets] = True
            survivors: dict[tuple[str, int, str, int], np.ndarray] = {}
            for rname, rmodel in self.recalls.items():
                full = rmodel.recall(ctx, kmax)
                for pname, pmodel in self.preranks.items():
                    ps = pmodel.score(ctx, full) if len(full) else np.zeros(0, np.float32)
                    for rk in self.recall_sizes:
                        sub, sps = full[:rk], ps[:rk]
                        for pk in self.prerank_sizes:
                            keep = sub if len(sub) <= pk else sub[np.argpartition(-sps, pk - 1)[:pk]]
                            survivors[(rname, rk, pname, pk)] = keep
            union = np.unique(np.concatenate(list(survivors.values())))
            for kname, kmodel in self.rankers.items():
                scratch[kname][union] = kmodel.score(ctx, union) if len(union) else 0
            tops[:] = self.base.n_items
            for ci, c in enumerate(self.chains):
                keep = survivors[(c.recall, c.recall_k, c.prerank, c.prerank_k)]
                s = scratch[c.ranker][keep]
                top = keep[np.argsort(-s, kind="stable")[:TOP_K]]   # ordered: NDCG depends on positions
                tops[ci, : len(top)] = top
            rel = target[tops]
            if ndcg:
                ideal = float(_DISCOUNT[: min(len(req.targets), TOP_K)].sum())
                out[qi] = (rel * discount[:TOP_K]).sum(axis=1) / max(ideal, 1e-12)
            else:
                out[qi] = rel.sum(axis=1)
            if exp is not None:
                prob = np.r_[np.asarray(req.relevance, dtype=np.float64), 0.0]
                prob[req.history] = 0.0          # seen items are never liked again (and never recommended)
                exp[qi] = prob[tops].sum(axis=1)
        return out, exp

    # -- persistence -------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        save_artifact(path, "cascade", self, ARTIFACT_VERSION)

    @staticmethod
    def load(path: Path) -> Cascade:
        return load_artifact(path, "cascade", Cascade, ARTIFACT_VERSION, "cascade artifact")


def _stage_training_pairs(base: BaseSignals, recalls: Sequence[RecallModel], requests: Sequence[Request],
                          per_recall: int, neg_rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for req in requests:
        ctx = RequestContext(base, req.history, req.ratings)
        cands = np.unique(np.concatenate([m.recall(ctx, per_recall) for m in recalls]))
        y = np.isin(cands, req.targets)
        keep = y | (rng.random(len(cands)) < neg_rate)
        if not keep.any():
            continue
        xs.append(pair_features(ctx, cands[keep], FEATURE_NAMES))
        ys.append(y[keep])
    if not xs:
        raise InvalidArgument("no stage-training requests in the data (too few users or ratings)",
                              field="--data")
    return np.concatenate(xs), np.concatenate(ys).astype(np.int32)


def train_cascade(data: RatingData, split: TimeSplit, *, max_requests_per_user: int = 6,
                  neg_rate: float = 0.3, seed: int = 0, progress: bool = True,
                  recall_sizes: Sequence[int] = (100, 200, 400), prerank_sizes: Sequence[int] = (50, 100),
                  large_trees: int = 200) -> Cascade:
    """Fit base signals on ratings before ``split.t_base`` and the pre-rankers/rankers on requests
    in [t_base, t_stage)."""
    base_ratings = time_split(data, split)
    if len(base_ratings) < 50:
        raise InvalidArgument("too few ratings before the base cut to train a recommender", field="--data")
    with threadpool_limits(1):
        return _train(data, split, max_requests_per_user, neg_rate, seed, progress, recall_sizes, prerank_sizes,
                      large_trees)


# The small ranker sees every feature but item-CF (whose user-side cost belongs to the item-CF recall)
# with a fraction of the large ranker's trees: good but several times cheaper per item, so which
# ranker a user gets is a real compute/quality trade-off rather than a cheap-but-poor fallback.
SMALL_RANKER_FEATURES = ("log_pop", "log_recent_pop", "item_mean", "emb16_dot", "emb64_dot", "genre_affinity",
                         "log_history", "user_mean")
SMALL_TREES = 50
SMALL_LEAVES = 15


def _train(data: RatingData, split: TimeSplit, max_requests_per_user: int, neg_rate: float, seed: int,
           progress: bool, recall_sizes: Sequence[int], prerank_sizes: Sequence[int], large_trees: int) -> Cascade:
    base_ratings = time_split(data, split)
    steps = tqdm(total=4, desc="training cascade", disable=not progress, leave=False)
    base = BaseSignals.fit(base_ratings, data.n_users, data.n_items, data.genres)
    steps.update()
    recalls: list[RecallModel] = [PopularityRecall(base), EmbeddingRecall(base, 16), EmbeddingRecall(base, 64),
                                  ItemCFRecall(base)]
    reqs = build_requests(data, split.t_base, split.t_stage, max_per_user=max_requests_per_user, seed=seed)
    x, y = _stage_training_pairs(base, recalls, reqs, per_recall=200, neg_rate=neg_rate, seed=seed)
    steps.update()
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}

    def fit(model: Scorer) -> Scorer:
        return model.fit(x[:, [col[n] for n in model.features]], y)

    preranks = [fit(LinearPreRanker()), fit(MLPPreRanker(random_state=seed))]
    steps.update()
    rankers = [
        # The cheapest ranking: a logistic regression, a dot product per item. It is what the
        # controller falls back to when over budget or overloaded, so its cost bounds the overshoot.
        fit(LinearPreRanker(("log_pop", "item_mean", "emb16_dot", "genre_affinity"), name="lr_rank")),
        fit(LightGBMRanker(SMALL_RANKER_FEATURES, n_estimators=SMALL_TREES, num_leaves=SMALL_LEAVES,
                           learning_rate=0.1, name="gbdt_small", random_state=seed)),
        fit(LightGBMRanker(FEATURE_NAMES, n_estimators=large_trees, num_leaves=31, name="gbdt_large",
                           random_state=seed)),
    ]
    steps.update()
    steps.close()
    return Cascade(base, recalls, preranks, rankers, recall_sizes, prerank_sizes)
