"""Time split and replayable requests: a request is one user at one point in time; its truth is the
set of items that user rates 4 or more later on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from models.recommend._data import RatingData

__all__ = ["Request", "TimeSplit", "build_requests", "time_split", "context_features", "CONTEXT_FEATURES"]

POSITIVE = 4.0

CONTEXT_FEATURES = (
    "log_history", "mean_rating", "std_rating", "share_positive", "log_mean_item_pop",
    "genre_entropy", "log_hours_since_prev", "log_session_len", "log_days_active",
)


@dataclass(frozen=True)
class Request:
    user: int
    ts: int
    history: np.ndarray          # item codes, oldest first
    ratings: np.ndarray          # their ratings
    times: np.ndarray            # their timestamps
    targets: np.ndarray          # items rated >= 4 later (not in history)
    # Where the truth is known (a generative world): each item's probability of being liked, so the
    # expected reward of a list is the sum over its items; None for real logs.
    relevance: np.ndarray | None = None


@dataclass(frozen=True)
class TimeSplit:
    """Time cut points (seconds): base models learn from ratings before ``t_base``, stage rankers
    from requests in [t_base, t_stage), the reward estimator and offline λ from logged requests in
    [t_stage, t_replay), and the replay evaluates requests after ``t_replay``."""

    t_base: int
    t_stage: int
    t_replay: int

    @classmethod
    def by_quantiles(cls, data: RatingData, q: tuple[float, float, float] = (0.5, 0.65, 0.82)) -> TimeSplit:
        ts = data.ratings["ts"].to_numpy()
        a, b, c = (int(np.quantile(ts, x)) for x in q)
        if not a < b < c:
            raise InvalidArgument("ratings span too short a time to split", field="--data")
        return cls(a, b, c)


def time_split(data: RatingData, split: TimeSplit) -> pd.DataFrame:
    """Ratings the base models may learn from."""
    return data.ratings[data.ratings["ts"] < split.t_base]


def build_requests(data: RatingData, start: int, end: int, *, max_per_user: int = 8,
                   min_history: int = 5, seed: int = 0) -> list[Request]:
    """Requests at up to ``max_per_user`` evenly spaced rating events of each user in [start, end)."""
    out: list[Request] = []
    r = data.ratings
    for user, g in r.groupby("user", sort=True):
        items = g["item"].to_numpy()
        rates = g["rating"].to_numpy()
        times = g["ts"].to_numpy()
        idx = np.flatnonzero((times >= start) & (times < end) & (np.arange(len(g)) >= min_history))
        if len(idx) == 0:
            continue
        picks = idx[np.unique(np.linspace(0, len(idx) - 1, min(max_per_user, len(idx))).round().astype(int))]
        for p in picks:
            hist = items[:p]
            later = items[p:][rates[p:] >= POSITIVE]
            later = np.setdiff1d(later, hist)
            if len(later) == 0:
                continue
            out.append(Request(int(user), int(times[p]), hist, rates[:p], times[:p], later))
    out.sort(key=lambda q: (q.ts, q.user))
    return out


def context_features(history: np.ndarray, ratings: np.ndarray, times: np.ndarray, ts: int,
                     item_pop: np.ndarray, genres: np.ndarray) -> np.ndarray:
    """User/context features of one request (see ``CONTEXT_FEATURES``) from its history alone, so the
    same function serves replay and online traffic."""
    n = len(history)
    if n == 0:
        return np.array([0, 3.5, 0, 0.5, np.log1p(item_pop.mean()), 0, 8, 0, 0], dtype=np.float32)
    g = genres[history].sum(axis=0)
    p = g / max(g.sum(), 1e-9)
    entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    gap_h = max(ts - int(times[-1]), 0) / 3600.0
    session = int(np.sum(times >= ts - 3600))
    days = max(ts - int(times[0]), 0) / 86400.0
    return np.array([
        np.log1p(n), float(ratings.mean()), float(ratings.std()), float((ratings >= POSITIVE).mean()),
        float(np.log1p(item_pop[history]).mean()), entropy, np.log1p(gap_h), np.log1p(session), np.log1p(days),
    ], dtype=np.float32)
