"""Everything MDS keeps in Redis, one module per concern, each owning its key layout.

* feature records: one abstract interface (``base``), one module per backend (``redis_store``);
  :func:`open_store` builds the backend the settings select;
* ``segments``: named audience segments (``<ns>:targeting:segment:<name>``);
* ``histories``: recommendation histories (``<ns>:recommend:history:<user_id>``);
* ``allocation_state``: the allocation controller's shared budget state (``<ns>:alloc:<controller>:...``);
* ``campaigns``: campaign plans, members and outcomes (``<ns>:campaign:...``) and :class:`CampaignStores`,
  the synchronous stores a campaign book works on;
* ``namespace``: deleting every key of a namespace (:func:`delete_namespace`);
* ``unavailable``: the one place "Redis is unavailable" is recognised (:func:`redis_unavailable`).
"""

from features.store._batch import FeatureBatch
from features.store._codec import EntityCodec, GroupCodec
from features.store._open import open_async_store, open_store
from features.store.base import KEY_PATTERN, AsyncOnlineStore, OnlineStore, validate_keys
from features.store.campaigns import CampaignStore, CampaignStores
from features.store.histories import AsyncHistoryStore, HistoryStore, history_key
from features.store.namespace import delete_namespace
from features.store.redis_store import AsyncRedisOnlineStore, RedisOnlineStore, check_feature_list
from features.store.segments import AsyncSegmentStore, Segment, check_segment_name
from features.store.unavailable import redis_unavailable

__all__ = [
    "KEY_PATTERN",
    "AsyncHistoryStore",
    "AsyncOnlineStore",
    "AsyncRedisOnlineStore",
    "AsyncSegmentStore",
    "CampaignStore",
    "CampaignStores",
    "EntityCodec",
    "FeatureBatch",
    "GroupCodec",
    "HistoryStore",
    "OnlineStore",
    "RedisOnlineStore",
    "Segment",
    "check_feature_list",
    "check_segment_name",
    "delete_namespace",
    "history_key",
    "open_async_store",
    "open_store",
    "redis_unavailable",
    "validate_keys",
]
