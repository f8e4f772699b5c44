"""FeatureBatch: the typed result of one online read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.catalog import DType, Feature
from features.store._codec import mask_to_set

__all__ = ["FeatureBatch"]


@dataclass(slots=True)
class FeatureBatch:
    """Feature values for a batch of entity keys, one numpy column per feature.

    Columns hold int64, float64, bool, object (category words, ``None`` when missing) or uint64
    set bitmasks (decode with :meth:`column`). ``valid[name]`` is False where a value is missing
    (absent key, expired group or null); ``found`` is True for keys with any stored group.
    """

    entity: str
    keys: list[str]
    features: list[Feature]
    found: np.ndarray
    values: dict[str, np.ndarray]
    valid: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def column(self, name: str) -> np.ndarray:
        """One feature as Python-friendly values: sets become lists of words, missing → None/NaN."""
        feature = next(f for f in self.features if f.name == name)
        raw = self.values[name]
        valid = self.valid[name]
        if feature.dtype == DType.STRING_SET:
            out = np.empty(len(raw), dtype=object)
            for i, (mask, ok) in enumerate(zip(raw.tolist(), valid, strict=True)):
                out[i] = mask_to_set(mask, feature) if ok else None
            return out
        if feature.dtype == DType.FLOAT:
            return np.where(valid, raw, np.nan)
        if feature.dtype == DType.CATEGORY:
            return raw
        if valid.all():
            return raw
        out = raw.astype(object)
        out[~valid] = None
        return out

    def to_pandas(self) -> pd.DataFrame:
        """A DataFrame indexed by key, with pandas nullable dtypes for ints and bools."""
        data: dict[str, Any] = {}
        for f in self.features:
            raw, valid = self.values[f.name], self.valid[f.name]
            if f.dtype == DType.INT:
                data[f.name] = pd.arrays.IntegerArray(raw.astype(np.int64), ~valid)
            elif f.dtype == DType.BOOL:
                data[f.name] = pd.arrays.BooleanArray(raw.astype(bool), ~valid)
            else:
                data[f.name] = self.column(f.name)
        frame = pd.DataFrame(data, index=pd.Index(self.keys, name=self.entity))
        return frame

    def row(self, i: int) -> dict[str, Any]:
        """One entity's features as plain Python values (None when missing)."""
        out: dict[str, Any] = {}
        for f in self.features:
            if not self.valid[f.name][i]:
                out[f.name] = None
                continue
            value = self.values[f.name][i]
            if f.dtype == DType.STRING_SET:
                out[f.name] = mask_to_set(int(value), f)
            elif f.dtype == DType.BOOL:
                out[f.name] = bool(value)
            elif f.dtype == DType.INT:
                out[f.name] = int(value)
            elif f.dtype == DType.FLOAT:
                out[f.name] = float(value)
            else:
                out[f.name] = value
        return out
