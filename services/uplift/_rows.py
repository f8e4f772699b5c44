"""Inline ``FeatureRow`` messages → the catalog-typed DataFrame a model reads, validated per field."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from features.catalog import Catalog, DType, Feature
from features.store import FeatureBatch
from mds.uplift.v1 import uplift_pb2

__all__ = ["batch_to_frame", "rows_to_frame"]


def _value(feature: Feature, value: uplift_pb2.FeatureValue, field: str) -> Any:
    kind = value.WhichOneof("kind")
    if kind is None:
        return None
    dtype = feature.dtype

    def bad(expected: str) -> InvalidArgument:
        return InvalidArgument(f"feature {feature.name!r} is {dtype.value}: expected {expected}, got {kind}",
                               field=field)

    if dtype in (DType.INT, DType.FLOAT):
        if kind == "int_value":
            number = float(value.int_value)
        elif kind == "float_value":
            number = value.float_value
            if not math.isfinite(number):
                raise InvalidArgument(f"feature {feature.name!r} must be finite", field=field)
            if dtype == DType.INT and not number.is_integer():
                raise InvalidArgument(f"feature {feature.name!r} is int: {number} is not whole", field=field)
        else:
            raise bad("int_value or float_value")
        if feature.range is not None and not feature.range[0] <= number <= feature.range[1]:
            raise InvalidArgument(
                f"feature {feature.name!r}: {number:g} is outside its range "
                f"[{feature.range[0]:g}, {feature.range[1]:g}]", field=field)
        return number
    if dtype == DType.BOOL:
        if kind != "bool_value":
            raise bad("bool_value")
        return 1.0 if value.bool_value else 0.0
    if dtype == DType.CATEGORY:
        if kind != "string_value":
            raise bad("string_value")
        if value.string_value not in feature.value_index:
            raise InvalidArgument(
                f"feature {feature.name!r}: {value.string_value!r} is not one of its values", field=field)
        return value.string_value
    if kind != "set_value":
        raise bad("set_value")
    words = list(value.set_value.values)
    for word in words:
        if word not in feature.value_index:
            raise InvalidArgument(f"feature {feature.name!r}: {word!r} is not in its vocabulary", field=field)
    return words


def rows_to_frame(rows: Sequence[uplift_pb2.FeatureRow], catalog: Catalog, features: Sequence[str],
                  *, field: str = "rows") -> pd.DataFrame:
    """One row per message, one column per model feature; features a row lacks are missing.

    Numbers and booleans become float64 (NaN when missing), categories strings and sets lists of
    words (None when missing), which is what the model's encoder reads from the feature cache too.
    A feature the catalog does not define, a value of the wrong type or outside the feature's
    domain raises :class:`InvalidArgument` naming ``rows[i].features[name]``.
    """
    wanted = {name: catalog.features[name] for name in features}
    columns: dict[str, list[Any]] = {name: [None] * len(rows) for name in features}
    for i, row in enumerate(rows):
        for name, value in row.features.items():
            where = f"{field}[{i}].features[{name}]"
            feature = wanted.get(name)
            if feature is None:
                if name not in catalog.features:
                    raise InvalidArgument(f"unknown feature {name!r}", field=where)
                continue  # a real feature this model does not read
            columns[name][i] = _value(feature, value, where)
    data: dict[str, Any] = {}
    for name, values in columns.items():
        if wanted[name].dtype in (DType.INT, DType.FLOAT, DType.BOOL):
            data[name] = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
        else:
            col = np.empty(len(values), dtype=object)
            col[:] = values
            data[name] = col
    ids = [row.user_id for row in rows]
    return pd.DataFrame(data, index=pd.Index(ids, name="user_id"))


def batch_to_frame(batch: FeatureBatch) -> pd.DataFrame:
    """A cache read as the frame a model reads: numbers as plain float64 (NaN when missing).

    Same values as ``batch.to_pandas()``, without its nullable extension arrays: on a 100-user
    request this halves both the frame build and the encoder's work (measured by bench-serve).
    """
    data: dict[str, Any] = {}
    for feature in batch.features:
        if feature.dtype in (DType.INT, DType.FLOAT, DType.BOOL):
            column = batch.values[feature.name].astype(np.float64)
            valid = batch.valid[feature.name]
            if not valid.all():
                column[~valid] = np.nan
            data[feature.name] = column
        else:
            data[feature.name] = batch.column(feature.name)
    return pd.DataFrame(data, index=pd.Index(batch.keys, name=batch.entity), copy=False)
