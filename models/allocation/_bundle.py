"""Everything a recommender replica needs, in one artifact: the trained cascade, its measured costs,
the reward estimator over the efficient chains, and the offline λ for a default budget."""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ArtifactError
from models.allocation._estimator import RewardEstimator
from models.allocation._pipeline import chain_features, efficient_chains, expand, request_context
from models.allocation._solver import LambdaMix, solve_mix
from models.recommend import (
    Cascade,
    CostCalibration,
    RatingData,
    TimeSplit,
    build_requests,
    calibrate,
    context_features,
    train_cascade,
)

__all__ = ["RecommenderBundle", "build_bundle", "encode_history", "decode_history", "HISTORY_LIMIT"]

BUNDLE_VERSION = 1
HISTORY_LIMIT = 200
_ROW = struct.Struct("<ifq")  # item code, rating, timestamp


def encode_history(items: np.ndarray, ratings: np.ndarray, times: np.ndarray) -> bytes:
    """A user's most recent interactions as packed bytes (the Redis value)."""
    items, ratings, times = items[-HISTORY_LIMIT:], ratings[-HISTORY_LIMIT:], times[-HISTORY_LIMIT:]
    rec = np.empty(len(items), dtype=[("i", "<i4"), ("r", "<f4"), ("t", "<i8")])
    rec["i"], rec["r"], rec["t"] = items, ratings, times
    return rec.tobytes()


def decode_history(blob: bytes | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not blob:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64)
    if len(blob) % _ROW.size:
        raise ArtifactError("a cached interaction history is corrupt (wrong length)")
    rec = np.frombuffer(blob, dtype=[("i", "<i4"), ("r", "<f4"), ("t", "<i8")])
    return rec["i"].astype(np.int64), rec["r"].astype(np.float32), rec["t"].astype(np.int64)


@dataclass
class RecommenderBundle:
    cascade: Cascade
    calibration: CostCalibration
    costs: np.ndarray
    estimator: RewardEstimator
    frontier: np.ndarray
    default_fraction: float
    default_mix: LambdaMix
    item_ids: np.ndarray
    item_titles: np.ndarray
    requests_per_window: float

    @property
    def item_code(self) -> dict[str, int]:
        if not hasattr(self, "_item_code"):
            self._item_code = {str(v): i for i, v in enumerate(self.item_ids)}
        return self._item_code

    @property
    def full_cost(self) -> float:
        return float(self.costs.max())

    def predict(self, items: np.ndarray, ratings: np.ndarray, times: np.ndarray, now: int) -> np.ndarray:
        """Predicted reward of every chain (−inf off the frontier) for one request."""
        ctx = context_features(items, ratings, times, now, self.cascade.base.item_pop, self.cascade.base.genres)
        return expand(self.estimator.predict(ctx[None, :]), self.frontier, len(self.cascade.chains))[0]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump({"version": BUNDLE_VERSION, "bundle": self}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        self.calibration.save(path.with_name(path.stem + ".calibration.json"))

    @staticmethod
    def load(path: Path) -> RecommenderBundle:
        try:
            with path.open("rb") as fh:
                blob = pickle.load(fh)
            if not isinstance(blob, dict) or blob.get("version") != BUNDLE_VERSION:
                raise ArtifactError(f"{path} is not a version-{BUNDLE_VERSION} recommender bundle")
            return blob["bundle"]  # type: ignore[no-any-return]
        except (ArtifactError, FileNotFoundError):
            raise
        except Exception as exc:  # unpickling garbage raises anything
            raise ArtifactError(f"cannot load recommender bundle {path}: {exc}") from exc


def build_bundle(data: RatingData, *, split: TimeSplit | None = None, default_fraction: float = 0.5,
                 max_logged: int = 400, large_trees: int = 120, calibration_requests: int = 20,
                 requests_per_window: float = 600.0, stage_requests_per_user: int = 6, seed: int = 0,
                 progress: bool = False) -> RecommenderBundle:
    split = split or TimeSplit.by_quantiles(data)
    cascade = train_cascade(data, split, seed=seed, progress=progress, large_trees=large_trees,
                            max_requests_per_user=stage_requests_per_user)
    logged = build_requests(data, split.t_stage, np.iinfo(np.int64).max, max_per_user=3)
    if not logged:
        raise ArtifactError("no logged requests to fit the reward estimator on")
    rng = np.random.default_rng(seed)
    if len(logged) > max_logged:
        logged = [logged[i] for i in sorted(rng.choice(len(logged), max_logged, replace=False))]
    calibration = calibrate(cascade, logged, n_requests=calibration_requests, progress=progress)
    costs = calibration.chain_costs(cascade.chains)
    true = cascade.replay(logged, progress=progress)
    frontier = efficient_chains(true.mean(axis=0), costs)
    ctx = request_context(cascade, logged)
    est = RewardEstimator(random_state=seed).fit(ctx, chain_features(cascade, calibration)[frontier], true[:, frontier])
    pred = expand(est.predict(ctx), frontier, len(cascade.chains))
    mix = solve_mix(pred, costs, default_fraction * float(costs.max()))
    return RecommenderBundle(cascade, calibration, costs, est, frontier, default_fraction, mix, data.item_ids,
                             data.item_titles, requests_per_window)
