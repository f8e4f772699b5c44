"""Fast single-request LightGBM prediction shared by the models that serve one request at a time."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

__all__ = ["ReusablePredictor"]


class ReusablePredictor:
    """Predicts with one long-lived LightGBM predictor, single-threaded.

    ``Booster.predict`` builds a new C++ predictor on every call (50–100 µs of fixed cost), which
    dominates one-request-at-a-time serving; this builds it once. It falls back to the public API
    if LightGBM's internals move. Not picklable (it holds a C handle): owners drop it in
    ``__getstate__`` and rebuild it lazily.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self._booster = booster
        self._inner: Any = None
        try:
            from lightgbm.basic import _InnerPredictor

            self._inner = _InnerPredictor.from_booster(booster, {"num_threads": 1})
        except (ImportError, AttributeError, TypeError):
            self._inner = None

    def predict(self, x: np.ndarray, *, raw_score: bool = False) -> np.ndarray:
        if self._inner is None:
            return np.asarray(self._booster.predict(x, raw_score=raw_score, num_threads=1))
        return np.asarray(self._inner.predict(x, raw_score=raw_score))
