"""Anchors: scikit-uplift's and causalml's learners behind the MDS estimator interface.

``mds uplift evaluate --anchors`` fits these next to the MDS learners on the same splits, so every
report sets MDS beside the ecosystem. They all get the same base LightGBM (:func:`anchor_lgbm_params`:
200 trees, learning rate 0.05, 15 leaves, at least 100 rows per leaf, the regularized configuration
the ecosystem's users reach for). The packages are optional (``pip install mds[bench]``); an anchor
whose package is missing raises :class:`FailedPrecondition` naming it.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np

from core.errors import FailedPrecondition, InvalidArgument
from models.uplift._meta import lgbm_params
from models.uplift.base import UpliftEstimator

__all__ = ["ANCHORS", "AnchorLearner", "anchor_lgbm_params", "available_anchors"]

# Anchors that also take a continuous (revenue) outcome, with LightGBM regressors as base models.
_CONTINUOUS = {"SoloModel", "TwoModels", "BaseSClassifier", "BaseTClassifier", "BaseXClassifier"}

# name -> (package import name, learner)
ANCHORS: dict[str, tuple[str, str]] = {
    "anchor:sklift.SoloModel": ("sklift", "SoloModel"),
    "anchor:sklift.TwoModels": ("sklift", "TwoModels"),
    "anchor:sklift.ClassTransformation": ("sklift", "ClassTransformation"),
    "anchor:causalml.BaseSClassifier": ("causalml", "BaseSClassifier"),
    "anchor:causalml.BaseTClassifier": ("causalml", "BaseTClassifier"),
    "anchor:causalml.BaseXClassifier": ("causalml", "BaseXClassifier"),
}


def anchor_lgbm_params(random_state: int) -> dict[str, Any]:
    """The one base LightGBM every anchor uses."""
    return lgbm_params(200, 0.05, 15, 100, random_state, 1)


def available_anchors(continuous: bool = False) -> list[str]:
    """Anchor names whose package is installed (and, with ``continuous``, that take revenue outcomes)."""
    return [name for name, (package, learner) in ANCHORS.items()
            if importlib.util.find_spec(package) is not None and (not continuous or learner in _CONTINUOUS)]


class AnchorLearner(UpliftEstimator):
    """One ecosystem learner (``name`` a key of :data:`ANCHORS`) with the shared base LightGBM."""

    supports_continuous = True  # checked per learner in fit

    def __init__(self, name: str = "anchor:sklift.TwoModels", random_state: int | None = 0) -> None:
        self.name = name
        self.random_state = random_state

    def _base(self, offset: int = 0, regressor: bool = False) -> lgb.LGBMModel:
        params = anchor_lgbm_params((0 if self.random_state is None else int(self.random_state)) + offset)
        regressor = regressor or self.outcome_kind_ == "continuous"
        return lgb.LGBMRegressor(**params) if regressor else lgb.LGBMClassifier(**params)

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        if self.name not in ANCHORS:
            raise InvalidArgument(f"unknown anchor {self.name!r}; choose from {sorted(ANCHORS)}", field="--anchors")
        package, learner = ANCHORS[self.name]
        if importlib.util.find_spec(package) is None:
            raise FailedPrecondition(f"{self.name} needs the {package!r} package: pip install 'mds[bench]'")
        continuous = self.outcome_kind_ == "continuous"
        if continuous and learner not in _CONTINUOUS:
            raise InvalidArgument(f"{self.name} takes 0/1 outcomes only", field="y")
        yf = y if continuous else y.astype(np.int64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model_ = self._build(package, learner, continuous)
            if package == "sklift":
                self.model_.fit(X, yf, t.astype(np.int64))
            elif learner == "BaseXClassifier":
                # Randomized experiment: the propensity is the treated share, a constant.
                self.propensity_ = float(t.mean())
                self.model_.fit(X, t.astype(np.int64), yf, p=np.full(len(X), self.propensity_))
            else:
                self.model_.fit(X, t.astype(np.int64), yf)

    def _build(self, package: str, learner: str, continuous: bool) -> Any:
        if package == "sklift":
            from sklift import models as sk

            if learner == "SoloModel":
                return sk.SoloModel(self._base())
            if learner == "TwoModels":
                return sk.TwoModels(self._base(0), self._base(1), method="vanilla")
            return sk.ClassTransformation(self._base())
        from causalml.inference import meta

        # Revenue outcomes: causalml's regressor twin of each classifier learner.
        if learner == "BaseSClassifier":
            return (meta.BaseSRegressor if continuous else meta.BaseSClassifier)(learner=self._base(), control_name=0)
        if learner == "BaseTClassifier":
            return (meta.BaseTRegressor if continuous else meta.BaseTClassifier)(learner=self._base(), control_name=0)
        if continuous:
            return meta.BaseXRegressor(learner=self._base(), control_name=0)
        return meta.BaseXClassifier(outcome_learner=self._base(), effect_learner=self._base(2, regressor=True),
                                    control_name=0)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            package, _ = ANCHORS[self.name]
            if package == "sklift":
                return np.asarray(self.model_.predict(X), dtype=np.float64).ravel()
            if hasattr(self, "propensity_"):
                out = self.model_.predict(X, p=np.full(len(X), self.propensity_))
            else:
                out = self.model_.predict(X)
            return np.asarray(out, dtype=np.float64).reshape(len(X), -1)[:, 0]
