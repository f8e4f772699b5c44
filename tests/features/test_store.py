"""Redis-specific behaviour of the online store (the shared contract lives in test_store_contract.py):
per-group TTL, partial group writes, catalog versioning, value validation, namespaces."""

from __future__ import annotations

import asyncio
import time

import pandas as pd
import pytest
import redis

from core.errors import InvalidArgument
from core.redis import connect_async
from core.settings import Settings
from features.catalog import Catalog
from features.store import AsyncRedisOnlineStore, RedisOnlineStore, open_store
from features.store.checks import CONTRACT_CATALOG, contract_frame


def _catalog(ttl: int = 60, extra_value: bool = False) -> Catalog:
    """The contract catalog with the 'fast' group's TTL (and optionally one more tier) changed."""
    spec = CONTRACT_CATALOG.model_dump(mode="json")
    for group in spec["groups"]:
        if group["name"] == "fast":
            group["ttl_seconds"] = ttl
        for feature in group["features"]:
            if feature["name"] == "tier" and extra_value:
                feature["values"].append("bronze")
    return Catalog.model_validate(spec)


_frame = contract_frame


def test_group_ttl_expires_independently(settings: Settings):
    store = open_store(settings, _catalog(ttl=1))
    store.write_frame("user", _frame())
    assert store.read("user", ["a"], ["clicks"]).valid["clicks"].tolist() == [True]
    time.sleep(1.1)
    batch = store.read("user", ["a"], ["clicks", "n"])
    assert batch.valid["clicks"].tolist() == [False]  # the 1 s group expired
    assert batch.row(0)["n"] == -(10**12)  # the 1 h group did not
    key = store.key("user", "a")
    assert 0 < store.client.pttl(key) <= 3600 * 1000  # the key lives as long as its longest group


def test_writing_one_group_keeps_the_others(settings: Settings):
    store = open_store(settings, _catalog())
    store.write_frame("user", _frame())
    store.write_frame("user", pd.DataFrame({"user_id": ["a"], "clicks": [99]}))
    row = store.read("user", ["a"]).row(0)
    assert row["clicks"] == 99 and row["tier"] == "gold"
    only_fast = open_store(settings, _catalog())
    only_fast.write_frame("user", pd.DataFrame({"user_id": ["new"], "clicks": [5]}))
    batch = only_fast.read("user", ["new"], ["clicks", "tier"])
    assert batch.row(0) == {"clicks": 5, "tier": None} and batch.found.tolist() == [True]


def test_catalog_change_reads_a_fresh_namespace(settings: Settings):
    old = open_store(settings, _catalog())
    old.write_frame("user", _frame())
    new = open_store(settings, _catalog(extra_value=True))
    assert new.catalog.fingerprint != old.catalog.fingerprint
    assert new.read("user", ["a"]).found.tolist() == [False]  # never decodes the old layout
    assert old.read("user", ["a"]).found.tolist() == [True]


@pytest.mark.parametrize(("column", "value", "needle"), [
    ("tier", "platinum", "not an allowed value"),
    ("n", "seven", "numeric"),
    ("n", 1.5, "whole numbers"),
    ("tags", "t1", "lists of words"),
    ("tags", ["t1", "zz"], "not an allowed value"),
    ("flag", "yes", "boolean"),
])
def test_bad_frames_write_nothing(settings: Settings, column, value, needle):
    store = open_store(settings, _catalog())
    frame = _frame()
    frame[column] = frame[column].astype(object)
    frame.at[2, column] = value
    with pytest.raises(InvalidArgument) as info:
        store.write_frame("user", frame)
    assert needle in info.value.message and info.value.field == column
    assert store.read("user", ["a", "b", "c"]).found.tolist() == [False, False, False]


def test_out_of_range_and_incomplete_groups_are_rejected(settings: Settings, catalog, demo_users):
    store = open_store(settings, catalog)
    users, _ = demo_users
    bad = users.iloc[:3].copy()
    bad.loc[bad.index[1], "age"] = 200
    with pytest.raises(InvalidArgument, match=r"outside the allowed range"):
        store.write_frame("user", bad)
    with pytest.raises(InvalidArgument, match="incomplete") as info:
        store.write_frame("user", users[["user_id", "age"]].iloc[:3])
    assert info.value.field == "city"


def test_async_store_reads_what_the_sync_store_wrote(settings: Settings, catalog, demo_users):
    users, _ = demo_users
    open_store(settings, catalog).write_frame("user", users.iloc[:10])

    async def read() -> list[int]:
        client = connect_async(settings)
        store = AsyncRedisOnlineStore(client, catalog, settings.namespace)
        try:
            batch = await store.read("user", list(users.user_id[:10]), ["age"])
            assert await store.ping()
            return batch.values["age"].tolist()
        finally:
            await client.aclose()

    assert asyncio.run(read()) == users["age"].iloc[:10].tolist()


def test_store_clear_removes_only_its_namespace(settings: Settings, redis_url: str):
    store = open_store(settings, _catalog())
    store.write_frame("user", _frame())
    other = RedisOnlineStore(redis.Redis.from_url(redis_url), _catalog(), settings.namespace + "-other")
    other.write_frame("user", _frame())
    assert store.clear() == 3
    assert other.read("user", ["a"]).found.tolist() == [True]
    assert other.clear() == 3


def test_batch_matrix_gathers_what_each_column_says() -> None:
    """``FeatureBatch.matrix`` (the online encoder's path) equals ``values``/``valid``/``codes`` column by
    column: nulls, an expired group, an entity written one group at a time, an absent key."""
    import numpy as np

    from features.store import EntityCodec, FeatureBatch
    from features.store.checks import CONTRACT_CATALOG

    codec = EntityCodec(CONTRACT_CATALOG.groups_of("user"))
    frame, now = _frame(), 10**12
    expiry = {"slow": now + 60_000, "fast": now - 1}  # the fast group has expired
    blobs = {g: c.to_blobs(c.encode(frame, expiry[g])) for g, c in codec.groups.items()}
    whole = [b"".join(blobs[g][i] for g in codec.groups) for i in range(len(frame))]
    # c was written one group at a time: only "slow" so far (a short record, padded on read).
    records, exists = codec.decode([whole[0], whole[1], blobs["slow"][2], None])
    features = CONTRACT_CATALOG.resolve("user", None)
    batch = FeatureBatch("user", ["a", "b", "c", "zz"], features, codec, records, exists, now)
    for names in (["clicks", "x", "n", "flag"], ["tier"], ["tags"]):
        values, valid = batch.matrix(names)
        assert values.shape == valid.shape == (4, len(names))
        for j, name in enumerate(names):
            assert valid[:, j].tolist() == batch.valid[name].tolist(), name
            expected = batch.codes(name) if name == "tier" else batch.values[name]
            ok = valid[:, j]
            np.testing.assert_array_equal(values[ok, j], np.asarray(expected, dtype=values.dtype)[ok], err_msg=name)
    assert not batch.matrix(["clicks"])[1].any()  # expired everywhere
    assert batch.matrix(["x", "n"])[1].tolist() == [[True, True], [False, True], [True, False], [False, False]]
    with pytest.raises(TypeError, match="mix"):
        batch.matrix(["n", "tier"])
    with pytest.raises(KeyError):
        batch.matrix(["price"])  # another entity's feature
