"""What the allocator knows about a request before serving it: the recommender's history-only
context features plus three *item-CF novelty* features — how much the item-CF neighbourhood of the
user's recent liked items still holds unseen. That is what a richer recall and a ranker with the
item-CF feature can add over the cheap chain: a user whose neighbourhood is exhausted (or never
formed) gains nothing from it, however niche their taste. The same function serves replays and
live traffic."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from models.recommend import CF_HISTORY, CONTEXT_FEATURES, POSITIVE, Cascade, Request, context_features

__all__ = ["ALLOCATION_CONTEXT", "allocation_context", "cf_novelty", "request_context"]

ALLOCATION_CONTEXT = CONTEXT_FEATURES + ("log_cf_unseen_per_liked", "cf_unseen_share", "log_cf_top10_unseen_per_liked")
_TOP = 10


def cf_novelty(sim: sp.csr_matrix, history: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """Item-CF similarity mass from the recent liked items (as the item-CF recall picks them) to
    unseen items: per liked item, its share of the whole neighbourhood mass, and the mass of the
    ``_TOP`` best unseen items per liked item (what the recall would surface)."""
    liked = history[ratings >= POSITIVE] if len(history) else history
    if len(liked) == 0:
        liked = history
    liked = np.asarray(liked[-CF_HISTORY:], dtype=np.int64)
    if len(liked) == 0:
        return np.zeros(3, dtype=np.float32)
    starts, ends = sim.indptr[liked], sim.indptr[liked + 1]
    lens = ends - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(3, dtype=np.float32)
    # Gather the liked rows' neighbours without building a sliced sparse matrix (≈ 10× cheaper).
    pos = np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens) + np.arange(total)
    cols, vals = sim.indices[pos], sim.data[pos].astype(np.float64)
    seen = np.zeros(sim.shape[1], dtype=bool)
    seen[history] = True
    fresh = ~seen[cols]
    mass = float(vals.sum())
    unseen = float(vals[fresh].sum())
    per_item = np.bincount(cols[fresh], weights=vals[fresh], minlength=sim.shape[1])
    top = float(np.partition(per_item, -_TOP)[-_TOP:].sum()) if len(per_item) > _TOP else float(per_item.sum())
    n = len(liked)
    return np.array([np.log1p(unseen / n), unseen / mass if mass > 0 else 0.0, np.log1p(top / n)], dtype=np.float32)


def allocation_context(cascade: Cascade, history: np.ndarray, ratings: np.ndarray, times: np.ndarray,
                       ts: int) -> np.ndarray:
    """One request's ``ALLOCATION_CONTEXT`` from its history alone."""
    base = cascade.base
    return np.concatenate([context_features(history, ratings, times, ts, base.item_pop, base.genres),
                           cf_novelty(base.sim, history, ratings)])


def request_context(cascade: Cascade, reqs: Sequence[Request]) -> np.ndarray:
    """``ALLOCATION_CONTEXT`` of every request, (n, features)."""
    if not reqs:
        return np.zeros((0, len(ALLOCATION_CONTEXT)), dtype=np.float32)
    return np.vstack([allocation_context(cascade, q.history, q.ratings, q.times, q.ts) for q in reqs])
