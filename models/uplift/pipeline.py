"""Encoder + uplift estimator as one picklable model that takes catalog-typed DataFrames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from core.errors import InvalidArgument
from models.uplift.base import UpliftEstimator
from models.uplift.encoding import FeatureEncoder

__all__ = ["UpliftPipeline"]


class UpliftPipeline(BaseEstimator):
    """``FeatureEncoder`` then an :class:`UpliftEstimator`.

    ``fit(df, treatment, y)`` fits the encoder on ``df`` and the estimator on the encoded matrix;
    ``predict(df)`` returns individual uplift (float64, one per row). ``features`` lists the input
    columns the model reads, in order, which is what a serving path must fetch.
    """

    def __init__(self, encoder: FeatureEncoder, estimator: UpliftEstimator | Any) -> None:
        self.encoder = encoder
        self.estimator = estimator

    def fit(self, df: pd.DataFrame, treatment: Any, y: Any) -> UpliftPipeline:
        if not isinstance(df, pd.DataFrame):
            raise InvalidArgument("UpliftPipeline.fit expects a pandas DataFrame", field="df")
        X = self.encoder.fit(df).transform(df)
        self.estimator.fit(X, treatment, y)
        return self

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Uplift per row (a several-treatment model: the best arm's uplift)."""
        return self.estimator.predict(self.encoder.transform(df))

    @property
    def arms(self) -> list[str] | None:
        """The treatment arms of a several-treatment model (:class:`MultiArmUplift`), else ``None``."""
        arms = getattr(self.estimator, "arms_", None)
        return list(arms) if arms is not None else None

    def predict_arms(self, df: pd.DataFrame) -> np.ndarray:
        """Every arm's uplift, ``(rows, arms)``; only for several-treatment models."""
        if self.arms is None:
            raise InvalidArgument("this model has one treatment; use predict", field="model")
        return self.estimator.predict_arms(self.encoder.transform(df))

    @property
    def features(self) -> list[str]:
        """Input column names (before encoding), in the order the encoder reads them."""
        return [str(c) for c in self.encoder.feature_names_in_]

    @property
    def encoded_columns(self) -> list[str]:
        return list(self.encoder.columns_)
