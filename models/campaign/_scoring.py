"""Score an eligible audience from the feature cache with a registered uplift model, in bulk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidArgument
from features.catalog import Catalog, DType
from features.store import RedisOnlineStore
from models.registry import LoadedModel
from models.uplift.scoring import compile_cache_encoder

__all__ = ["ScoredAudience", "score_audience"]

@dataclass(frozen=True)
class ScoredAudience:
    user_ids: np.ndarray  # users with cached features, in audience order
    uplift: np.ndarray
    costs: np.ndarray | None  # from the cost feature, when one was named
    unscored: list[str]  # eligible users without cached features (or without a cost)


def check_cost_feature(name: str, catalog: Catalog) -> str:
    feature = catalog.features.get(name)
    if feature is None or feature.dtype not in (DType.INT, DType.FLOAT):
        numeric = sorted(f.name for f in catalog.features.values() if f.dtype in (DType.INT, DType.FLOAT))
        raise InvalidArgument(f"cost_feature {name!r} is not a numeric catalog feature; numeric features: "
                              f"{', '.join(numeric[:12])}...", field="cost_feature")
    return name


def score_audience(store: RedisOnlineStore, loaded: LoadedModel, catalog: Catalog, user_ids: Sequence[str],
                   cost_feature: str | None = None,
                   fast_predict: Callable[[np.ndarray], np.ndarray] | None = None) -> ScoredAudience:
    """Uplift of every user in ``user_ids`` with cached features (``fast_predict``: a compiled form of the
    model's estimator, e.g. :func:`compile_uplift_predictor`, used on the encoded matrix when given)."""
    entity = loaded.manifest.entity(catalog)
    features = list(loaded.manifest.features)
    wanted = features + ([cost_feature] if cost_feature and cost_feature not in features else [])
    encoder = compile_cache_encoder(loaded.model, catalog)
    keys: list[str] = []
    parts: list[np.ndarray] = []
    costs: list[np.ndarray] = []
    unscored: list[str] = []
    predict_frames = []
    chunk = store.max_batch  # CampaignStores reads BULK_READ_BATCH keys per MGET
    for start in range(0, len(user_ids), chunk):
        batch = store.read(entity, list(user_ids[start:start + chunk]), wanted)
        found = np.asarray(batch.found, dtype=bool)
        if cost_feature:
            cost = batch.values[cost_feature].astype(np.float64)
            found &= batch.valid[cost_feature] & np.isfinite(cost) & (cost > 0)
            costs.append(cost[found])
        unscored.extend(k for k, ok in zip(batch.keys, found, strict=True) if not ok)
        keys.extend(k for k, ok in zip(batch.keys, found, strict=True) if ok)
        if encoder is not None:  # straight from the cached arrays, no pandas
            parts.append(encoder.transform(batch)[found])
        else:
            predict_frames.append(batch.to_pandas()[found])
    if encoder is not None:
        matrix = np.vstack(parts) if parts else np.zeros((0, 0))
        predict = fast_predict or loaded.model.estimator.predict
        uplift = np.asarray(predict(matrix), dtype=np.float64) if len(keys) else np.zeros(0)
    else:
        import pandas as pd

        uplift = (np.asarray(loaded.model.predict(pd.concat(predict_frames)[features]), dtype=np.float64)
                  if len(keys) else np.zeros(0))
    return ScoredAudience(np.asarray(keys, dtype=object), uplift,
                          np.concatenate(costs) if cost_feature else None, unscored)
