"""Time-bounded hyperparameter selection by cross-validated Qini on the training data only.

Each learner family has a short list of candidate settings, the default first (so a tight time
bound still returns the default, never an untried setting). Candidates are scored by the mean
normalized Qini AUC over stratified folds of the *training* rows; the search stops starting new
candidates when the time bound is spent. The bag-regularized learner chooses its bag weight and bag
size this way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from core.errors import InvalidArgument
from models.uplift.learners import make_learner
from models.uplift.metrics import qini_auc

__all__ = ["SEARCH_SPACES", "TuningResult", "tune_learner"]

_LGBM_SPACE: list[dict[str, Any]] = [
    {},
    {"num_leaves": 7, "min_child_samples": 300},
    {"num_leaves": 31, "min_child_samples": 50},
    {"num_leaves": 7, "min_child_samples": 100, "learning_rate": 0.1},
    {"num_leaves": 3, "min_child_samples": 500, "learning_rate": 0.03},
]

SEARCH_SPACES: dict[str, list[dict[str, Any]]] = {
    "t_learner": _LGBM_SPACE,
    "s_learner": _LGBM_SPACE,
    "x_learner": _LGBM_SPACE,
    "class_transformation": _LGBM_SPACE,
    "bag_regularized_gbm": _LGBM_SPACE + [{"bag_size": 256}, {"bag_size": 1024}],
    "bag_corrected_s": _LGBM_SPACE + [{"bag_size": 256}, {"bag_size": 1024}],
    "bag_blend": [{}, {"bag_size": 256}, {"bag_size": 1024}, {"net_members": 2}],
    "bag_regularized": [
        {},
        {"bag_weight": 1.0},
        {"bag_weight": 20.0},
        {"bag_size": 256},
        {"bag_size": 1024},
        {"bag_weight": 1.0, "bag_size": 1024},
        {"bag_weight": 20.0, "bag_size": 256},
        {"weight_decay": 0.1},
    ],
}


# Tuning ``default`` also chooses the learner family: the families' defaults first (so even a tight
# time bound compares them), then each family's other settings.
_FAMILIES = ("bag_blend", "bag_corrected_s", "bag_regularized", "s_learner", "x_learner", "t_learner")


def _candidates(name: str, continuous: bool) -> list[tuple[str, dict[str, Any]]]:
    if name != "default":
        return [(name, c) for c in SEARCH_SPACES.get(name, [{}])]
    families = [f for f in _FAMILIES if not continuous or make_learner(f).supports_continuous]
    first: list[tuple[str, dict[str, Any]]] = [(f, {}) for f in families]
    rest = [(f, c) for f in families for c in SEARCH_SPACES[f][1:]]
    return first + rest


@dataclass
class TuningResult:
    """The chosen learner and setting, its cross-validated Qini, every tried candidate
    (``(learner, params, cv_qini)``) and the time spent."""

    learner: str
    params: dict[str, Any]
    cv_qini: float
    tried: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    seconds: float = 0.0


def tune_learner(name: str, X: np.ndarray, t: np.ndarray, y: np.ndarray, *, seconds: float = 60.0,
                 folds: int = 3, random_state: int = 0) -> TuningResult:
    """Pick ``name``'s setting with the best mean fold Qini within about ``seconds`` (training rows only).

    ``name="default"`` also chooses the learner family (their blend, bag-corrected S-learner, bag-regularized net,
    S-, X- or T-learner): what suits an experiment (many or few features, strong or weak signal, common
    or rare outcome) differs, and the training rows are the only honest judge. ``result.learner`` names the choice.
    """
    if seconds <= 0:
        raise InvalidArgument("the tuning time bound must be positive", field="--tune-seconds")
    if folds < 2:
        raise InvalidArgument("tuning needs at least 2 folds", field="--tune-folds")
    make_learner(name, field="--learner")
    space = _candidates(name, continuous=not bool(np.isin(y, (0.0, 1.0)).all()))
    strata = t.astype(np.int64) * 2 + (y > 0).astype(np.int64)
    if np.bincount(strata).min() < folds:
        raise InvalidArgument(f"too few rows in some treatment x outcome cell for {folds}-fold tuning",
                              field="--tune")
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=random_state).split(X, strata))
    start = time.perf_counter()
    tried: list[tuple[str, dict[str, Any], float]] = []
    for family, candidate in space:
        if tried and time.perf_counter() - start > seconds:
            break
        scores = []
        for fit_rows, valid_rows in splits:
            learner = make_learner(family, random_state=random_state).set_params(**candidate)
            learner.fit(X[fit_rows], t[fit_rows], y[fit_rows])
            scores.append(qini_auc(y[valid_rows], learner.predict(X[valid_rows]), t[valid_rows]))
        tried.append((family, dict(candidate), float(np.mean(scores))))
    family, best, best_score = max(tried, key=lambda entry: entry[2])
    return TuningResult(family, dict(best), best_score, tried, time.perf_counter() - start)
