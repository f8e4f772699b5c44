"""Every gRPC service MDS can serve: name → module with ``register(server, ctx) -> str``.

A servicer module may also define ``EXAMPLE_CALL = (full method name, JSON body)`` (printed by
``mds serve``) and ``prepare_demo(settings)`` (trains/loads what the demo world needs; run by
``make serve`` after seeding).

``mds serve --services a,b`` picks from these names; ``make serve`` serves all of them on one port.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import grpc

    from services.server.context import ServiceContext

__all__ = ["SERVICES", "demo_preparers", "example_call", "load_register"]

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


def example_call(name: str) -> tuple[str, str] | None:
    return getattr(importlib.import_module(SERVICES[name]), "EXAMPLE_CALL", None)


def demo_preparers() -> dict[str, Callable[..., object]]:
    found = {}
    for name, module in SERVICES.items():
        prepare = getattr(importlib.import_module(module), "prepare_demo", None)
        if prepare is not None:
            found[name] = prepare
    return found
