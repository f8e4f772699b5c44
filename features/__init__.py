"""Features: the typed catalog, the configured user table, the synthetic demo world and the Redis online store.

Where a feature is read: :mod:`features.store` (``RedisOnlineStore.read`` / ``AsyncRedisOnlineStore.read``).
The user table audience selection runs on: :mod:`features.population` (``load_population``).
"""

from features._catalog_check import CatalogProblem, check_catalog, check_catalog_file, load_checked_catalog
from features.catalog import (
    Catalog,
    DType,
    Entity,
    Feature,
    FeatureGroup,
    configured_catalog,
    demo_catalog,
    load_catalog,
)

__all__ = ["Catalog", "CatalogProblem", "DType", "Entity", "Feature", "FeatureGroup", "check_catalog",
           "check_catalog_file", "configured_catalog", "demo_catalog", "load_catalog", "load_checked_catalog"]
