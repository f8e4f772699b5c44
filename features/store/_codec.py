"""Packing a feature group into one fixed-size binary record, and back.

Layout of one group record (little-endian, packed): ``_expires`` (uint64, epoch milliseconds after
which the group reads as missing; 0 = never written), ``_null`` (uint64, bit i set when feature i
is missing), then one field per feature: int → int64, float → float64, bool → uint8, category →
uint16 dictionary code (0 = missing, else position in ``values`` + 1), string_set → uint64
bitmask over ``values``.

An entity's record is its groups' records back to back at fixed offsets (:class:`EntityCodec`), so
one group is rewritten in place with ``SETRANGE`` and a batch of entities is decoded by a single
``np.frombuffer`` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from features.catalog import DType, Feature, FeatureGroup

__all__ = ["EntityCodec", "GatherPlan", "GroupCodec", "set_to_mask", "mask_to_set"]

_STORAGE: dict[DType, str] = {
    DType.INT: "<i8",
    DType.FLOAT: "<f8",
    DType.BOOL: "u1",
    DType.CATEGORY: "<u2",
    DType.STRING_SET: "<u8",
}


def set_to_mask(values: object, feature: Feature, *, field: str) -> int:
    """Bitmask of an iterable of allowed words; unknown words are an InvalidArgument."""
    if isinstance(values, str):
        raise InvalidArgument(f"{feature.name}: a set needs a list of words, got the string {values!r}", field=field)
    mask = 0
    index = feature.value_index
    for word in values:  # type: ignore[attr-defined]
        try:
            mask |= 1 << index[word]
        except KeyError:
            raise InvalidArgument(
                f"{feature.name}: {word!r} is not an allowed value ({', '.join(feature.values or ())})", field=field
            ) from None
    return mask


def mask_to_set(mask: int, feature: Feature) -> list[str]:
    words = feature.values or ()
    return [w for i, w in enumerate(words) if (mask >> i) & 1]


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT


class GroupCodec:
    """Encoder/decoder of one feature group's records."""

    def __init__(self, group: FeatureGroup) -> None:
        self.group = group
        self.features = list(group.features)
        self.position = {f.name: i for i, f in enumerate(self.features)}
        self.dtype = np.dtype([("_expires", "<u8"), ("_null", "<u8")]
                              + [(f.name, _STORAGE[f.dtype]) for f in self.features])
        self.itemsize = self.dtype.itemsize
        self.empty_record = bytes(self.itemsize)
        # Decoding tables: code → word (object arrays, index 0 = missing).
        self.category_words = {
            f.name: np.array([None, *(f.values or ())], dtype=object)
            for f in self.features if f.dtype == DType.CATEGORY
        }

    # -- encoding --------------------------------------------------------------------------------

    def encode(self, frame: pd.DataFrame, expires_at_ms: int) -> np.ndarray:
        """Typed columns of ``frame`` → structured records (validates types, values and ranges)."""
        n = len(frame)
        records = np.zeros(n, dtype=self.dtype)
        records["_expires"] = expires_at_ms
        null = np.zeros(n, dtype=np.uint64)
        for i, feature in enumerate(self.features):
            if feature.name not in frame.columns:
                raise InvalidArgument(f"column {feature.name!r} of group {self.group.name!r} is missing",
                                      field=feature.name)
            stored, missing = self._encode_column(frame[feature.name], feature)
            records[feature.name] = stored
            null |= missing.astype(np.uint64) << np.uint64(i)
        records["_null"] = null
        return records

    def _encode_column(self, column: pd.Series, feature: Feature) -> tuple[np.ndarray, np.ndarray]:
        name = feature.name
        if feature.dtype in (DType.INT, DType.FLOAT):
            numeric = pd.to_numeric(column, errors="coerce")
            bad = numeric.isna() & column.notna()
            if bad.any():
                raise InvalidArgument(
                    f"column {name!r} must be numeric; got {column[bad].iloc[0]!r}", field=name)
            values = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
            missing = np.isnan(values)
            if feature.dtype == DType.INT:
                present = values[~missing]
                if present.size and not np.all(present == np.round(present)):
                    raise InvalidArgument(f"column {name!r} must hold whole numbers", field=name)
            if feature.range is not None:
                lo, hi = feature.range
                out = ~missing & ((values < lo) | (values > hi))
                if out.any():
                    raise InvalidArgument(
                        f"column {name!r}: {values[out][0]!r} is outside the allowed range [{lo}, {hi}]", field=name)
            filled = np.where(missing, 0, values)
            return (filled.astype(np.int64) if feature.dtype == DType.INT else filled), missing
        if feature.dtype == DType.BOOL:
            missing = column.isna().to_numpy()
            raw = column.to_numpy(dtype=object)
            ok = np.array([m or isinstance(v, bool | np.bool_) or v in (0, 1) for v, m in zip(raw, missing, strict=True)])
            if not ok.all():
                raise InvalidArgument(f"column {name!r} must be boolean; got {raw[~ok][0]!r}", field=name)
            return np.where(missing, False, raw).astype(np.uint8), missing
        if feature.dtype == DType.CATEGORY:
            codes = pd.Categorical(column, categories=list(feature.values or ())).codes.astype(np.int64)
            missing = column.isna().to_numpy()
            unknown = (codes < 0) & ~missing
            if unknown.any():
                raise InvalidArgument(
                    f"column {name!r}: {column[unknown].iloc[0]!r} is not an allowed value "
                    f"({', '.join(feature.values or ())})", field=name)
            return (codes + 1).astype(np.uint16), missing
        # string_set: a list/tuple/set/array of words per row, or an already-packed int mask.
        raw = column.to_numpy(dtype=object)
        masks = np.zeros(len(raw), dtype=np.uint64)
        missing = np.zeros(len(raw), dtype=bool)
        for j, value in enumerate(raw):
            if isinstance(value, np.ndarray | list | tuple | set | frozenset):
                masks[j] = set_to_mask(value, feature, field=name)
            elif _is_missing(value):
                missing[j] = True
            else:
                raise InvalidArgument(f"column {name!r} must hold lists of words; got {value!r}", field=name)
        return masks, missing

    def to_blobs(self, records: np.ndarray) -> list[bytes]:
        buffer = records.tobytes()
        size = self.itemsize
        return [buffer[i * size:(i + 1) * size] for i in range(len(records))]



