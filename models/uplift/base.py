"""The one uplift estimator interface every learner follows.

``fit(X, treatment, y)`` learns from a randomized experiment (``treatment`` 1 = treated, 0 = control,
``y`` the binary outcome) and ``predict(X)`` returns each row's estimated individual uplift
``P(y=1 | treated) - P(y=1 | control)`` as a float64 vector. Learners with ``supports_continuous``
also take a continuous outcome (revenue, spend) and then predict ``E[y | treated] - E[y | control]``,
the uplift in the outcome's unit (money). ``X`` is a numeric 2-D array (or a numeric
DataFrame); :class:`models.uplift.pipeline.UpliftPipeline` turns catalog-typed frames into that matrix.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from core.errors import FailedPrecondition, InvalidArgument

__all__ = ["UpliftEstimator", "check_features", "check_uplift_data", "is_binary_outcome"]


def check_features(X: Any, *, n_features: int | None = None, field: str = "X") -> np.ndarray:
    """``X`` as a finite-or-NaN float64 2-D array; raise :class:`InvalidArgument` naming ``field``."""
    if isinstance(X, pd.DataFrame):
        bad = [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))]
        if bad:
            raise InvalidArgument(
                f"column {bad[0]!r} is not numeric; encode it first (FeatureEncoder / UpliftPipeline)", field=str(bad[0])
            )
        X = X.to_numpy(dtype=np.float64)
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{field} must be numeric: {exc}", field=field) from None
    if arr.ndim != 2:
        raise InvalidArgument(f"{field} must be 2-D (rows x features), got {arr.ndim}-D", field=field)
    if arr.shape[0] == 0:
        raise InvalidArgument(f"{field} has no rows", field=field)
    if np.isinf(arr).any():
        raise InvalidArgument(f"{field} contains infinite values", field=field)
    if n_features is not None and arr.shape[1] != n_features:
        raise InvalidArgument(f"{field} has {arr.shape[1]} features, the model was fitted on {n_features}", field=field)
    return arr


def is_binary_outcome(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0.0, 1.0)).all())


def check_uplift_data(X: Any, treatment: Any, y: Any, *, continuous: bool = False
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one randomized-experiment training set; returns ``(X float64, treatment int8, y float64)``.

    ``continuous``: also accept a real-valued outcome (finite), not only 0/1.
    """
    Xa = check_features(X)
    t = np.asarray(treatment).ravel()
    ya = np.asarray(y).ravel()
    if t.shape[0] != Xa.shape[0]:
        raise InvalidArgument(f"treatment has {t.shape[0]} rows but X has {Xa.shape[0]}", field="treatment")
    if ya.shape[0] != Xa.shape[0]:
        raise InvalidArgument(f"y has {ya.shape[0]} rows but X has {Xa.shape[0]}", field="y")
    try:
        t = t.astype(np.float64)
        ya = ya.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument("treatment and y must be numeric 0/1", field="treatment") from None
    if not np.isin(t, (0.0, 1.0)).all():
        raise InvalidArgument("treatment must be 0 (control) or 1 (treated)", field="treatment")
    if not np.isfinite(ya).all():
        raise InvalidArgument("y contains NaN or infinite values", field="y")
    if not continuous and not is_binary_outcome(ya):
        raise InvalidArgument("y must be a binary 0/1 outcome (for revenue outcomes use a learner that supports "
                              "continuous outcomes: t_learner, s_learner or x_learner)", field="y")
    if t.min() == t.max():
        raise InvalidArgument("training data needs both treated (1) and control (0) rows", field="treatment")
    return Xa, t.astype(np.int8), ya


class UpliftEstimator(BaseEstimator):
    """Base class: subclasses implement ``_fit(X, t, y)`` and ``_predict(X)`` on validated arrays.

    Constructor parameters are plain attributes (scikit-learn convention), so learners clone,
    grid-search and pickle like any sklearn estimator. ``outcome_kind_`` records after fitting whether
    the outcome was ``"binary"`` or ``"continuous"``.
    """

    supports_continuous: ClassVar[bool] = False

    def fit(self, X: Any, treatment: Any, y: Any) -> UpliftEstimator:
        Xa, t, ya = check_uplift_data(X, treatment, y, continuous=self.supports_continuous)
        self.n_features_in_ = Xa.shape[1]
        self.outcome_kind_ = "binary" if is_binary_outcome(ya) else "continuous"
        self._fit(Xa, t, ya)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Individual uplift estimates, float64, shape ``(n_rows,)``."""
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        Xa = check_features(X, n_features=self.n_features_in_)
        out = np.asarray(self._predict(Xa), dtype=np.float64).ravel()
        if not np.isfinite(out).all():
            raise FailedPrecondition(f"{type(self).__name__} produced non-finite uplift")
        return out

    # -- to implement ------------------------------------------------------------------------------

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError
