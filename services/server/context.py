"""What every servicer gets: typed resources built once from the settings.

A servicer reads ``ctx.catalog``, ``ctx.store`` (feature records), ``ctx.segments``,
``ctx.histories``, ``ctx.population`` and ``ctx.models_dir``; long-lived objects it builds itself
(a loaded model, a controller, the synchronous stores that work in worker threads uses, e.g.
:class:`features.store.CampaignStores`) go through :meth:`ServiceContext.resource` so each is built
once per process and closed at shutdown; other cleanup goes to :meth:`ServiceContext.on_shutdown`.
The Redis key layouts live in :mod:`features.store`; no servicer holds a raw Redis client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

import redis.asyncio

from core.redis import connect_async
from core.settings import Settings
from features.catalog import Catalog, configured_catalog
from features.population import PopulationTable, load_population, population_entity
from features.store import AsyncHistoryStore, AsyncRedisOnlineStore, AsyncSegmentStore, open_async_store

__all__ = ["HealthProbe", "ServiceContext", "ShutdownHook"]

T = TypeVar("T")
ShutdownHook = Callable[[], Awaitable[None]]
# None while the dependency is fine, else why the service cannot serve ("no version of coupon loads").
HealthProbe = Callable[[], Awaitable[str | None]]


@dataclass
class ServiceContext:
    settings: Settings
    catalog: Catalog
    store: AsyncRedisOnlineStore           # feature records
    segments: AsyncSegmentStore            # named audiences
    histories: AsyncHistoryStore           # recommendation histories
    population: PopulationTable | None     # None: MDS_POPULATION unset and the demo world not seeded yet
    _client: redis.asyncio.Redis = field(repr=False)
    shutdown_hooks: list[ShutdownHook] = field(default_factory=list)
    health_probes: dict[str, list[HealthProbe]] = field(default_factory=dict)  # full service name -> probes
    _resources: dict[type, object] = field(default_factory=dict, repr=False)
    _building: dict[type, asyncio.Lock] = field(default_factory=dict, repr=False)

    @property
    def models_dir(self) -> Path:
        return self.settings.models_dir

    @classmethod
    def create(cls, settings: Settings, catalog: Catalog | None = None) -> ServiceContext:
        """Build inside the server's event loop (asyncio Redis connections bind to their loop).

        The catalog (MDS_CATALOG), the population (MDS_POPULATION) and the Redis URL are all checked
        here, before any port is bound: a bad one is an InvalidArgument naming the setting, file and
        column, and nothing is served.
        """
        catalog = catalog or configured_catalog(settings)
        population = load_population(settings, catalog)
        client = connect_async(settings)
        return cls(
            settings=settings, catalog=catalog, store=open_async_store(settings, catalog, client=client),
            segments=AsyncSegmentStore(client, settings.namespace),
            histories=AsyncHistoryStore(client, settings.namespace),
            population=population, _client=client)

    async def resource(self, kind: type[T], build: Callable[[], T], *,
                       close: Callable[[T], object] | None = None) -> T:
        """The process's one ``kind`` (a loaded model, a controller, synchronous stores): built on first
        use by ``build`` in a worker thread (model loads and first Redis round trips stay off the event
        loop); ``close(resource)``, when given, runs in a worker thread at shutdown, before Redis closes."""
        found = self._resources.get(kind)
        if found is not None:
            return cast(T, found)
        async with self._building.setdefault(kind, asyncio.Lock()):
            found = self._resources.get(kind)
            if found is None:
                built = await asyncio.to_thread(build)
                self._resources[kind] = found = built
                if close is not None:
                    async def release() -> None:
                        await asyncio.to_thread(close, built)

                    self.on_shutdown(release)
        return cast(T, found)

    async def sample_keys(self, limit: int) -> list[str]:
        """Up to ``limit`` real keys of the population's entity: the population's first rows when there is
        one, else keys found in the feature store; empty when neither holds any yet."""
        if self.population is not None:
            return await asyncio.to_thread(self.population.head_keys, limit)
        return await self.store.entity_keys(population_entity(self.catalog), limit)

    def on_shutdown(self, hook: ShutdownHook) -> None:
        """Run ``hook`` when the server stops (after in-flight calls end, before Redis closes)."""
        self.shutdown_hooks.append(hook)

    def add_health_probe(self, service: str, probe: HealthProbe) -> None:
        """Report ``service`` NOT_SERVING while ``probe`` names a reason (a model that does not load)."""
        self.health_probes.setdefault(service, []).append(probe)

    async def redis_answers(self, timeout_s: float) -> bool:
        """Whether Redis answers a PING within ``timeout_s`` (health only: any failure means down)."""
        try:
            return bool(await asyncio.wait_for(self._client.ping(), timeout_s))
        except Exception:
            return False

    async def close(self) -> None:
        for hook in self.shutdown_hooks:
            await hook()
        self.shutdown_hooks.clear()
        await self._client.aclose()
