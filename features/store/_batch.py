"""FeatureBatch: the typed result of one online read, decoded lazily column by column."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.catalog import DType, Feature
from features.store._codec import EntityCodec, mask_to_set

__all__ = ["FeatureBatch"]


class _LazyColumns(Mapping[str, np.ndarray]):
    """Computes a column on first access, then keeps it."""

    def __init__(self, names: list[str], compute: Any) -> None:
        self._names = names
        self._compute = compute
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        column = self._cache.get(name)
        if column is None:
            if name not in self._names:
                raise KeyError(name)
            column = self._cache[name] = self._compute(name)
        return column

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class FeatureBatch:
    """Feature values for a batch of entity keys, one numpy column per feature.

    ``values[name]`` is int64, float64, bool, object (category words, ``None`` when missing) or a
    uint64 set bitmask (:meth:`column` turns it into lists of words). ``valid[name]`` is False where
    a value is missing (unknown key, expired group or null). ``found`` is True for keys with any live
    group. Columns are views on the decoded records, materialized on first access.
    """

    def __init__(self, entity: str, keys: list[str], features: list[Feature], codec: EntityCodec,
                 records: np.ndarray, exists: np.ndarray, now_ms: int) -> None:
        self.entity = entity
        self.keys = keys
        self.features = features
        self._by_name = {f.name: f for f in features}
        self._codec = codec
        self._records = records
        self._exists = exists
        self._now_ms = np.uint64(now_ms)
        self._alive: dict[str, np.ndarray] = {}
        self._group_valid: dict[str, np.ndarray] = {}
        names = [f.name for f in features]
        self.values: Mapping[str, np.ndarray] = _LazyColumns(names, self._value)
        self.valid: Mapping[str, np.ndarray] = _LazyColumns(names, self._validity)
        self._found: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def found(self) -> np.ndarray:
        if self._found is None:
            found = np.zeros(len(self.keys), dtype=bool)
            for group in {f.group for f in self.features}:
                found |= self._group_alive(group)
            self._found = found
        return self._found

    def _group_alive(self, group: str) -> np.ndarray:
        alive = self._alive.get(group)
        if alive is None:
            alive = self._alive[group] = self._exists & (self._records[group]["_expires"] > self._now_ms)
        return alive

    def _value(self, name: str) -> np.ndarray:
        f = self._by_name[name]
        raw = self._records[f.group][name]
        if f.dtype == DType.CATEGORY:
            return self._codec.groups[f.group].category_words[name][raw]
        if f.dtype == DType.BOOL:
            return raw.astype(bool)
        return raw

    def _validity(self, name: str) -> np.ndarray:
        f = self._by_name[name]
        group_valid = self._group_valid.get(f.group)
        if group_valid is None:  # every feature of the group at once: one shift-and-mask
            codec = self._codec.groups[f.group]
            bits = np.arange(len(codec.features), dtype=np.uint64)
            not_null = (self._records[f.group]["_null"][:, None] >> bits) & np.uint64(1) == 0
            group_valid = self._group_valid[f.group] = not_null & self._group_alive(f.group)[:, None]
        return group_valid[:, self._codec.groups[f.group].position[name]]

    def codes(self, name: str) -> np.ndarray:
        """A category feature's dictionary codes: 0 = missing, else its position in ``values`` + 1.

        The cheap way to one-hot encode: index a lookup table with the codes instead of the words.
        """
        f = self._by_name[name]
        if f.dtype != DType.CATEGORY:
            raise TypeError(f"{name!r} is a {f.dtype.value} feature, not a category")
        return self._records[f.group][name]

    def matrix(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Several features of one kind side by side: ``(values, valid)``, both ``(rows, len(names))``.

        Numbers and booleans come as float64, categories as their codes (uint16, see :meth:`codes`),
        string sets as uint64 bitmasks; ``valid`` is what ``valid[name]`` says, column by column.
        Values where ``valid`` is False are unspecified. Why: a served model reads dozens of features
        per request, and a handful of gathers over the raw records (one per storage type) cost far
        less than a column at a time.
        """
        unknown = set(names) - self._by_name.keys()
        if unknown:
            raise KeyError(sorted(unknown)[0])
        plan = self._codec.gather_plan(names)
        n = len(self.keys)
        raw = self._records.view(np.uint8).reshape(n, self._codec.itemsize)
        values = np.empty((n, len(names)), dtype=plan.dtype)
        for storage, columns, byte_index in plan.parts:
            values[:, columns] = raw.take(byte_index, axis=1).view(storage)  # take: C order, unlike raw[:, index]
        alive = self._exists[:, None] & (raw.take(plan.expires_bytes, axis=1).view("<u8") > self._now_ms)
        null = raw.take(plan.null_bytes, axis=1).view("<u8")[:, plan.group_columns]
        valid = ((null >> plan.bits) & np.uint64(1) == 0) & alive[:, plan.group_columns]
        return values, valid

    def column(self, name: str) -> np.ndarray:
        """One feature as Python-friendly values: sets become lists of words, missing → None/NaN."""
        feature = self._by_name[name]
        raw, valid = self.values[name], self.valid[name]
        if feature.dtype == DType.STRING_SET:
            out = np.empty(len(raw), dtype=object)
            for i, (mask, ok) in enumerate(zip(raw.tolist(), valid, strict=True)):
                out[i] = mask_to_set(mask, feature) if ok else None
            return out
        if feature.dtype == DType.FLOAT:
            return np.where(valid, raw, np.nan)
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
        return pd.DataFrame(data, index=pd.Index(self.keys, name=self.entity))

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
