"""Learn from a campaign: its decile effects become bag labels for the bag-regularized learner.

A read-out measures, per predicted-uplift decile of the targeted users, the treated-minus-holdout
effect: a group-level label, exactly what :class:`models.uplift.BagLabels` feeds the bag-regularized
learner. The campaign's recorded targeted members (treated and holdout twin: one randomized experiment
with a constant propensity) train a fresh version (treated = the planned arm, intent to treat), with the
decile effects, measured on the training rows only, as external bags.

The comparison is honest: 30 % of those members (stratified on arm and decile) are
held out of the fit and of the bag labels, and both versions are scored on them: Qini AUC and the
decile calibration error (mean |predicted - realized| lift over the new model's quintiles).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.errors import FailedPrecondition, InvalidArgument
from features.catalog import Catalog
from models.registry import LoadedModel, ModelRegistry
from models.uplift import (
    BagLabels,
    BagRegularizedUplift,
    FeatureEncoder,
    UpliftEstimator,
    UpliftPipeline,
    bag_ate_labels,
    qini_auc,
)

__all__ = ["LearnResult", "bin_bag_labels", "calibration_error", "fit_with_bags", "learn_from_rows"]

TEST_SHARE = 0.3
# Bag loss weight when read-out labels join the fit: 1 weighs each label exactly as its sampling noise
# allows (the learner's default of 5 over-trusts them; decile labels from one campaign are noisy).
LEARN_BAG_WEIGHT = 1.0


@dataclass(frozen=True)
class LearnResult:
    model: str
    previous_version: int
    new_version: int
    train_rows: int
    test_rows: int
    bags: int
    previous_qini_auc: float
    new_qini_auc: float
    previous_decile_error: float
    new_decile_error: float

    @property
    def summary(self) -> str:
        better = "better" if self.new_qini_auc > self.previous_qini_auc else "not better"
        return (f"{self.model} v{self.new_version} vs v{self.previous_version} on {self.test_rows} held-out campaign "
                f"rows: Qini AUC {self.new_qini_auc:.4f} vs {self.previous_qini_auc:.4f} ({better}); decile error "
                f"{self.new_decile_error:.4f} vs {self.previous_decile_error:.4f}")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary}


def bin_bag_labels(bin_of_row: np.ndarray, treatment: np.ndarray, outcome: np.ndarray) -> BagLabels:
    """One bag per decile (``bin_of_row`` -1 = in no bag) labelled with its observed treated-minus-control
    effect and that effect's sampling variance; deciles missing an arm get zero weight."""
    bins = np.asarray(bin_of_row, dtype=np.int64)
    n_bags = int(bins.max(initial=-1)) + 1
    if n_bags == 0:
        raise InvalidArgument("no targeted rows with outcomes: nothing to learn from", field="campaign_id")
    inside = bins >= 0
    ate, var = bag_ate_labels(bins[inside], treatment[inside].astype(np.float64), outcome[inside], n_bags)
    var = np.where(np.isfinite(var), var, 1e6)  # a bag missing an arm: (almost) no weight
    return BagLabels(bag_id=bins, ate=ate, variance=var)


def fit_with_bags(frame: pd.DataFrame, treatment: np.ndarray, outcome: np.ndarray, bags: BagLabels | None, *,
                  features: list[str] | None, catalog: Catalog | None, seed: int,
                  estimator: UpliftEstimator | None = None) -> UpliftPipeline:
    """Encoder + estimator fit on ``frame``; ``bags`` (bag-regularized learner only) add external bag labels."""
    encoder = FeatureEncoder(features=features, catalog=catalog, exclude=("user_id",))
    X = encoder.fit(frame).transform(frame)
    model = estimator or BagRegularizedUplift(random_state=seed, bag_size=max(32, min(512, len(frame) // 20)),
                                              bag_weight=LEARN_BAG_WEIGHT)
    if bags is not None:
        if not isinstance(model, BagRegularizedUplift):
            raise InvalidArgument("bag labels need the bag-regularized learner", field="bag_labels")
        model.fit(X, treatment, outcome, bag_labels=bags)
    else:
        model.fit(X, treatment, outcome)
    return UpliftPipeline(encoder, model)


def calibration_error(predicted: np.ndarray, treatment: np.ndarray, outcome: np.ndarray, bins: int = 5) -> float:
    """Size-weighted mean |mean predicted uplift - realized treated-minus-control lift| over prediction
    quantile bins (bins missing an arm are skipped)."""
    n = predicted.shape[0]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(predicted, kind="stable")] = np.arange(n)
    b = rank * bins // max(n, 1)
    total, weight = 0.0, 0
    for k in range(bins):
        in_bin = b == k
        t, c = in_bin & (treatment == 1), in_bin & (treatment == 0)
        if t.sum() and c.sum():
            realized = outcome[t].mean() - outcome[c].mean()
            total += abs(float(predicted[in_bin].mean()) - realized) * int(in_bin.sum())
            weight += int(in_bin.sum())
    return total / weight if weight else float("nan")


def _split(strata: np.ndarray, seed: int) -> np.ndarray:
    """True = test row: TEST_SHARE of every stratum at random."""
    rng = np.random.default_rng(seed)
    test = np.zeros(strata.shape[0], dtype=bool)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        test[rng.permutation(idx)[:int(round(idx.size * TEST_SHARE))]] = True
    return test


def _qini(y: np.ndarray, uplift: np.ndarray, t: np.ndarray) -> float:
    try:
        return qini_auc(y, uplift, t)
    except InvalidArgument:  # no responders in the test rows: nothing to rank
        return float("nan")


def learn_from_rows(registry: ModelRegistry, previous: LoadedModel, frame: pd.DataFrame, treatment: np.ndarray,
                    outcome: np.ndarray, bin_of_row: np.ndarray, *, catalog: Catalog | None, seed: int,
                    name: str | None = None, notes: dict[str, Any] | None = None) -> LearnResult:
    """Fit on 70 % of the campaign's rows with their decile bags, compare on 30 %, register the new version."""
    if not np.isin(outcome, (0.0, 1.0)).all():
        raise FailedPrecondition("learning needs binary 0/1 outcomes (e.g. converted); this campaign has others")
    if (treatment == 1).sum() < 10 or (treatment == 0).sum() < 10:
        raise FailedPrecondition("learning needs at least 10 recorded users in each arm")
    test = _split(treatment.astype(np.int64) * 100 + bin_of_row, seed)
    train = ~test
    bags = bin_bag_labels(bin_of_row[train], treatment[train], outcome[train])
    new = fit_with_bags(frame[train], treatment[train], outcome[train], bags,
                        features=list(previous.manifest.features) or None, catalog=catalog, seed=seed)
    old_pred = np.asarray(previous.model.predict(frame[test]), dtype=np.float64)
    new_pred = new.predict(frame[test])
    t_test, y_test = treatment[test], outcome[test]
    metrics = {"campaign_qini_auc": _qini(y_test, new_pred, t_test),
               "campaign_decile_error": calibration_error(new_pred, t_test, y_test),
               "train_rows": float(train.sum())}
    target = name or previous.name
    version = registry.save(target, new, catalog=catalog, metrics={k: v for k, v in metrics.items() if np.isfinite(v)},
                            notes={"learner": "bag_regularized", "learned_from_version": previous.version,
                                   **(notes or {})})
    return LearnResult(target, previous.version, version, int(train.sum()), int(test.sum()), len(bags.ate),
                       _qini(y_test, old_pred, t_test), metrics["campaign_qini_auc"],
                       calibration_error(old_pred, t_test, y_test), metrics["campaign_decile_error"])
