"""A fitted :class:`FeatureEncoder` compiled against the feature cache's storage layout.

Online requests read features from Redis as a :class:`features.store.FeatureBatch` (numbers,
category words, set bitmasks, validity masks). Turning that into a pandas frame and encoding it
column by column costs most of a 100-user request; this encoder writes the model matrix straight
from the batch's arrays (set bitmasks become multi-hot rows with one shift-and-mask). It reproduces
``encoder.transform(batch.to_pandas())`` exactly — the same columns, medians for missing numbers,
all-zero for missing or unseen words — which the tests check on data with missing values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from features.catalog import Catalog, DType
from features.store import FeatureBatch

__all__ = ["CacheEncoder", "compile_cache_encoder"]

_NUMERIC_DTYPES = (DType.INT, DType.FLOAT, DType.BOOL)


@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    kind: str  # "numeric" | "category" | "string_set"
    position: int  # first output column
    median: float = 0.0
    code_columns: np.ndarray | None = None  # category code → offset, -1 for missing or ignored words
    bit_columns: np.ndarray | None = None  # set bit → offset, -1 when the encoder ignores the word


class CacheEncoder:
    """Encode a :class:`FeatureBatch` into the matrix the pipeline's estimator reads."""

    def __init__(self, steps: list[_Step], n_columns: int) -> None:
        self._steps = steps
        self.n_columns = n_columns

    def transform(self, batch: FeatureBatch) -> np.ndarray:
        n = len(batch)
        out = np.zeros((n, self.n_columns), dtype=np.float32)
        for step in self._steps:
            valid = batch.valid[step.name]
            if step.kind == "numeric":
                column = batch.values[step.name].astype(np.float64)
                missing = ~valid | np.isnan(column)
                out[:, step.position] = np.where(missing, step.median, column) if missing.any() else column
            elif step.kind == "category":
                assert step.code_columns is not None
                offsets = step.code_columns[batch.codes(step.name)]
                rows = np.flatnonzero(valid & (offsets >= 0))
                out[rows, step.position + offsets[rows]] = 1.0
            else:
                assert step.bit_columns is not None
                rows = np.flatnonzero(valid)
                if rows.size:
                    bits = step.bit_columns
                    masks = batch.values[step.name][rows].astype(np.uint64)
                    on = ((masks[:, None] >> np.arange(bits.size, dtype=np.uint64)) & np.uint64(1)).astype(bool)
                    r, b = np.nonzero(on & (bits >= 0)[None, :])
                    out[rows[r], step.position + bits[b]] = 1.0
        return out


def compile_cache_encoder(model: Any, catalog: Catalog) -> CacheEncoder | None:
    """The cache encoder of an :class:`UpliftPipeline`'s fitted encoder; None when it does not apply.

    It applies when every input column is a catalog feature whose stored type matches the kind the
    encoder fitted (numbers as numbers, categories as categories, sets as sets).
    """
    from models.uplift.encoding import FeatureEncoder
    from models.uplift.pipeline import UpliftPipeline

    if not isinstance(model, UpliftPipeline) or not isinstance(model.encoder, FeatureEncoder):
        return None
    encoder = model.encoder
    if not hasattr(encoder, "feature_names_in_"):
        return None
    steps: list[_Step] = []
    position = 0
    for name in map(str, encoder.feature_names_in_):
        feature = catalog.features.get(name)
        kind = encoder.kinds_.get(name)
        if feature is None:
            return None
        if kind == "numeric" and feature.dtype in _NUMERIC_DTYPES:
            steps.append(_Step(name, kind, position, median=float(encoder.medians_[name])))
            position += 1
        elif kind == "category" and feature.dtype == DType.CATEGORY:
            index = dict(encoder.value_index_[name])
            codes = np.asarray([-1] + [index.get(word, -1) for word in feature.values or ()], dtype=np.int64)
            steps.append(_Step(name, kind, position, code_columns=codes))
            position += len(index)
        elif kind == "string_set" and feature.dtype == DType.STRING_SET:
            index = encoder.value_index_[name]
            bits = np.asarray([index.get(word, -1) for word in feature.values or ()], dtype=np.int64)
            steps.append(_Step(name, kind, position, bit_columns=bits))
            position += len(index)
        else:
            return None
    if position != encoder.n_features_out_:
        return None
    return CacheEncoder(steps, position)
