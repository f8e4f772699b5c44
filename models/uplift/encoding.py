"""Catalog-typed feature frames → one float32 model matrix.

Column kinds follow the feature catalog: ``int``/``float``/``bool`` stay numeric (missing values get
the training median), ``category`` becomes one-hot and ``string_set`` (a list of words per row)
becomes multi-hot. Categories or words not seen in training (or not allowed by the catalog) are
ignored: they encode as all-zero, so serving never fails on a new value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from core.errors import InvalidArgument
from features.catalog import Catalog, DType

__all__ = ["ColumnKind", "FeatureEncoder"]

ColumnKind = str  # "numeric" | "category" | "string_set"
_NUMERIC, _CATEGORY, _SET = "numeric", "category", "string_set"
# Above this many rows a vectorized pandas path beats a per-row dictionary lookup.
_VECTORIZE_ROWS = 5000


def _infer_kind(series: pd.Series) -> ColumnKind:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return _NUMERIC
    first = next((v for v in series if v is not None and not (isinstance(v, float) and np.isnan(v))), None)
    if isinstance(first, list | tuple | set | frozenset | np.ndarray):
        return _SET
    return _CATEGORY


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


class FeatureEncoder(TransformerMixin, BaseEstimator):
    """Encode a DataFrame of catalog-typed columns into a float32 matrix.

    Parameters
    ----------
    features:
        Input columns to use, in order; ``None`` = every column of the frame seen in ``fit`` except
        ``exclude``.
    catalog:
        Optional feature catalog. When given, column kinds and category/word vocabularies come from it
        (so the encoding does not depend on which values happened to occur in training); otherwise
        they are inferred from the frame's dtypes and values.
    exclude:
        Columns never used as features (ids, treatment, outcome).

    Fitted attributes: ``feature_names_in_`` (input columns), ``kinds_`` (kind per input column),
    ``vocabularies_`` (words per category/set column), ``medians_`` (fill value per numeric column)
    and ``columns_`` (output column names such as ``age``, ``city=beijing``, ``interests:music``).
    """

    def __init__(self, features: Sequence[str] | None = None, catalog: Catalog | None = None,
                 exclude: Sequence[str] = ("user_id",)) -> None:
        self.features = features
        self.catalog = catalog
        self.exclude = exclude

    def fit(self, df: pd.DataFrame, y: Any = None) -> FeatureEncoder:
        if not isinstance(df, pd.DataFrame):
            raise InvalidArgument("FeatureEncoder.fit expects a pandas DataFrame", field="df")
        names = list(self.features) if self.features is not None else [c for c in df.columns if c not in set(self.exclude)]
        if not names:
            raise InvalidArgument("no feature columns to encode", field="features")
        missing = [c for c in names if c not in df.columns]
        if missing:
            raise InvalidArgument(f"column {missing[0]!r} is not in the data", field=str(missing[0]))
        kinds: dict[str, ColumnKind] = {}
        vocab: dict[str, tuple[str, ...]] = {}
        medians: dict[str, float] = {}
        for name in names:
            kind, words = self._kind_of(name, df[name])
            kinds[name] = kind
            if kind == _NUMERIC:
                try:
                    values = pd.to_numeric(df[name], errors="raise").astype(np.float64)
                except (TypeError, ValueError):
                    raise InvalidArgument(f"column {name!r} is not numeric", field=name) from None
                med = float(np.nanmedian(values)) if values.notna().any() else 0.0
                medians[name] = med
            else:
                vocab[name] = words
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.kinds_ = kinds
        self.vocabularies_ = vocab
        self.medians_ = medians
        cols: list[str] = []
        for name in names:
            if kinds[name] == _NUMERIC:
                cols.append(name)
            elif kinds[name] == _CATEGORY:
                cols.extend(f"{name}={w}" for w in vocab[name])
            else:
                cols.extend(f"{name}:{w}" for w in vocab[name])
        self.columns_ = cols
        self.value_index_ = {name: {w: i for i, w in enumerate(words)} for name, words in vocab.items()}
        self.n_features_out_ = len(cols)
        return self

    def _kind_of(self, name: str, series: pd.Series) -> tuple[ColumnKind, tuple[str, ...]]:
        if self.catalog is not None and name in self.catalog.features:
            f = self.catalog.features[name]
            if f.dtype == DType.CATEGORY:
                return _CATEGORY, tuple(f.values or ())
            if f.dtype == DType.STRING_SET:
                return _SET, tuple(f.values or ())
            return _NUMERIC, ()
        kind = _infer_kind(series)
        if kind == _CATEGORY:
            return kind, tuple(sorted({str(v) for v in series if not _is_missing(v)}))
        if kind == _SET:
            words: set[str] = set()
            for v in series:
                if not _is_missing(v):
                    words.update(str(w) for w in v)
            return kind, tuple(sorted(words))
        return kind, ()

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "feature_names_in_"):
            raise NotFittedError("FeatureEncoder is not fitted yet; call fit first")
        if not isinstance(df, pd.DataFrame):
            raise InvalidArgument("FeatureEncoder.transform expects a pandas DataFrame", field="df")
        missing = [c for c in self.feature_names_in_ if c not in df.columns]
        if missing:
            raise InvalidArgument(f"column {missing[0]!r} is missing from the input", field=str(missing[0]))
        n = len(df)
        out = np.zeros((n, self.n_features_out_), dtype=np.float32)
        pos = 0
        for name in self.feature_names_in_:
            kind = self.kinds_[name]
            col = df[name]
            if kind == _NUMERIC:
                out[:, pos] = self._numeric(name, col)
                pos += 1
                continue
            index = self.value_index_[name]
            values = col.to_numpy(dtype=object)
            if kind == _CATEGORY:
                # Unseen and missing values leave the row all-zero.
                if n > _VECTORIZE_ROWS:
                    codes = pd.Categorical(col.astype(str).where(col.notna(), None),
                                           categories=list(self.vocabularies_[name])).codes.astype(np.int64)
                    rows = np.flatnonzero(codes >= 0)
                    out[rows, pos + codes[rows]] = 1.0
                else:
                    for r, v in enumerate(values):
                        j = index.get(v if isinstance(v, str) else str(v))
                        if j is not None:
                            out[r, pos + j] = 1.0
            else:
                for r, v in enumerate(values):
                    if _is_missing(v):
                        continue
                    for w in v:
                        j = index.get(w)
                        if j is not None:
                            out[r, pos + j] = 1.0
            pos += len(index)
        return out

    def _numeric(self, name: str, col: pd.Series) -> np.ndarray:
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            try:
                values = pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise InvalidArgument(f"column {name!r} is not numeric", field=str(name)) from None
        if np.isinf(values).any():
            raise InvalidArgument(f"column {name!r} contains infinite values", field=str(name))
        nan = np.isnan(values)
        if nan.any():
            values = np.where(nan, self.medians_[name], values)
        return values

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.columns_, dtype=object)
