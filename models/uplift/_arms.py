"""Several treatments: per-arm uplift, each user's best arm (or none), and what choosing per user is worth.

:class:`MultiArmUplift` fits one uplift learner per treatment arm on that arm's rows and the control
rows (the arms of a randomized experiment are independent comparisons against the same control).
``predict`` gives a ``(rows, arms)`` matrix; :meth:`MultiArmUplift.choose` picks each user's arm with
the largest net value ``uplift * value_per_unit - cost``, or none when no arm is worth its cost.

:func:`evaluate_arms` runs the protocol on stratified splits: per-arm Qini/AUUC/uplift@30 (each arm
against control on the test half) and the value of policies estimated by inverse propensity
weighting on the test half (unbiased in a randomized experiment): treat no one, give everyone one
arm, or choose the arm per user. ``gain_vs_best_arm`` is per-user choice minus the best single arm
(the arm with the best average effect on the training half).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split

from core.errors import InvalidArgument
from models.uplift.base import check_features
from models.uplift.encoding import FeatureEncoder
from models.uplift.learners import make_learner
from models.uplift.metrics import score_uplift

__all__ = ["ArmsReport", "MultiArmUplift", "choose_arms", "evaluate_arms"]


class MultiArmUplift(BaseEstimator):
    """One uplift learner per treatment arm against the shared ``control`` arm; input is a numeric matrix.

    ``fit(X, arm, y)`` takes each row's arm label; ``predict_arms(X)`` gives every arm's uplift,
    ``predict(X)`` the best arm's (so a multi-arm model ranks users like a one-arm model wherever
    one number per user is needed: SelectTop, batch files) and :meth:`choose` each user's arm.
    """

    def __init__(self, learner: str = "default", control: str = "control", random_state: int = 0) -> None:
        self.learner = learner
        self.control = control
        self.random_state = random_state

    def fit(self, X: Any, arm: Sequence[Any] | np.ndarray, y: Any, *, arm_field: str = "arm") -> MultiArmUplift:
        X = check_features(X)
        y = np.asarray(y, dtype=np.float64)
        labels = np.asarray(pd.Series(arm).astype(str))
        if labels.shape[0] != X.shape[0]:
            raise InvalidArgument(f"{arm_field} has {labels.shape[0]} rows but X has {X.shape[0]}", field=arm_field)
        control = str(self.control)
        if not (labels == control).any():
            raise InvalidArgument(f"no row has the control value {control!r}", field=arm_field)
        arms = sorted(a for a in np.unique(labels) if a != control)
        if not arms:
            raise InvalidArgument(f"column {arm_field!r} has the control arm only", field=arm_field)
        self.arms_ = arms
        self.n_features_in_ = X.shape[1]
        self.models_ = []
        for i, a in enumerate(arms):
            rows = (labels == a) | (labels == control)
            model = make_learner(self.learner, random_state=self.random_state + i)
            self.models_.append(model.fit(X[rows], (labels[rows] == a).astype(np.int8), y[rows]))
        return self

    def predict_arms(self, X: Any) -> np.ndarray:
        """Uplift of each arm over control, shape ``(rows, arms)`` in the order of ``arms_``."""
        if not hasattr(self, "models_"):
            raise NotFittedError("MultiArmUplift is not fitted yet; call fit first")
        Xa = check_features(X, n_features=self.n_features_in_)
        return np.column_stack([m.predict(Xa) for m in self.models_])

    def predict(self, X: Any) -> np.ndarray:
        """The best arm's uplift per row."""
        return self.predict_arms(X).max(axis=1)

    def choose(self, X: Any, *, costs: Mapping[str, float] | None = None,
               value_per_unit: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Each row's best arm index (``-1`` = treat with none) and its net value."""
        return choose_arms(self.predict_arms(X), self.arms_, costs=costs, value_per_unit=value_per_unit)


def choose_arms(uplift: np.ndarray, arms: Sequence[str], *, costs: Mapping[str, float] | None = None,
                value_per_unit: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the arm with the largest ``uplift * value_per_unit - cost`` if positive, else ``-1``."""
    if not np.isfinite(value_per_unit) or value_per_unit <= 0:
        raise InvalidArgument("value_per_unit must be a positive number", field="value_per_unit")
    cost = np.zeros(len(arms))
    for i, a in enumerate(arms):
        c = float((costs or {}).get(a, 0.0))
        if not np.isfinite(c) or c < 0:
            raise InvalidArgument(f"cost of arm {a!r} must be a non-negative number, got {c!r}", field=f"costs[{a}]")
        cost[i] = c
    net = uplift * value_per_unit - cost
    best = np.argmax(net, axis=1)
    best_net = net[np.arange(len(net)), best]
    return np.where(best_net > 0, best, -1), np.maximum(best_net, 0.0)


def _policy_value(y: np.ndarray, labels: np.ndarray, policy: np.ndarray, share: dict[str, float]) -> float:
    """IPW estimate of the mean outcome per user if everyone got ``policy``'s arm."""
    p = np.array([share[a] for a in labels])
    return float(np.mean(y * (labels == policy) / p))


@dataclass
class ArmsReport:
    dataset: str
    arms: list[str]
    control: str
    seeds: int
    per_arm: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    policies: dict[str, list[float]] = field(default_factory=dict)
    chosen_share: dict[str, list[float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        def stats(values: list[float]) -> list[float]:
            return [float(np.mean(values)), float(np.std(values))]

        return {
            "dataset": self.dataset, "arms": self.arms, "control": self.control, "seeds": self.seeds,
            "per_arm": {a: {m: stats(v) for m, v in ms.items()} for a, ms in self.per_arm.items()},
            "policy_value": {p: stats(v) for p, v in self.policies.items()},
            "chosen_share": {a: stats(v) for a, v in self.chosen_share.items()},
        }


def evaluate_arms(frame: pd.DataFrame, arm: Sequence[Any] | np.ndarray, y: np.ndarray, *, control: str,
                  learner: str = "default", seeds: int = 3, test_size: float = 0.5, name: str = "experiment",
                  arm_field: str = "arm", on_step: Callable[[int], None] | None = None) -> ArmsReport:
    """Per-arm metrics and policy values over ``seeds`` stratified splits (see the module docstring)."""
    labels = np.asarray(pd.Series(arm).astype(str))
    y = np.asarray(y, dtype=np.float64)
    arms = sorted(a for a in np.unique(labels) if a != str(control))
    if not arms or not (labels == str(control)).any():
        raise InvalidArgument(f"column {arm_field!r} needs the control {control!r} and at least one other arm",
                              field=arm_field)
    for a in [*arms, str(control)]:
        if (labels == a).sum() * min(test_size, 1 - test_size) < 10:
            raise InvalidArgument(f"column {arm_field!r}: arm {a!r} has {(labels == a).sum()} rows, too few to split",
                                  field=arm_field)
    report = ArmsReport(name, arms, str(control), seeds)
    strata = pd.Series(labels).astype("category").cat.codes.to_numpy() * 2 + (y > 0)
    for seed in range(seeds):
        train, test = train_test_split(np.arange(len(labels)), test_size=test_size, random_state=seed,
                                       stratify=strata)
        encoder = FeatureEncoder(exclude=()).fit(frame.iloc[train])
        X_tr, X_te = encoder.transform(frame.iloc[train]), encoder.transform(frame.iloc[test])
        model = MultiArmUplift(learner, str(control), random_state=seed).fit(X_tr, labels[train], y[train],
                                                                             arm_field=arm_field)
        uplift = model.predict_arms(X_te)
        lab_te, y_te = labels[test], y[test]
        for i, a in enumerate(arms):
            rows = (lab_te == a) | (lab_te == str(control))
            scores = score_uplift(y_te[rows], uplift[rows, i], (lab_te[rows] == a).astype(np.int8)).as_dict()
            for metric, value in scores.items():
                report.per_arm.setdefault(a, {}).setdefault(metric, []).append(value)
        share = {a: float((lab_te == a).mean()) for a in [*arms, str(control)]}
        chosen, _ = choose_arms(uplift, arms)
        per_user = np.where(chosen >= 0, np.array(arms, dtype=object)[np.maximum(chosen, 0)], str(control))
        values = {"none": _policy_value(y_te, lab_te, np.full(len(test), str(control), dtype=object), share)}
        for a in arms:
            values[f"all:{a}"] = _policy_value(y_te, lab_te, np.full(len(test), a, dtype=object), share)
        # The best single arm is chosen on the training half (its average effect), not on the test half.
        lab_tr, y_tr = labels[train], y[train]
        ate = {a: y_tr[lab_tr == a].mean() - y_tr[lab_tr == str(control)].mean() for a in arms}
        best_arm = max(ate, key=lambda a: ate[a])
        values["best_single_arm"] = values[f"all:{best_arm}"]
        values["per_user"] = _policy_value(y_te, lab_te, per_user, share)
        values["gain_vs_best_arm"] = values["per_user"] - values["best_single_arm"]
        for key, value in values.items():
            report.policies.setdefault(key, []).append(value)
        for i, a in enumerate([*arms, "none"]):
            report.chosen_share.setdefault(a, []).append(float((chosen == (i if a != "none" else -1)).mean()))
        if on_step is not None:
            on_step(seed)
    return report
