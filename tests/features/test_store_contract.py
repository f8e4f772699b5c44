"""Every online-store backend passes the same contract (features.store.checks)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pandas as pd

from core.redis import connect_async
from core.settings import Settings
from features.catalog import Catalog
from features.store import AsyncRedisOnlineStore, FeatureBatch, OnlineStore, RedisOnlineStore, open_store
from features.store.checks import check_online_store


def test_redis_store_passes_the_contract(settings: Settings):
    check_online_store(lambda catalog: open_store(settings, catalog))


class _AsyncReads(OnlineStore):
    """Reads through the asyncio backend, writes through the sync one: same Redis, same layout."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self._sync: RedisOnlineStore = open_store(settings, catalog)
        self._settings = settings
        self.catalog, self.max_batch, self.namespace = catalog, self._sync.max_batch, settings.namespace

    def read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None = None) -> FeatureBatch:
        async def go() -> FeatureBatch:
            client = connect_async(self._settings)
            try:
                return await AsyncRedisOnlineStore(client, self.catalog, self.namespace).read(entity, keys, features)
            finally:
                await client.aclose()

        return asyncio.run(go())

    def write_frame(self, entity: str, frame: pd.DataFrame) -> int:
        return self._sync.write_frame(entity, frame)

    def clear(self) -> int:
        return self._sync.clear()


def test_async_redis_store_passes_the_contract(settings: Settings):
    check_online_store(lambda catalog: _AsyncReads(settings, catalog))