# What a gathered matrix holds for each kind of feature (see EntityCodec.gather_plan).
_MATRIX_DTYPE: dict[DType, np.dtype] = {
    DType.INT: np.dtype(np.float64), DType.FLOAT: np.dtype(np.float64), DType.BOOL: np.dtype(np.float64),
    DType.CATEGORY: np.dtype("<u2"), DType.STRING_SET: np.dtype("<u8"),
}


@dataclass(frozen=True, slots=True)
class GatherPlan:
    """Byte positions that read several features of a batch of entity records as one matrix.

    ``parts``: per storage type, the output columns and the record bytes holding them (one fancy
    index each); ``group_columns``/``bits``: per output column, its group (a column of the groups'
    ``_expires``/``_null`` gathered through ``expires_bytes``/``null_bytes``) and its null bit.
    """

    dtype: np.dtype
    parts: tuple[tuple[np.dtype, np.ndarray, np.ndarray], ...]
    expires_bytes: np.ndarray
    null_bytes: np.ndarray
    group_columns: np.ndarray
    bits: np.ndarray


def _byte_index(offsets: Sequence[int], size: int) -> np.ndarray:
    return (np.asarray(offsets, dtype=np.intp)[:, None] + np.arange(size, dtype=np.intp)).ravel()


class EntityCodec:
    """All groups of one entity, packed back to back: offsets, the joint dtype, batch decoding."""

    def __init__(self, groups: Sequence[FeatureGroup]) -> None:
        self.groups = {g.name: GroupCodec(g) for g in groups}
        self.offsets: dict[str, int] = {}
        offset = 0
        for name, codec in self.groups.items():
            self.offsets[name] = offset
            offset += codec.itemsize
        self.dtype = np.dtype([(name, codec.dtype) for name, codec in self.groups.items()])
        self.itemsize = self.dtype.itemsize
        self.empty_record = bytes(self.itemsize)
        self.max_ttl_ms = max(c.group.ttl_seconds for c in self.groups.values()) * 1000
        self._plans: dict[tuple[str, ...], GatherPlan] = {}

    def gather_plan(self, names: Sequence[str]) -> GatherPlan:
        """The plan reading ``names`` (features of one kind: numbers and booleans, categories, or
        string sets) as one matrix; built once per name list."""
        key = tuple(names)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        located: list[tuple[str, Feature]] = []
        for name in key:
            group = next((g for g, codec in self.groups.items() if name in codec.position), None)
            if group is None:
                raise KeyError(name)
            located.append((group, self.groups[group].features[self.groups[group].position[name]]))
        kinds = {_MATRIX_DTYPE[f.dtype] for _, f in located}
        if len(kinds) > 1:
            raise TypeError(f"features {list(key)} mix numbers, categories and sets; gather each kind apart")
        by_storage: dict[str, tuple[list[int], list[int]]] = {}
        for column, (group, feature) in enumerate(located):
            fields = self.groups[group].dtype.fields
            assert fields is not None  # a structured dtype
            columns, offsets = by_storage.setdefault(_STORAGE[feature.dtype], ([], []))
            columns.append(column)
            offsets.append(self.offsets[group] + int(fields[feature.name][1]))
        groups = list(dict.fromkeys(group for group, _ in located))
        group_offsets = [self.offsets[g] for g in groups]
        plan = GatherPlan(
            dtype=kinds.pop() if kinds else np.dtype(np.float64),
            parts=tuple((np.dtype(storage), np.asarray(columns, dtype=np.intp),
                         _byte_index(offsets, np.dtype(storage).itemsize))
                        for storage, (columns, offsets) in by_storage.items()),
            expires_bytes=_byte_index(group_offsets, 8),  # each group record starts with _expires, _null (uint64)
            null_bytes=_byte_index([o + 8 for o in group_offsets], 8),
            group_columns=np.asarray([groups.index(g) for g, _ in located], dtype=np.intp),
            bits=np.asarray([self.groups[g].position[f.name] for g, f in located], dtype=np.uint64),
        )
        if len(self._plans) < 256:  # a served model asks for the same few name lists on every request
            self._plans[key] = plan
        return plan

    def decode(self, blobs: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
        """Raw Redis values (``None`` for absent keys) → (records, key-exists mask)."""
        size = self.itemsize
        if None not in blobs:
            present = cast(Sequence[bytes], blobs)
            if sum(map(len, present)) == size * len(present):  # the common case: nothing to pad
                return np.frombuffer(b"".join(present), dtype=self.dtype), np.ones(len(present), dtype=bool)
        found = np.fromiter((b is not None for b in blobs), dtype=bool, count=len(blobs))
        # An entity written one group at a time (SETRANGE) can be shorter than the full record: pad it.
        joined = b"".join(self.empty_record if b is None else b if len(b) == size else b.ljust(size, b"\0")
                          for b in blobs)
        return np.frombuffer(joined, dtype=self.dtype), found
