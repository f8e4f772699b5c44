"""What every servicer gets: settings, catalog, the async feature store and its Redis client."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio

from core.redis import connect_async
from core.settings import Settings
from features.catalog import Catalog, demo_catalog
from features.store import AsyncRedisOnlineStore

__all__ = ["ServiceContext"]


@dataclass
class ServiceContext:
    settings: Settings
    catalog: Catalog
    redis: redis.asyncio.Redis
    store: AsyncRedisOnlineStore
    # Servicers may park long-lived objects here (loaded models, controllers) for shutdown hooks.
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def models_dir(self) -> Path:
        return self.settings.models_dir

    @classmethod
    def create(cls, settings: Settings, catalog: Catalog | None = None) -> ServiceContext:
        """Build inside the server's event loop (asyncio Redis connections bind to their loop)."""
        catalog = catalog or demo_catalog()
        client = connect_async(settings)
        store = AsyncRedisOnlineStore(client, catalog, settings.namespace, max_batch=settings.max_batch,
                                      cluster_buckets=settings.redis_cluster_buckets)
        return cls(settings=settings, catalog=catalog, redis=client, store=store)

    async def close(self) -> None:
        await self.redis.aclose()
