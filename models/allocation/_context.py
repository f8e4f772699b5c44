"""What the allocator knows about a request before serving it: the recommender's history-only
context features plus six *item-CF novelty* features — how much the item-CF neighbourhood of the
user's recent liked items still holds that the user has not seen and the popular items do not
cover. That is what a richer recall and a ranker with the item-CF feature can add over the cheap
chain: a user whose neighbourhood is exhausted (or never formed, or is all popular items) gains
nothing from it, however unusual their taste. On top, the *item-CF score profile*: the score and
the popularity of the unseen candidates at fixed ranks of the item-CF recall (the signal the recall
itself computes at serving time), so the estimator sees how many strong candidates a richer chain
could put on top, not only their total mass. One extractor serves replays and live traffic."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.recommend import (
    CF_HISTORY,
    CONTEXT_FEATURES,
    POSITIVE,
    BaseSignals,
    Cascade,
    Request,
    context_features,
)

__all__ = ["ALLOCATION_CONTEXT", "NOVELTY_FEATURES", "PROFILE_FEATURES", "PROFILE_RANKS", "ContextExtractor", "request_context"]

NOVELTY_FEATURES = (
    "log_cf_unseen_per_liked",     # similarity mass to unseen items, per liked item
    "cf_unseen_share",             # ... as a share of the whole neighbourhood mass
    "log_cf_top10_per_liked",      # mass of the 10 best unseen candidates, per liked item
    "cf_top10_log_pop",            # how popular those 10 are (popular: the cheap chain has them too)
    "cf_share_beyond_popular",     # share of item-CF's 100 candidates outside the 100 most popular unseen
    "log_cf_strong_candidates",    # unseen items scoring at least half the best one
)
# Ranks (1-based) of the item-CF recall's unseen candidates at which the profile reads the score
# (per liked item: the scale of the large ranker's item-CF feature) and the log-popularity.
PROFILE_RANKS = (1, 2, 3, 5, 8, 10, 15, 20, 30)
PROFILE_FEATURES = (tuple(f"cf_score_at_{r}" for r in PROFILE_RANKS)
                    + tuple(f"cf_log_pop_at_{r}" for r in PROFILE_RANKS))
ALLOCATION_CONTEXT = CONTEXT_FEATURES + NOVELTY_FEATURES + PROFILE_FEATURES
_TOP, _CANDIDATES = 10, 100
_AT = np.asarray(PROFILE_RANKS) - 1


class ContextExtractor:
    """``ALLOCATION_CONTEXT`` of a request from its history alone, for one cascade (build once:
    it precomputes the popularity order)."""

    def __init__(self, base: BaseSignals) -> None:
        self.base = base
        self.sim = base.sim.tocsr()
        self.log_pop = np.log1p(base.item_pop).astype(np.float64)
        self.popular = np.lexsort((-base.item_pop, -base.recent_pop))    # the most popular first

    def __call__(self, history: np.ndarray, ratings: np.ndarray, times: np.ndarray, ts: int) -> np.ndarray:
        base = self.base
        return np.concatenate([context_features(history, ratings, times, ts, base.item_pop, base.genres),
                               self.item_cf(history, ratings)])

    def many(self, reqs: Sequence[Request]) -> np.ndarray:
        if not reqs:
            return np.zeros((0, len(ALLOCATION_CONTEXT)), dtype=np.float32)
        return np.vstack([self(q.history, q.ratings, q.times, q.ts) for q in reqs])

    def item_cf(self, history: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """``NOVELTY_FEATURES`` then ``PROFILE_FEATURES``: the recent liked items are picked as the
        item-CF recall picks them."""
        n_ranks = len(PROFILE_RANKS)
        mean_pop = float(self.log_pop.mean())
        empty = np.r_[0.0, 0.0, 0.0, mean_pop, 0.0, 0.0, np.zeros(n_ranks), np.full(n_ranks, mean_pop)]
        history = np.asarray(history, dtype=np.int64)
        liked = history[np.asarray(ratings) >= POSITIVE] if len(history) else history
        if len(liked) == 0:
            liked = history
        liked = liked[-CF_HISTORY:]
        if len(liked) == 0:
            return empty.astype(np.float32)
        sim = self.sim
        starts, lens = sim.indptr[liked], sim.indptr[liked + 1] - sim.indptr[liked]
        total = int(lens.sum())
        if total == 0:
            return empty.astype(np.float32)
        # Gather the liked rows' neighbours without slicing a sparse matrix (≈ 10× cheaper).
        pos = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
        cols, vals = sim.indices[pos], sim.data[pos].astype(np.float64)
        seen = np.zeros(sim.shape[1], dtype=bool)
        seen[history] = True
        fresh = ~seen[cols]
        mass, unseen = float(vals.sum()), float(vals[fresh].sum())
        score = np.bincount(cols[fresh], weights=vals[fresh], minlength=sim.shape[1])
        cand = np.flatnonzero(score > 0)
        if len(cand) > _CANDIDATES:
            cand = cand[np.argpartition(score[cand], -_CANDIDATES)[-_CANDIDATES:]]
        n = len(liked)
        out = empty.copy()
        out[0], out[1] = np.log1p(unseen / n), unseen / mass if mass > 0 else 0.0
        if len(cand) == 0:
            return out.astype(np.float32)
        ranked = cand[np.argsort(-score[cand], kind="stable")]
        top = ranked[:_TOP]
        # The most popular unseen items: at most len(history) of the first ones are seen, so those
        # first ones hold them all (a mask over every item per request is what made this slow).
        head = self.popular[: _CANDIDATES + len(history)]
        in_popular = np.zeros(sim.shape[1], dtype=bool)
        in_popular[head[~seen[head]][:_CANDIDATES]] = True
        best = float(score[top[0]])
        out[2:6] = (np.log1p(float(score[top].sum()) / n), float(self.log_pop[top].mean()),
                    1.0 - float(in_popular[cand].mean()), np.log1p(float((score[cand] >= 0.5 * best).sum())))
        at = _AT[: int(np.searchsorted(_AT, len(ranked)))]   # the ranks that have a candidate
        out[6 : 6 + len(at)] = score[ranked[at]] / n
        out[6 + n_ranks : 6 + n_ranks + len(at)] = self.log_pop[ranked[at]]
        return out.astype(np.float32)


def request_context(cascade: Cascade, reqs: Sequence[Request]) -> np.ndarray:
    """``ALLOCATION_CONTEXT`` of every request, (n, features)."""
    return ContextExtractor(cascade.base).many(reqs)
