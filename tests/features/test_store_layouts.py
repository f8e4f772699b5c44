"""features.store: segments and histories keep their key layouts, and every store maps a dead Redis
to StoreUnavailable through the one guard (``redis_unavailable``)."""

from __future__ import annotations

import asyncio
import socket

import pytest
import redis

from core.errors import NotFound, StoreUnavailable
from core.redis import connect, connect_async
from core.settings import Settings
from features.catalog import Catalog
from features.store import (
    AsyncHistoryStore,
    AsyncSegmentStore,
    HistoryStore,
    history_key,
    open_async_store,
    open_store,
    redis_unavailable,
)


def _dead(settings: Settings) -> Settings:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0", "redis_timeout_s": 0.2})


def test_histories_round_trip_under_their_key(settings: Settings) -> None:
    written = HistoryStore(connect(settings), settings.namespace).write_many(
        (f"u{i}", bytes([i % 256, 0, 255])) for i in range(1203))
    assert written == 1203
    raw = connect(settings).get(history_key(settings.namespace, "u7"))
    assert raw == bytes([7, 0, 255])

    async def read() -> tuple[bytes | None, bytes | None]:
        client = connect_async(settings)
        try:
            store = AsyncHistoryStore(client, settings.namespace)
            return await store.get("u1202"), await store.get("nobody")
        finally:
            await client.aclose()

    assert asyncio.run(read()) == (bytes([1202 % 256, 0, 255]), None)


def test_segments_replace_atomically_and_sample_in_order(settings: Settings) -> None:
    async def run() -> None:
        client = connect_async(settings)
        try:
            segments = AsyncSegmentStore(client, settings.namespace)
            await segments.save("vip", "(age#Greater Than#30)", ["u3", "u1", "u2"], engine="duckdb", source="x")
            await segments.save("vip", "(age#Greater Than#40)", ["u9", "u8"], engine="duckdb", source="y")
            got = await segments.get("vip")
            assert (got.logic, got.count, got.source) == ("(age#Greater Than#40)", 2, "y")
            assert await segments.sample("vip", 5) == ["u8", "u9"]
            assert segments.key("vip") == f"{settings.namespace}:targeting:segment:vip"
            with pytest.raises(NotFound):
                await segments.get("nobody")
        finally:
            await client.aclose()

    asyncio.run(run())


def test_every_store_maps_a_dead_redis_to_store_unavailable(settings: Settings, catalog: Catalog) -> None:
    dead = _dead(settings)
    with pytest.raises(StoreUnavailable, match="Redis is unavailable while reading features"):
        open_store(dead, catalog).read("user", ["u1"], ["age"])
    with pytest.raises(StoreUnavailable, match="while writing recommendation histories"):
        HistoryStore(connect(dead), dead.namespace).write_many([("u1", b"x")])

    async def run() -> None:
        client = connect_async(dead)
        try:
            with pytest.raises(StoreUnavailable, match="while reading features"):
                await open_async_store(dead, catalog).read("user", ["u1"], ["age"])
            with pytest.raises(StoreUnavailable, match="while reading the history of 'u1'"):
                await AsyncHistoryStore(client, dead.namespace).get("u1")
            with pytest.raises(StoreUnavailable, match="while saving segment 'vip'"):
                await AsyncSegmentStore(client, dead.namespace).save("vip", "", ["u1"], engine="duckdb", source="")
        finally:
            await client.aclose()

    asyncio.run(run())


def test_the_guard_passes_other_errors_through() -> None:
    with pytest.raises(redis.ResponseError), redis_unavailable("x"):
        raise redis.ResponseError("WRONGTYPE")
    with pytest.raises(StoreUnavailable, match="while doing y: gone"), redis_unavailable("doing y"):
        raise redis.ConnectionError("gone")
