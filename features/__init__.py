"""Features: the typed catalog, the synthetic demo world and the Redis online store.

Where a feature is read: :mod:`features.store` (``RedisOnlineStore.read`` / ``AsyncRedisOnlineStore.read``).
"""

from features.catalog import Catalog, DType, Entity, Feature, FeatureGroup, demo_catalog, load_catalog

__all__ = ["Catalog", "DType", "Entity", "Feature", "FeatureGroup", "demo_catalog", "load_catalog"]
