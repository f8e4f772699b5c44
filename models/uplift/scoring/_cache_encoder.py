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
_STORED_KIND = {"category": DType.CATEGORY, "string_set": DType.STRING_SET}  # encoder kind → catalog type


@dataclass(frozen=True, slots=True)
class _Numbers:
    names: tuple[str, ...]
    columns: np.ndarray  # output column of each feature
    medians: np.ndarray  # what a missing (or NaN) value encodes as


@dataclass(frozen=True, slots=True)
class _OneHot:
    """Categories (``codes``: one row per feature, indexed by the stored code) or string sets (``codes``:
    one row per feature, indexed by the word's bit): the output column, -1 for missing or ignored words."""

    names: tuple[str, ...]
    codes: np.ndarray


class CacheEncoder:
    """Encode a :class:`FeatureBatch` into the matrix the pipeline's estimator reads.

    Each kind of feature is read as one matrix (:meth:`FeatureBatch.matrix`) and written with a few
    array operations, whatever the number of features: a 100-user request used to spend more time
    walking features one at a time than in the numbers themselves.
    """

    def __init__(self, numbers: _Numbers, categories: _OneHot, sets: _OneHot, n_columns: int) -> None:
        self._numbers = numbers
        self._categories = categories
        self._sets = sets
        self.n_columns = n_columns

    def transform(self, batch: FeatureBatch) -> np.ndarray:
        n = len(batch)
        out = np.zeros((n, self.n_columns), dtype=np.float32)
        numbers = self._numbers
        if numbers.names:
            values, valid = batch.matrix(numbers.names)
            valid &= ~np.isnan(values)
            out[:, numbers.columns] = np.where(valid, values, numbers.medians)
        categories = self._categories
        if categories.names:
            codes, valid = batch.matrix(categories.names)
            columns = categories.codes[np.arange(len(categories.names)), codes]
            rows, features = np.nonzero(valid & (columns >= 0))
            out[rows, columns[rows, features]] = 1.0
        sets = self._sets
        if sets.names:
            masks, valid = batch.matrix(sets.names)
            bits = np.arange(sets.codes.shape[1], dtype=np.uint64)
            on = ((masks[:, :, None] >> bits) & np.uint64(1)).astype(bool)
            on &= valid[:, :, None] & (sets.codes >= 0)[None, :, :]
            rows, features, words = np.nonzero(on)
            out[rows, sets.codes[features, words]] = 1.0
        return out


def _table(rows: list[list[int]]) -> np.ndarray:
    """Ragged rows of output columns as one array padded with -1 (at least one column wide)."""
    table = np.full((len(rows), max((len(r) for r in rows), default=0) or 1), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        table[i, :len(row)] = row
    return table


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
    numbers: tuple[list[str], list[int], list[float]] = ([], [], [])
    categories: tuple[list[str], list[list[int]]] = ([], [])
    sets: tuple[list[str], list[list[int]]] = ([], [])
    position = 0
    for name in map(str, encoder.feature_names_in_):
        feature = catalog.features.get(name)
        kind = encoder.kinds_.get(name)
        if feature is None:
            return None
        if kind == "numeric" and feature.dtype in _NUMERIC_DTYPES:
            numbers[0].append(name)
            numbers[1].append(position)
            numbers[2].append(float(encoder.medians_[name]))
            position += 1
        elif kind in ("category", "string_set") and feature.dtype == _STORED_KIND[kind]:
            index = dict(encoder.value_index_[name])
            columns = [position + index[word] if word in index else -1 for word in feature.values or ()]
            # A category's stored code is its position + 1 (0 = missing); a set's bit is its position.
            names, tables = categories if kind == "category" else sets
            names.append(name)
            tables.append([-1, *columns] if kind == "category" else columns)
            position += len(index)
        else:
            return None
    if position != encoder.n_features_out_:
        return None
    return CacheEncoder(
        _Numbers(tuple(numbers[0]), np.asarray(numbers[1], dtype=np.intp), np.asarray(numbers[2], dtype=np.float64)),
        _OneHot(tuple(categories[0]), _table(categories[1])), _OneHot(tuple(sets[0]), _table(sets[1])), position)
