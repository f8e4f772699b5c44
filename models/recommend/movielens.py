"""MovieLens 100K as a real recommender deployment: the cascade trained on the real ratings, titles
from ``ml-100k.item``, and every user's history packed for the Redis history cache.

The ratings were logged in 1997-98 while the service answers requests now, and the request context
(hours since the last rating, ratings in the last hour, days of history) is measured against the
request's time. So the log is moved in time as a whole, to end at the moment of training: gaps and
order stay exactly as recorded, and a request served right after training sees each user's history
as fresh as it was when the log closed.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from core.paths import movielens_100k_dir
from models.recommend._bundle import RecommenderBundle, train_recommender
from models.recommend._data import RatingData, load_recbole

__all__ = ["DATASETS", "USER_FEATURES", "history_frame", "load_movielens", "movielens_users", "shift_to",
           "train_movielens"]

# Dataset name -> where its RecBole atomic files live (``core.paths``: ../shared/data, read in place).
DATASETS = {"ml-100k": movielens_100k_dir}
USER_FEATURES = ("age", "gender", "occupation")  # the user file's columns a catalog may carry (zip codes are not)


def shift_to(data: RatingData, end: int) -> RatingData:
    """``data`` with every timestamp moved by the same amount so that the last one is ``end``."""
    ts = data.ratings["ts"].to_numpy(np.int64)
    return dataclasses.replace(data, ratings=data.ratings.assign(ts=ts + (int(end) - int(ts.max()))))


def load_movielens(dataset: str = "ml-100k", *, path: Path | None = None, end: int | None = None,
                   users: int | None = None, seed: int = 0) -> RatingData:
    """The ratings of ``dataset`` (titles and genres from its item file), ending at ``end`` (default:
    now); ``users``: keep that many random users only (a slice for tests)."""
    if dataset not in DATASETS:
        raise InvalidArgument(f"--dataset {dataset!r} is not known; choose from {', '.join(DATASETS)}", field="--dataset")
    source = path or DATASETS[dataset]()
    data = load_recbole(source)
    if not data.item_titles.any() or not all(data.item_titles):
        raise InvalidArgument(f"{source} has no item file with a title for every film", field="--data")
    if users is not None:
        if users < 10:
            raise InvalidArgument(f"--users must be at least 10, got {users}", field="--users")
        data = data.subsample_users(users, seed=seed)
    return shift_to(data, int(time.time()) if end is None else end)


def movielens_users(dataset: str = "ml-100k", *, path: Path | None = None,
                    user_ids: np.ndarray | None = None) -> pd.DataFrame:
    """``user_id`` and :data:`USER_FEATURES` from the dataset's user file (only ``user_ids`` when given)."""
    source = path or DATASETS[dataset]()
    files = sorted(Path(source).glob("*.user"))
    if not files:
        raise InvalidArgument(f"no *.user file in {source}", field="--data")
    users = pd.read_csv(files[0], sep="\t", dtype=str)
    users.columns = [c.split(":")[0] for c in users.columns]
    missing = [c for c in ("user_id", *USER_FEATURES) if c not in users.columns]
    if missing:
        raise InvalidArgument(f"{files[0]} lacks column(s) {missing}", field="--data")
    users = users[["user_id", *USER_FEATURES]].assign(age=pd.to_numeric(users["age"], errors="raise").astype("int64"))
    return users if user_ids is None else users[users["user_id"].isin({str(u) for u in user_ids})]


def history_frame(data: RatingData) -> pd.DataFrame:
    """Every rating as ``user_id, item_id, rating, timestamp`` in the source ids (the history cache's input)."""
    r = data.ratings
    return pd.DataFrame({
        "user_id": data.user_ids[r["user"].to_numpy()].astype(str),
        "item_id": data.item_ids[r["item"].to_numpy()].astype(str),
        "rating": r["rating"].to_numpy(np.float32),
        "timestamp": r["ts"].to_numpy(np.int64),
    })


def train_movielens(data: RatingData, *, large_trees: int = 120, calibration_requests: int = 20,
                    stage_requests_per_user: int = 4, seed: int = 0, progress: bool = False) -> RecommenderBundle:
    """The cascade on every rating of ``data``, its stage costs measured on this machine."""
    return train_recommender(data, large_trees=large_trees, calibration_requests=calibration_requests,
                             stage_requests_per_user=stage_requests_per_user, seed=seed, progress=progress)
