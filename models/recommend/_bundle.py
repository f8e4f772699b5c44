"""The trained recommender a replica serves, in one artifact: the cascade, its measured costs and the
item ids and titles; plus the packed interaction-history codec of the Redis cache. Which chain each
request gets is the allocation layer's business (``models.allocation.AllocationPolicy``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ArtifactError
from models.artifacts import load_artifact, save_artifact
from models.recommend._calibration import CostCalibration, calibrate
from models.recommend._cascade import Cascade, train_cascade
from models.recommend._data import RatingData
from models.recommend._requests import TimeSplit, build_requests, context_features

__all__ = ["HISTORY_LIMIT", "RecommenderBundle", "decode_history", "encode_history", "train_recommender"]

BUNDLE_VERSION = 2
HISTORY_LIMIT = 200
_RECORD = np.dtype([("i", "<i4"), ("r", "<f4"), ("t", "<i8")])  # item code, rating, timestamp


def encode_history(items: np.ndarray, ratings: np.ndarray, times: np.ndarray) -> bytes:
    """A user's most recent interactions as packed bytes (the Redis value)."""
    items, ratings, times = items[-HISTORY_LIMIT:], ratings[-HISTORY_LIMIT:], times[-HISTORY_LIMIT:]
    rec = np.empty(len(items), dtype=_RECORD)
    rec["i"], rec["r"], rec["t"] = items, ratings, times
    return rec.tobytes()


def decode_history(blob: bytes | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not blob:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64)
    if len(blob) % _RECORD.itemsize:
        raise ArtifactError("a cached interaction history is corrupt (wrong length)")
    rec = np.frombuffer(blob, dtype=_RECORD)
    return rec["i"].astype(np.int64), rec["r"].astype(np.float32), rec["t"].astype(np.int64)


@dataclass
class RecommenderBundle:
    cascade: Cascade
    calibration: CostCalibration
    costs: np.ndarray          # measured cost (µs) of every chain, in ``cascade.chains`` order
    item_ids: np.ndarray
    item_titles: np.ndarray
    split: TimeSplit           # the time cuts it was trained with (the policy learns after ``t_stage``)

    @property
    def item_code(self) -> dict[str, int]:
        if not hasattr(self, "_item_code"):
            self._item_code = {str(v): i for i, v in enumerate(self.item_ids)}
        return self._item_code

    @property
    def full_cost(self) -> float:
        return float(self.costs.max())

    def context(self, items: np.ndarray, ratings: np.ndarray, times: np.ndarray, now: int) -> np.ndarray:
        """The request's context features (``CONTEXT_FEATURES``) from its history alone."""
        return context_features(items, ratings, times, now, self.cascade.base.item_pop, self.cascade.base.genres)

    def save(self, path: Path) -> None:
        save_artifact(path, "bundle", self, BUNDLE_VERSION)
        self.calibration.save(path.with_name(path.stem + ".calibration.json"))

    @staticmethod
    def load(path: Path) -> RecommenderBundle:
        return load_artifact(path, "bundle", RecommenderBundle, BUNDLE_VERSION, "recommender bundle")


def train_recommender(data: RatingData, *, split: TimeSplit | None = None, large_trees: int = 120,
                      calibration_requests: int = 20, stage_requests_per_user: int = 6, seed: int = 0,
                      progress: bool = False) -> RecommenderBundle:
    """Train the cascade on ``data`` and measure its costs on requests after the stage cut."""
    split = split or TimeSplit.by_quantiles(data)
    cascade = train_cascade(data, split, seed=seed, progress=progress, large_trees=large_trees,
                            max_requests_per_user=stage_requests_per_user)
    timed = build_requests(data, split.t_stage, np.iinfo(np.int64).max, max_per_user=1)
    if not timed:
        raise ArtifactError("no requests after the stage cut to measure the cascade's costs on")
    calibration = calibrate(cascade, timed, n_requests=calibration_requests, progress=progress)
    return RecommenderBundle(cascade, calibration, calibration.chain_costs(cascade.chains), data.item_ids,
                             data.item_titles, split)
