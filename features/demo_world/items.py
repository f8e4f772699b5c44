"""Demo item catalog and rating interactions for the synthetic users, so the cascade recommender
has something real to learn and serve out of the box.

Items belong to one of the catalog's categories with a latent quality; each user rates items mostly
from their favourite and recently purchased categories, biased toward good and popular items, over
60 days — the same shape as MovieLens (user, item, rating 1–5, timestamp).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.catalog import Catalog

__all__ = ["demo_people", "demo_recommendation_frames", "generate_interactions", "generate_items"]

DEMO_ITEMS = 300
DEMO_RATINGS_PER_USER = 20.0
DAY = 86_400
START_TS = 1_700_000_000


def generate_items(catalog: Catalog, n: int = 600, seed: int = 0) -> pd.DataFrame:
    """``item_id``, ``title``, ``category``, ``price`` and a latent ``quality`` in [0, 1]."""
    if n <= 0:
        raise ValueError("n must be positive")
    rng = np.random.default_rng(seed)
    cats = np.asarray(catalog.features["favorite_category"].values or (), dtype=object)
    category = cats[rng.integers(0, len(cats), n)]
    quality = rng.beta(2.0, 2.0, n)
    price = np.round(np.exp(rng.normal(4.0, 0.9, n)), 2)
    ids = np.char.add("i", np.char.zfill(np.arange(n).astype(str), 5)).astype(object)
    titles = [f"{c} item {i}" for c, i in zip(category, range(n), strict=True)]
    return pd.DataFrame({"item_id": ids, "title": titles, "category": category, "price": price,
                         "quality": np.round(quality, 4)})


def generate_interactions(users: pd.DataFrame, items: pd.DataFrame, *, mean_per_user: float = 25.0,
                          days: int = 60, seed: int = 0) -> pd.DataFrame:
    """Ratings (``user_id``, ``item_id``, ``rating`` 1–5, ``timestamp`` seconds): activity follows the
    users' sessions, taste follows their favourite and purchased categories."""
    rng = np.random.default_rng(seed)
    cat_codes = {c: i for i, c in enumerate(sorted(set(items["category"])))}
    item_cat = items["category"].map(cat_codes).to_numpy()
    quality = items["quality"].to_numpy()
    popularity = np.exp(1.5 * quality + rng.normal(0, 0.7, len(items)))
    activity = np.clip(users.get("sessions_7d", pd.Series(np.ones(len(users)))).to_numpy(float), 0, 60)
    counts = np.minimum(rng.poisson(mean_per_user * (0.3 + activity / (activity.mean() + 1e-9))), len(items))
    rows_u, rows_i, rows_r, rows_t = [], [], [], []
    for u, (uid, n) in enumerate(zip(users["user_id"], counts, strict=True)):
        if n < 2:
            continue
        fav = users["favorite_category"].iat[u] if "favorite_category" in users else None
        bought = users["purchased_categories_90d"].iat[u] if "purchased_categories_90d" in users else []
        taste = np.full(len(cat_codes), 1.0)
        for c in list(bought) if bought is not None else []:
            if c in cat_codes:
                taste[cat_codes[c]] += 2.0
        if fav in cat_codes:
            taste[cat_codes[fav]] += 6.0
        weight = taste[item_cat] * popularity
        chosen = rng.choice(len(items), size=int(n), replace=False, p=weight / weight.sum())
        affinity = taste[item_cat[chosen]] / taste.max()
        score = 1.2 + 2.2 * quality[chosen] + 1.4 * affinity + rng.normal(0, 0.7, len(chosen))
        start = START_TS + rng.integers(0, days * DAY // 2)
        ts = np.sort(start + rng.integers(0, days * DAY // 2, len(chosen)))
        rows_u.append(np.full(len(chosen), uid, dtype=object))
        rows_i.append(items["item_id"].to_numpy()[chosen])
        rows_r.append(np.clip(np.round(score), 1, 5))
        rows_t.append(ts)
    return pd.DataFrame({"user_id": np.concatenate(rows_u), "item_id": np.concatenate(rows_i),
                         "rating": np.concatenate(rows_r).astype(np.float32),
                         "timestamp": np.concatenate(rows_t).astype(np.int64)})


def demo_recommendation_frames(people: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(items, ratings) of the demo world's recommendation data for ``people`` (deterministic): the
    300-item catalog over the demo catalog's categories and ~20 ratings per user."""
    from features.catalog import demo_catalog  # the demo world's own catalog, by definition

    items = generate_items(demo_catalog(), n=DEMO_ITEMS, seed=0)
    return items, generate_interactions(people, items, mean_per_user=DEMO_RATINGS_PER_USER, seed=0)


def demo_people(snapshot: Path, n: int) -> pd.DataFrame:
    """The first ``n`` users of the seeded population (``snapshot``, written by ``mds seed``), or the
    same deterministic users generated afresh when it has not been seeded."""
    from features.catalog import demo_catalog
    from features.demo_world.users import generate_users

    if snapshot.exists():
        return pd.read_parquet(snapshot).head(n)
    return generate_users(demo_catalog(), n, 0)[0]
