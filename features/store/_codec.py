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
from typing import cast

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from features.catalog import DType, Feature, FeatureGroup

__all__ = ["EntityCodec", "GroupCodec", "set_to_mask", "mask_to_set"]

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
