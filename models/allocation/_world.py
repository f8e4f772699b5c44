"""Replayable requests of the taste world (``features.demo_world.taste``): the generative model's
relevance rides on every request, so each chain's *expected* reward is exact."""

from __future__ import annotations

import numpy as np

from features.demo_world.taste import TasteWorld, generate_taste_world
from models.recommend import RatingData, Request, from_frames

__all__ = ["taste_data", "taste_requests"]


def taste_data(n_users: int = 1_500, seed: int = 0, niche_share: float = 0.3, n_niches: int = 120
               ) -> tuple[TasteWorld, RatingData]:
    """The world and its log as rating data. Item-CF needs each niche co-rated by several users:
    keep ``n_users × niche_share × 2 / n_niches`` well above 1 (the default: 6 at 1,200 users)."""
    world = generate_taste_world(n_users, seed=seed, niche_share=niche_share, n_niches=n_niches)
    return world, from_frames(world.ratings, world.items[["item_id", "title", "genres"]])


def taste_requests(world: TasteWorld, data: RatingData, start: int, end: int, *, max_per_user: int = 3,
                   min_history: int = 5, seed: int = 0) -> list[Request]:
    """Requests at up to ``max_per_user`` evenly spaced rating events of each user in [start, end);
    the future likes are drawn afresh from the user's relevance (each unseen item independently)."""
    rng = np.random.default_rng(seed)
    world_item = {v: i for i, v in enumerate(world.items["item_id"])}
    world_user = {v: i for i, v in enumerate(world.users["user_id"])}
    to_code = np.empty(len(world_item), dtype=np.int64)      # world item position → data item code
    for code, iid in enumerate(data.item_ids):
        to_code[world_item[str(iid)]] = code
    out: list[Request] = []
    for user, g in data.ratings.groupby("user", sort=True):
        u = world_user[str(data.user_ids[user])]
        items, rates, times = g["item"].to_numpy(), g["rating"].to_numpy(), g["ts"].to_numpy()
        idx = np.flatnonzero((times >= start) & (times < end) & (np.arange(len(g)) >= min_history))
        if len(idx) == 0:
            continue
        relevance = np.zeros(data.n_items, dtype=np.float32)
        relevance[to_code] = world.relevance[u]
        picks = idx[np.unique(np.linspace(0, len(idx) - 1, min(max_per_user, len(idx))).round().astype(int))]
        for p in picks:
            hist = items[:p]
            p_unseen = relevance.copy()
            p_unseen[hist] = 0.0
            likes = np.flatnonzero(rng.random(len(p_unseen)) < p_unseen)
            out.append(Request(int(user), int(times[p]), hist, rates[:p], times[:p], likes, relevance))
    out.sort(key=lambda q: (q.ts, q.user))
    return out
