"""The models one uplift server serves: a :class:`ModelHolder` per name plus a few pinned versions."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from core.errors import ArtifactError, InvalidArgument, ModelNotFound
from features.catalog import Catalog
from models.registry import LoadedModel, ModelHolder, ModelManifest, ModelRegistry
from models.uplift.scoring import (
    CacheEncoder,
    compile_cache_encoder,
    predicts_on_event_loop,
    prefer_single_thread,
)

__all__ = ["ServedModel", "ServingModels"]

_PINNED_VERSIONS = 4  # explicitly requested non-serving versions kept loaded (A/B comparisons)


@dataclass(frozen=True, slots=True)
class ServedModel:
    loaded: LoadedModel
    entity: str  # the catalog entity whose features the model reads (ModelManifest.entity)
    cache_encoder: CacheEncoder | None = None  # encodes cache reads without pandas, when it applies
    on_event_loop: bool = False  # small predictions run on the event loop (no hand-off to a worker thread)

    @classmethod
    def of(cls, loaded: LoadedModel, entity: str, catalog: Catalog) -> ServedModel:
        """Tune ``loaded`` for online requests (in place) and compile what serving it needs."""
        prefer_single_thread(loaded.model)
        return cls(loaded, entity, compile_cache_encoder(loaded.model, catalog), predicts_on_event_loop(loaded.model))

    @property
    def manifest(self) -> ModelManifest:
        return self.loaded.manifest


class ServingModels:
    """Name → serving version. Loading (disk + unpickling) runs in a worker thread, off the event loop."""

    def __init__(self, registry: ModelRegistry, catalog: Catalog) -> None:
        self.registry = registry
        self.catalog = catalog
        self._holders: dict[str, ModelHolder] = {}
        self._pinned: OrderedDict[tuple[str, int], ServedModel] = OrderedDict()
        self._served: dict[tuple[str, int], ServedModel] = {}

    def _serve(self, loaded: LoadedModel) -> ServedModel:
        key = (loaded.name, loaded.version)
        served = self._served.get(key)
        if served is None or served.loaded is not loaded:
            served = ServedModel.of(loaded, loaded.manifest.entity(self.catalog), self.catalog)
            self._served = {k: v for k, v in self._served.items() if k[0] != loaded.name or k == key}
            self._served[key] = served
        return served

    def holder(self, name: str, *, field: str = "model") -> ModelHolder:
        if not name:
            raise InvalidArgument("a model name is required", field=field)
        holder = self._holders.get(name)
        if holder is None:
            ModelRegistry.check_name(name, field=field)
            self.registry.list_versions(name)  # ModelNotFound for unknown names; no holder kept for them
            holder = self._holders.setdefault(name, ModelHolder(self.registry, name, catalog=self.catalog))
        return holder

    async def get(self, name: str, version: int = 0, *, field: str = "model") -> ServedModel:
        if version < 0:
            raise InvalidArgument("version must be 0 (the serving one) or a positive number", field="version")
        holder = self.holder(name, field=field)
        current = holder.current if holder.loaded else await asyncio.to_thread(lambda: holder.current)
        if version in (0, current.version):
            return self._serve(current)
        pinned = self._pinned.get((name, version))
        if pinned is None:
            loaded = await asyncio.to_thread(self.registry.load, name, version, catalog=self.catalog)
            pinned = ServedModel.of(loaded, self._serve(current).entity, self.catalog)
            self._pinned[(name, version)] = pinned
            while len(self._pinned) > _PINNED_VERSIONS:
                self._pinned.popitem(last=False)
        else:
            self._pinned.move_to_end((name, version))
        return pinned

    def serving_version(self, name: str) -> int:
        holder = self._holders.get(name)
        return holder.current.version if holder is not None and holder.loaded else 0

    def last_error(self, name: str) -> str:
        holder = self._holders.get(name)
        return (holder.last_error or "") if holder is not None else ""

    async def load_error(self, name: str) -> str:
        """Why ``name`` serves nothing ("" when a version serves): loads it once if it never loaded."""
        holder = self._holders.get(name)
        if holder is None or not holder.loaded:
            try:
                holder = self.holder(name)
                await asyncio.to_thread(lambda: holder.current)
            except (ArtifactError, ModelNotFound) as exc:
                return exc.message
        return holder.last_error or ""

    async def reload(self, name: str, version: int = 0) -> tuple[int, int]:
        """Serve ``version`` (newest when 0); returns (previous, serving). Bad artifacts keep the old one."""
        if version < 0:
            raise InvalidArgument("version must be 0 (the newest) or a positive number", field="version")
        holder = self.holder(name, field="name")
        outcome = await asyncio.to_thread(holder.reload, version or None)
        return outcome.previous_version or 0, outcome.serving_version

    async def manifest(self, name: str, version: int = 0) -> ModelManifest:
        self.holder(name, field="name")
        if version < 0:
            raise InvalidArgument("version must be 0 or a positive number", field="version")
        if version == 0 and self.serving_version(name):
            version = self.serving_version(name)
        return await asyncio.to_thread(self.registry.manifest, name, version or None)

    def names(self) -> list[str]:
        return self.registry.list_models()

    def versions(self, name: str) -> list[int]:
        try:
            return self.registry.list_versions(name)
        except ModelNotFound:
            return []
