"""Fit a servable :class:`UpliftPipeline` on a data set, with held-out metrics for the registry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from core.errors import InvalidArgument
from features.catalog import Catalog
from models.uplift._arms import MultiArmUplift
from models.uplift._tuning import tune_learner
from models.uplift.encoding import FeatureEncoder
from models.uplift.evaluation import UpliftDataset
from models.uplift.learners import DEFAULT_LEARNER, DEFAULT_REVENUE_LEARNER, make_learner
from models.uplift.metrics import score_uplift
from models.uplift.pipeline import UpliftPipeline

__all__ = ["TrainedPipeline", "train_arms_pipeline", "train_pipeline"]


@dataclass(frozen=True)
class TrainedPipeline:
    pipeline: UpliftPipeline
    metrics: dict[str, float]
    learner: str = ""  # the learner fitted (the family tuning chose, for ``default``)


def train_pipeline(ds: UpliftDataset, learner: str, *, seed: int = 0, holdout: float = 0.2,
                   catalog: Catalog | None = None, tune_seconds: float | None = None) -> TrainedPipeline:
    """Score a stratified holdout (when ``holdout`` > 0), then refit on every row for serving.

    ``tune_seconds``: first choose the learner's hyperparameters by cross-validated Qini on the
    training rows (the holdout's rows stay out of the tuning); the chosen setting is used for both fits.
    ``learner="default"`` with tuning also chooses the learner family; the result names it
    (``TrainedPipeline.learner``).
    Every check on the data runs before any fit, so bad input registers nothing.
    """
    ds.check_split(holdout if holdout > 0 else 0.2)
    if learner == "default" and tune_seconds is None:
        learner = DEFAULT_REVENUE_LEARNER if ds.continuous else DEFAULT_LEARNER
    if ds.continuous and learner != "default" and not make_learner(learner).supports_continuous:
        raise InvalidArgument(f"learner {learner!r} takes 0/1 outcomes only, and {ds.outcome_column!r} is continuous",
                              field="--learner")
    metrics: dict[str, float] = {"train_rows": float(len(ds.frame))}
    params: dict[str, object] = {}
    strata = ds.strata()
    rows = np.arange(len(ds.frame))
    if holdout > 0:
        train, test = train_test_split(rows, test_size=holdout, random_state=seed, stratify=strata)
    else:
        train, test = rows, rows[:0]
    if tune_seconds is not None:
        encoder = FeatureEncoder(catalog=catalog, exclude=()).fit(ds.frame.iloc[train])
        tuning = tune_learner(learner, encoder.transform(ds.frame.iloc[train]), ds.treatment[train],
                              ds.outcome[train], seconds=tune_seconds, random_state=seed)
        learner, params = tuning.learner, tuning.params
        metrics.update({"tune_seconds": tuning.seconds, "tune_cv_qini": tuning.cv_qini,
                        "tune_candidates": float(len(tuning.tried))})

    def fresh() -> UpliftPipeline:
        estimator = make_learner(learner, random_state=seed).set_params(**params)
        return UpliftPipeline(FeatureEncoder(catalog=catalog, exclude=()), estimator)

    if holdout > 0:
        probe = fresh().fit(ds.frame.iloc[train], ds.treatment[train], ds.outcome[train])
        uplift = probe.predict(ds.frame.iloc[test])
        scores = score_uplift(ds.outcome[test], uplift, ds.treatment[test])
        metrics.update({f"holdout_{k}": v for k, v in scores.as_dict().items()})
        if ds.true_uplift is not None:
            from scipy.stats import spearmanr

            metrics["holdout_spearman"] = float(spearmanr(uplift, ds.true_uplift[test]).statistic)
    pipeline = fresh().fit(ds.frame, ds.treatment, ds.outcome)
    return TrainedPipeline(pipeline, metrics, learner)


def train_arms_pipeline(frame: pd.DataFrame, arm: np.ndarray, y: np.ndarray, *, control: str, learner: str,
                        seed: int = 0, holdout: float = 0.2, catalog: Catalog | None = None,
                        arm_field: str = "--treatment-col") -> TrainedPipeline:
    """A several-treatment model (one learner per arm against ``control``): per-arm holdout scores,
    then a refit on every row. Every check runs before any fit, so bad input registers nothing."""
    labels = np.asarray(pd.Series(arm).astype(str))
    arms = sorted(a for a in np.unique(labels) if a != str(control))
    if not arms or not (labels == str(control)).any():
        raise InvalidArgument(f"the arm column needs the control {control!r} and at least one other arm",
                              field=arm_field)
    share = holdout if holdout > 0 else 0.2
    for a in [*arms, str(control)]:
        rows = int((labels == a).sum())
        if rows * min(share, 1 - share) < 10:
            raise InvalidArgument(f"arm {a!r} has {rows} rows, too few for a {share} holdout", field=arm_field)
    metrics: dict[str, float] = {"train_rows": float(len(frame)), "arms": float(len(arms))}

    def fresh() -> UpliftPipeline:
        return UpliftPipeline(FeatureEncoder(catalog=catalog, exclude=()),
                              MultiArmUplift(learner, str(control), random_state=seed))

    if holdout > 0:
        strata = pd.Series(labels).astype("category").cat.codes.to_numpy() * 2 + (y > 0)
        train, test = train_test_split(np.arange(len(frame)), test_size=holdout, random_state=seed, stratify=strata)
        probe = fresh().fit(frame.iloc[train], labels[train], y[train])
        per_arm = probe.predict_arms(frame.iloc[test])
        for i, a in enumerate(probe.arms or []):
            rows = (labels[test] == a) | (labels[test] == str(control))
            scores = score_uplift(y[test][rows], per_arm[rows, i], (labels[test][rows] == a).astype(np.int8))
            metrics.update({f"holdout_{a}_{k}": v for k, v in scores.as_dict().items()})
    return TrainedPipeline(fresh().fit(frame, labels, y), metrics)
