"""Run an :class:`MDSServer` on its own event loop in a background thread.

Used by tests, benchmarks and notebooks that need a real server on a real socket next to
synchronous code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from core.settings import Settings
from features.catalog import Catalog
from services.server.app import MDSServer

__all__ = ["BackgroundServer"]

T = TypeVar("T")


class BackgroundServer:
    def __init__(self, settings: Settings, services: Sequence[str] | None = None,
                 catalog: Catalog | None = None) -> None:
        self.server = MDSServer(settings, services, catalog)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mds-server", daemon=True)

    @property
    def address(self) -> str:
        return self.server.address

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run ``coro`` on the server's event loop (where its asyncio Redis clients live); its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout)

    def start(self) -> BackgroundServer:
        self._thread.start()
        self.run(self.server.start())
        return self

    def stop(self, grace: float | None = 0.5) -> None:
        if self._thread.is_alive():
            try:
                self.run(self.server.stop(grace))
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
