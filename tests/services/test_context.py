"""ServiceContext: typed resources from settings, one build per resource, shutdown hooks and resource
closers on stop."""

from __future__ import annotations

import asyncio
import threading

from core.settings import Settings
from features.catalog import Catalog
from features.store import AsyncHistoryStore, AsyncRedisOnlineStore, AsyncSegmentStore, CampaignStores
from features.store.campaigns import BULK_READ_BATCH
from services.server import BackgroundServer
from services.server.context import ServiceContext


class _Model:
    def __init__(self) -> None:
        self.built_on = threading.get_ident()


def test_context_carries_typed_resources_and_builds_each_once(settings: Settings, catalog: Catalog) -> None:
    built: list[_Model] = []

    def build() -> _Model:
        model = _Model()
        built.append(model)
        return model

    async def run() -> None:
        ctx = ServiceContext.create(settings)
        assert ctx.catalog == catalog  # MDS_CATALOG unset: the shipped demo catalog
        assert isinstance(ctx.store, AsyncRedisOnlineStore) and isinstance(ctx.segments, AsyncSegmentStore)
        assert isinstance(ctx.histories, AsyncHistoryStore)
        assert ctx.population is None  # nothing seeded in this test's data_dir
        assert ctx.models_dir == settings.data_dir / "models"
        models = await asyncio.gather(*(ctx.resource(_Model, build) for _ in range(8)))
        assert len(built) == 1 and all(m is built[0] for m in models)
        assert built[0].built_on != threading.get_ident()  # built off the event loop
        closed: list[str] = []

        async def hook() -> None:
            closed.append("hook")

        ctx.on_shutdown(hook)
        # A resource given ``close`` is released at shutdown, once, however many callers asked for it.
        stores = await asyncio.gather(*(ctx.resource(CampaignStores, lambda: CampaignStores.open(settings, catalog),
                                                     close=lambda s: closed.append("stores") or s.close())
                                        for _ in range(4)))
        assert all(s is stores[0] for s in stores) and stores[0].features.max_batch == BULK_READ_BATCH
        assert stores[0].campaigns.count() == 0  # a working synchronous client until then
        await ctx.close()
        assert closed == ["hook", "stores"]

    asyncio.run(run())


def test_server_stop_runs_the_shutdown_hooks(settings: Settings) -> None:
    server = BackgroundServer(settings, ["features"]).start()
    ran = threading.Event()

    async def hook() -> None:
        ran.set()

    assert server.server.context is not None
    server.server.context.on_shutdown(hook)
    server.stop()
    assert ran.is_set()
