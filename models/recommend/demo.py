"""The recommender ``make serve`` serves: a quick cascade trained on the demo world's items and
interactions (``features.demo_world``), cached under ``<data_dir>/models/recommend/``, with every demo
user's recent history written to the Redis cache and the item features to the feature store."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.settings import Settings
from features.catalog import Catalog
from features.store.histories import HistoryStore, history_key  # the key layout lives in features/store
from models.recommend._bundle import RecommenderBundle, encode_history, train_recommender
from models.recommend._data import RatingData, from_frames

__all__ = ["DEMO_USERS", "DemoRecommender", "build_demo_recommender", "bundle_path", "demo_ratings",
           "ensure_demo_recommender", "history_key", "write_histories"]

log = logging.getLogger(__name__)
DEMO_USERS = 1_000
ITEM_FEATURES = ("item_category", "item_price", "item_rating_count", "item_mean_rating")


@dataclass(frozen=True)
class DemoRecommender:
    bundle: RecommenderBundle
    data: RatingData
    path: Path
    trained: bool
    users_with_history: int
    seconds: float


def bundle_path(settings: Settings) -> Path:
    return settings.models_dir / "recommend" / "demo.pkl"


def write_histories(settings: Settings, ratings: pd.DataFrame, item_code: dict[str, int]) -> int:
    """Each user's interactions, packed, into the history store; return how many users were written."""
    from core.redis import connect

    r = ratings.sort_values(["user_id", "timestamp"], kind="stable")
    users = r["user_id"].astype(str).to_numpy()
    codes = r["item_id"].astype(str).map(item_code).to_numpy(np.int64)
    rates, times = r["rating"].to_numpy(np.float32), r["timestamp"].to_numpy(np.int64)
    bounds = np.flatnonzero(users[1:] != users[:-1]) + 1
    client = connect(settings)
    try:
        return HistoryStore(client, settings.namespace).write_many(
            (users[a], encode_history(codes[a:b], rates[a:b], times[a:b]))
            for a, b in zip(np.r_[0, bounds], np.r_[bounds, len(users)], strict=True))
    finally:
        client.close()


def demo_ratings(people: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, RatingData]:
    """(items, ratings, RatingData) of the demo world for ``people`` (deterministic)."""
    from features.demo_world import demo_recommendation_frames

    items, ratings = demo_recommendation_frames(people)
    return items, ratings, from_frames(ratings, items.assign(genres=[[c] for c in items["category"]]))


def build_demo_recommender(data: RatingData) -> RecommenderBundle:
    """A quick cascade: small large-ranker, few timed requests (seconds, not minutes)."""
    return train_recommender(data, large_trees=60, calibration_requests=10, stage_requests_per_user=2)


def ensure_demo_recommender(settings: Settings, catalog: Catalog, *, users: int = DEMO_USERS,
                            force: bool = False) -> DemoRecommender:
    """Train (unless cached) the demo cascade, load the histories into Redis and, when ``catalog``
    (the deployment's, from the service edge) has the item features, the items into the store."""
    from features.demo_world import demo_dir, demo_people
    from features.store import open_store

    t0 = time.perf_counter()
    path = bundle_path(settings)
    people = demo_people(demo_dir(settings) / "users.parquet", users)
    items, ratings, data = demo_ratings(people)
    trained = False
    bundle = None
    if path.exists() and not force:
        try:
            bundle = RecommenderBundle.load(path)
        except Exception as exc:  # a corrupt cache is rebuilt, never served
            log.warning("rebuilding the demo recommender: %s", exc)
    if bundle is None:
        bundle = build_demo_recommender(data)
        bundle.save(path)
        trained = True
    n = write_histories(settings, ratings, bundle.item_code)
    if "item" in catalog.entities and all(f in catalog.features for f in ITEM_FEATURES):
        stats = ratings.groupby("item_id")["rating"].agg(["count", "mean"])
        frame = pd.DataFrame({
            "item_id": items["item_id"], "item_category": items["category"], "item_price": items["price"],
            "item_rating_count": items["item_id"].map(stats["count"]).fillna(0).astype("int64"),
            "item_mean_rating": items["item_id"].map(stats["mean"]).fillna(3.0).clip(1, 5),
        })
        open_store(settings, catalog).write_frame("item", frame)
    else:
        log.info("the configured catalog has no item features %s: item features not cached", ITEM_FEATURES)
    return DemoRecommender(bundle, data, path, trained, n, time.perf_counter() - t0)
