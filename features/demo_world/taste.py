"""A recommendation world whose truth is known: every user's probability of liking every item is
given by a generative model, so the *expected* reward of any top-k list (the sum of its items'
like probabilities) is exact, and returns to compute differ by design.

* **Mainstream users** like popular items: their relevance follows item popularity, so the cheapest
  chain (popularity recall, a linear ranker) already finds what they like.
* **Niche users** like the items of two small niches (of 8 items each; far more niches than a
  64-dimensional embedding can separate) plus a little of the mainstream. Their items are rare, so
  only item-CF recall finds them (siblings co-rated with what they liked), a pre-ranker keeping 100
  rather than 50 candidates keeps them (no catalog attribute names a niche, so cheap pre-rankers
  prefer popular candidates), and only the large ranker (the one with the item-CF feature)
  puts them on top: these users gain from every stage's extra compute.

The log (``ratings``) is sampled from the same model: each user rates items drawn in proportion to
their relevance, over their active period; it is what the cascade learns from. Evaluation requests
draw their future likes afresh: each unseen item is liked independently with its probability, so a
list's expected hits are the sum of its probabilities. Each user also carries a request ``value``
(the revenue at stake), independent of their taste.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TasteWorld", "generate_taste_world"]

DAY = 86_400
START_TS = 1_700_000_000


@dataclass(frozen=True)
class TasteWorld:
    items: pd.DataFrame        # item_id, title, genres (list of one str), niche (-1: mainstream), popularity
    users: pd.DataFrame        # user_id, kind ("mainstream" | "niche"), niche_a, niche_b, value
    ratings: pd.DataFrame      # user_id, item_id, rating, timestamp (the log the cascade learns from)
    relevance: np.ndarray      # (n_users, n_items) probability that the user likes the item

    def draw_likes(self, user: int, seen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Item positions the user likes in the future: each unseen item independently."""
        p = self.relevance[user].copy()
        p[seen] = 0.0
        return np.flatnonzero(rng.random(len(p)) < p)


def generate_taste_world(n_users: int = 1_500, *, n_niches: int = 120, niche_size: int = 8,
                         n_mainstream: int = 240, n_genres: int = 12, niche_share: float = 0.3,
                         ratings_per_user: float = 30.0, days: int = 180, seed: int = 0) -> TasteWorld:
    if not 0.0 <= niche_share <= 1.0:
        raise ValueError(f"niche_share must be in [0, 1], got {niche_share}")
    if n_users < 10 or n_niches < 2 or niche_size < 2 or n_mainstream < 20:
        raise ValueError("the taste world needs at least 10 users, 2 niches of 2 items and 20 mainstream items")
    rng = np.random.default_rng(seed)
    n_items = n_mainstream + n_niches * niche_size
    niche = np.r_[np.full(n_mainstream, -1), np.repeat(np.arange(n_niches), niche_size)]
    # Genres say nothing about niches (a niche is a taste no catalog attribute names), so a cheap
    # pre-ranker cannot tell a niche user's items from the rest of the candidates.
    genre = rng.integers(0, n_genres, n_items)
    # Mainstream popularity is Zipf-like; niche items are rare by construction.
    pop = np.zeros(n_items)
    ranks = np.empty(n_mainstream)
    ranks[rng.permutation(n_mainstream)] = np.arange(n_mainstream)
    pop[:n_mainstream] = (1.0 + ranks) ** -0.8
    pop[n_mainstream:] = 0.02 * rng.uniform(0.5, 1.5, n_items - n_mainstream)
    pop = pop / pop[:n_mainstream].max()

    kind = np.where(rng.random(n_users) < niche_share, "niche", "mainstream")
    niche_a = rng.integers(0, n_niches, n_users)
    niche_b = (niche_a + rng.integers(1, n_niches, n_users)) % n_niches
    is_niche = kind == "niche"
    relevance = np.empty((n_users, n_items), dtype=np.float32)
    main_rel = 0.22 * pop                                   # the most popular item: 0.22
    relevance[:] = np.where(niche < 0, main_rel, 0.002)[None, :]
    relevance[is_niche] = np.where(niche < 0, 0.25 * main_rel, 0.002)[None, :]
    for u in np.flatnonzero(is_niche):
        relevance[u, (niche == niche_a[u]) | (niche == niche_b[u])] = rng.uniform(0.25, 0.45, 2 * niche_size)
    value = np.round(rng.lognormal(0.0, 0.8, n_users), 4)

    user_ids = np.char.add("s", np.char.zfill(np.arange(n_users).astype(str), 6)).astype(object)
    item_ids = np.char.add("t", np.char.zfill(np.arange(n_items).astype(str), 5)).astype(object)
    rows_u, rows_i, rows_r, rows_t = [], [], [], []
    counts = np.clip(rng.poisson(ratings_per_user, n_users), 8, n_items // 4)
    for u in range(n_users):
        w = relevance[u] + 1e-4
        chosen = rng.choice(n_items, size=int(counts[u]), replace=False, p=w / w.sum())
        liked = rng.random(len(chosen)) < 0.85
        rating = np.where(liked, rng.choice([4.0, 5.0], len(chosen)), rng.choice([1.0, 2.0, 3.0], len(chosen)))
        start = START_TS + rng.integers(0, days * DAY // 2)
        rows_u.append(np.full(len(chosen), user_ids[u], dtype=object))
        rows_i.append(item_ids[chosen])
        rows_r.append(rating)
        rows_t.append(np.sort(start + rng.integers(0, days * DAY // 2, len(chosen))))
    ratings = pd.DataFrame({"user_id": np.concatenate(rows_u), "item_id": np.concatenate(rows_i),
                            "rating": np.concatenate(rows_r).astype(np.float32),
                            "timestamp": np.concatenate(rows_t).astype(np.int64)})
    items = pd.DataFrame({"item_id": item_ids, "title": [f"{'niche ' + str(n) if n >= 0 else 'mainstream'} item {i}"
                                                        for i, n in enumerate(niche)],
                          "genres": [[f"g{g}"] for g in genre], "niche": niche, "popularity": pop})
    users = pd.DataFrame({"user_id": user_ids, "kind": kind, "niche_a": np.where(is_niche, niche_a, -1),
                          "niche_b": np.where(is_niche, niche_b, -1), "value": value})
    return TasteWorld(items, users, ratings, relevance)
