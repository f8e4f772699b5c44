"""A small MovieLens-100K cascade shared by the recommender and allocation tests (one per session)."""

from __future__ import annotations

import pytest

from core.paths import movielens_100k_dir
from models.recommend import Cascade, RatingData, TimeSplit, build_requests, load_ratings, train_cascade


@pytest.fixture(scope="session")
def ml_small() -> RatingData:
    """300 random users of ml-100k (all their ratings)."""
    return load_ratings(movielens_100k_dir(), "recbole").subsample_users(300, seed=1)


@pytest.fixture(scope="session")
def ml_split(ml_small: RatingData) -> TimeSplit:
    return TimeSplit.by_quantiles(ml_small)


@pytest.fixture(scope="session")
def ml_cascade(ml_small: RatingData, ml_split: TimeSplit) -> Cascade:
    return train_cascade(ml_small, ml_split, max_requests_per_user=3, large_trees=40, progress=False)


@pytest.fixture(scope="session")
def ml_requests(ml_small: RatingData, ml_split: TimeSplit) -> list:
    return build_requests(ml_small, ml_split.t_stage, 2**62, max_per_user=3)
