"""The contract every online-store backend must pass (the feature-source ``check_estimator``).

    from features.store.checks import check_online_store
    check_online_store(lambda catalog: MyStore(..., catalog))

Each check builds a fresh store over a small catalog covering every dtype and raises
``AssertionError`` naming the broken promise. A new backend is done when this passes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.errors import InvalidArgument, UnknownFeature
from features.catalog import Catalog
from features.store.base import OnlineStore

__all__ = ["CONTRACT_CATALOG", "check_online_store", "contract_frame"]

CONTRACT_CATALOG = Catalog.model_validate({
    "name": "contract", "entities": {"user": {"key": "user_id"}, "item": {"key": "item_id"}},
    "groups": [
        {"name": "slow", "entity": "user", "ttl_seconds": 3600, "features": [
            {"name": "n", "dtype": "int", "range": [-10**12, 10**12]},
            {"name": "x", "dtype": "float"},
            {"name": "flag", "dtype": "bool"},
            {"name": "tier", "dtype": "category", "values": ["gold", "silver"]},
            {"name": "tags", "dtype": "string_set", "values": [f"t{i}" for i in range(64)]},
        ]},
        {"name": "fast", "entity": "user", "ttl_seconds": 60, "features": [{"name": "clicks", "dtype": "int"}]},
        {"name": "item_facts", "entity": "item", "ttl_seconds": 60, "features": [{"name": "price", "dtype": "float"}]},
    ],
})


def contract_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": ["a", "b", "c"],
        "n": [-(10**12), 0, None],
        "x": [1.5, float("nan"), -2.25e-300],
        "flag": [True, False, None],
        "tier": ["gold", None, "silver"],
        "tags": [["t0", "t63"], [], None],
        "clicks": [1, 2, 3],
    })


def _check_round_trip(store: OnlineStore) -> None:
    store.write_frame("user", contract_frame())
    batch = store.read("user", ["a", "b", "c", "zz"])
    assert batch.found.tolist() == [True, True, True, False], "found must mark stored keys only"
    assert batch.row(0) == {"n": -(10**12), "x": 1.5, "flag": True, "tier": "gold", "tags": ["t0", "t63"],
                            "clicks": 1}, "every dtype must round-trip exactly"
    assert batch.row(1) == {"n": 0, "x": None, "flag": False, "tier": None, "tags": [], "clicks": 2}, \
        "nulls and empty sets must stay distinct"
    assert batch.row(2)["n"] is None and batch.row(2)["tags"] is None, "missing values must read as None"
    assert all(v is None for v in batch.row(3).values()), "an unknown key must read as all missing"
    assert batch.values["n"].dtype == np.int64 and batch.values["x"].dtype == np.float64, "columns must be typed"


def _check_feature_subset_and_order(store: OnlineStore) -> None:
    store.write_frame("user", contract_frame())
    batch = store.read("user", ["c", "a"], ["clicks", "tier"])
    assert batch.feature_names == ["clicks", "tier"], "requested feature order must be kept"
    assert batch.keys == ["c", "a"] and batch.values["clicks"].tolist() == [3, 1], "key order must be kept"


def _check_bad_input(store: OnlineStore) -> None:
    cases: list[tuple[list[str], list[str] | None, str]] = [
        ([], None, "keys"), (["ok", "not ok"], None, "keys[1]"), (["a"], ["n", "nope"], "features[1]"),
        ([f"k{i}" for i in range(store.max_batch + 1)], None, "keys"),
    ]
    for keys, features, field in cases:
        try:
            store.read("user", keys, features)
        except InvalidArgument as exc:
            assert exc.field == field, f"bad read must name {field!r}, named {exc.field!r}"
            if features and "nope" in features:
                assert isinstance(exc, UnknownFeature)
        else:
            raise AssertionError(f"read({keys[:3]}..., {features}) must raise InvalidArgument")
    bad = contract_frame()
    bad["tier"] = bad["tier"].astype(object)
    bad.at[2, "tier"] = "platinum"
    try:
        store.write_frame("user", bad)
    except InvalidArgument as exc:
        assert exc.field == "tier"
    else:
        raise AssertionError("writing a value outside the catalog must raise InvalidArgument")
    assert not store.read("user", ["a", "b", "c"]).found.any(), "a rejected frame must write nothing"


def _check_entities_are_separate(store: OnlineStore) -> None:
    store.write_frame("user", contract_frame())
    store.write_frame("item", pd.DataFrame({"item_id": ["a"], "price": [9.5]}))
    assert store.read("item", ["a"]).row(0) == {"price": 9.5}
    assert store.read("user", ["a"], ["clicks"]).row(0) == {"clicks": 1}
    try:
        store.read("item", ["a"], ["clicks"])
    except InvalidArgument as exc:
        assert exc.field == "features[0]"
    else:
        raise AssertionError("a feature of another entity must be refused")


def _check_clear(store: OnlineStore) -> None:
    store.write_frame("user", contract_frame())
    assert store.clear() >= 1 and not store.read("user", ["a"]).found.any(), "clear must empty the namespace"


CHECKS: list[Callable[[OnlineStore], None]] = [
    _check_round_trip, _check_feature_subset_and_order, _check_bad_input, _check_entities_are_separate, _check_clear,
]


def check_online_store(make_store: Callable[[Catalog], OnlineStore]) -> None:
    """Run every contract check, each on a fresh store made by ``make_store(CONTRACT_CATALOG)``."""
    for check in CHECKS:
        store = make_store(CONTRACT_CATALOG)
        try:
            check(store)
        finally:
            store.clear()
