"""Fit a servable :class:`UpliftPipeline` on a data set, with held-out metrics for the registry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from features.catalog import Catalog
from models.uplift.encoding import FeatureEncoder
from models.uplift.evaluation import UpliftDataset
from models.uplift.learners import make_learner
from models.uplift.metrics import score_uplift
from models.uplift.pipeline import UpliftPipeline

__all__ = ["TrainedPipeline", "train_pipeline"]


@dataclass(frozen=True)
class TrainedPipeline:
    pipeline: UpliftPipeline
    metrics: dict[str, float]


def train_pipeline(ds: UpliftDataset, learner: str, *, seed: int = 0, holdout: float = 0.2,
                   catalog: Catalog | None = None) -> TrainedPipeline:
    """Score a stratified holdout (when ``holdout`` > 0), then refit on every row for serving."""
    metrics: dict[str, float] = {"train_rows": float(len(ds.frame))}

    def fresh() -> UpliftPipeline:
        return UpliftPipeline(FeatureEncoder(catalog=catalog, exclude=()), make_learner(learner, random_state=seed))

    if holdout > 0:
        strata = ds.treatment.astype(np.int64) * 2 + ds.outcome.astype(np.int64)
        train, test = train_test_split(np.arange(len(ds.frame)), test_size=holdout, random_state=seed,
                                       stratify=strata)
        probe = fresh().fit(ds.frame.iloc[train], ds.treatment[train], ds.outcome[train])
        uplift = probe.predict(ds.frame.iloc[test])
        scores = score_uplift(ds.outcome[test], uplift, ds.treatment[test])
        metrics.update({f"holdout_{k}": v for k, v in scores.as_dict().items()})
        if ds.true_uplift is not None:
            from scipy.stats import spearmanr

            metrics["holdout_spearman"] = float(spearmanr(uplift, ds.true_uplift[test]).statistic)
    pipeline = fresh().fit(ds.frame, ds.treatment, ds.outcome)
    return TrainedPipeline(pipeline, metrics)
