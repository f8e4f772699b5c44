"""Every gRPC service MDS can serve: name → module with ``register(server, ctx) -> str``.

A servicer module may also define ``example_call(data: ExampleData) -> (full method name, JSON body) | None``
(printed by ``mds serve``; ``data`` holds the configured catalog, real keys and registered models, so
examples never name a demo id), a fixed ``EXAMPLE_CALL = (method, body)`` when the call needs none of
that, and ``prepare_demo(settings)`` (trains/loads what the demo world needs; run by ``make serve``
after seeding).

``mds serve --services a,b`` picks from these names; ``make serve`` serves all of them on one port.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import grpc

    from features.catalog import Catalog
    from services.server.context import ServiceContext

__all__ = ["SERVICES", "ExampleData", "demo_preparers", "example_call", "load_register"]

SERVICES: dict[str, str] = {
    "features": "services.features.servicer",
    "uplift": "services.uplift.servicer",
    "experiments": "services.experiments.servicer",
    "targeting": "services.targeting.servicer",
    "recommend": "services.recommend.servicer",
    "allocation": "services.allocation.servicer",
    "campaign": "services.campaign.servicer",
}


def load_register(name: str) -> Callable[[grpc.aio.Server, ServiceContext], str]:
    try:
        module = SERVICES[name]
    except KeyError:
        raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICES)}") from None
    return importlib.import_module(module).register  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ExampleData:
    """What ``mds serve``'s example calls are built from: the served catalog, its population entity,
    real keys of that entity (the population's first rows, else keys in the store; empty when there are
    none yet) and the registered model names."""

    catalog: Catalog
    entity: str
    keys: list[str]
    models: list[str]

    def some_keys(self, n: int) -> list[str]:
        """Up to ``n`` real keys, or one placeholder naming the entity's key column when there are none."""
        return self.keys[:n] or [f"<{self.catalog.entity(self.entity).key}>"]

    def features(self, n: int) -> list[str]:
        """The first ``n`` features of the entity, in catalog order."""
        return [f.name for f in self.catalog.features_of(self.entity)][:n]

    def model(self) -> str:
        """A registered model's name, or a placeholder when none is registered yet."""
        return self.models[0] if self.models else "<model>"

    def logic(self) -> str:
        """One condition in the targeting logic language: the entity's first ranged feature over its whole
        range, else its first categorical feature's first value; a placeholder when it has neither."""
        from features.catalog import DType
        from models.targeting.logic import whole_range_logic

        logic = whole_range_logic(self.catalog, self.entity)
        if logic is not None:
            return logic
        for f in self.catalog.features_of(self.entity):
            if f.dtype == DType.CATEGORY and f.values:
                return f"({f.name}#Equal To#{f.values[0]})"
        return "<logic>"


def example_call(name: str, data: ExampleData) -> tuple[str, str] | None:
    """(full method name, JSON body) of one example call of service ``name``, or None."""
    module = importlib.import_module(SERVICES[name])
    build = getattr(module, "example_call", None)
    if build is not None:
        return build(data)  # type: ignore[no-any-return]
    return getattr(module, "EXAMPLE_CALL", None)


def demo_preparers() -> dict[str, Callable[..., object]]:
    found = {}
    for name, module in SERVICES.items():
        prepare = getattr(importlib.import_module(module), "prepare_demo", None)
        if prepare is not None:
            found[name] = prepare
    return found
