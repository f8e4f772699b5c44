"""The recommender ``make serve`` serves: a quick cascade trained on the demo world's items and
interactions, cached under ``<data_dir>/models/recommend/``, with every demo user's recent history
written to the Redis cache."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.settings import Settings
from features.store.histories import history_key  # the key layout lives with the other Redis layouts
from models.recommend._data import RatingData

if TYPE_CHECKING:
    from models.allocation._bundle import RecommenderBundle

__all__ = ["DemoRecommender", "build_demo_bundle", "bundle_path", "demo_ratings", "ensure_demo_recommender",
           "history_key", "write_histories"]

log = logging.getLogger(__name__)
DEMO_USERS = 1_000


@dataclass(frozen=True)
class DemoRecommender:
    path: Path
    trained: bool
    users_with_history: int
    seconds: float


def bundle_path(settings: Settings) -> Path:
    return settings.models_dir / "recommend" / "demo.pkl"


def write_histories(settings: Settings, ratings: pd.DataFrame, item_code: dict[str, int]) -> int:
    """Each user's most recent interactions → ``<ns>:recommend:history:<user_id>`` (packed bytes)."""
    from core.redis import connect
    from models.allocation._bundle import encode_history

    client = connect(settings)
    n = 0
    pipe = client.pipeline(transaction=False)
    r = ratings.sort_values(["user_id", "timestamp"], kind="stable")
    users = r["user_id"].astype(str).to_numpy()
    codes = r["item_id"].astype(str).map(item_code).to_numpy(np.int64)
    rates, times = r["rating"].to_numpy(np.float32), r["timestamp"].to_numpy(np.int64)
    bounds = np.flatnonzero(users[1:] != users[:-1]) + 1
    for a, b in zip(np.r_[0, bounds], np.r_[bounds, len(users)], strict=True):
        pipe.set(history_key(settings.namespace, users[a]), encode_history(codes[a:b], rates[a:b], times[a:b]))
        n += 1
        if n % 500 == 0:
            pipe.execute()
    pipe.execute()
    client.close()
    return n


def demo_ratings(people: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, RatingData]:
    """(items, ratings, RatingData) of the demo world for ``people`` (deterministic)."""
    from features.catalog import demo_catalog
    from features.demo_world import generate_interactions, generate_items
    from models.recommend._data import from_frames

    items = generate_items(demo_catalog(), n=300, seed=0)
    ratings = generate_interactions(people, items, mean_per_user=20.0, seed=0)
    return items, ratings, from_frames(ratings, items.assign(genres=[[c] for c in items["category"]]))


def build_demo_bundle(data: RatingData) -> RecommenderBundle:
    """A quick bundle: small large-ranker, few logged requests (seconds, not minutes)."""
    from models.allocation._bundle import build_bundle

    return build_bundle(data, max_logged=150, large_trees=60, calibration_requests=10, stage_requests_per_user=2)


def ensure_demo_recommender(settings: Settings, *, users: int = DEMO_USERS, force: bool = False) -> DemoRecommender:
    """Train (unless cached) the demo cascade and load the histories and item features into Redis."""
    from features.catalog import demo_catalog
    from features.demo_world import demo_dir, generate_users
    from features.store import open_store
    from models.allocation._bundle import RecommenderBundle

    t0 = time.perf_counter()
    path = bundle_path(settings)
    catalog = demo_catalog()
    snapshot = demo_dir(settings) / "users.parquet"
    people = pd.read_parquet(snapshot).head(users) if snapshot.exists() else generate_users(catalog, users, 0)[0]
    items, ratings, data = demo_ratings(people)
    trained = False
    bundle = None
    if path.exists() and not force:
        try:
            bundle = RecommenderBundle.load(path)
        except Exception as exc:  # a corrupt cache is rebuilt, never served
            log.warning("rebuilding the demo recommender: %s", exc)
    if bundle is None:
        bundle = build_demo_bundle(data)
        bundle.save(path)
        trained = True
    n = write_histories(settings, ratings, bundle.item_code)
    stats = ratings.groupby("item_id")["rating"].agg(["count", "mean"])
    frame = pd.DataFrame({
        "item_id": items["item_id"], "item_category": items["category"], "item_price": items["price"],
        "item_rating_count": items["item_id"].map(stats["count"]).fillna(0).astype("int64"),
        "item_mean_rating": items["item_id"].map(stats["mean"]).fillna(3.0).clip(1, 5),
    })
    open_store(settings, catalog).write_frame("item", frame)
    return DemoRecommender(path, trained, n, time.perf_counter() - t0)
