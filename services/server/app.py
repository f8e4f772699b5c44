"""The one server bootstrap every MDS service runs in.

``MDSServer`` wires a grpc.aio server with the requested services, the standard health service
(NOT_SERVING during shutdown), reflection (for grpcurl), the MDS interceptor (auth, errors, access
log, metrics), message-size and keepalive options, optional TLS, and graceful shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from core.redis import describe_location
from core.settings import Settings
from features.catalog import Catalog
from services.registry import SERVICES, load_register
from services.server._metrics import serve_metrics
from services.server.context import ServiceContext
from services.server.interceptors import MDSInterceptor

__all__ = ["MDSServer", "serve_forever"]

log = logging.getLogger("mds.server")


class MDSServer:
    """A running (or ready to run) MDS gRPC server hosting ``services`` on one port."""

    def __init__(self, settings: Settings, services: Sequence[str] | None = None,
                 catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.services = list(services or SERVICES)
        unknown = [s for s in self.services if s not in SERVICES]
        if unknown:
            raise ValueError(f"unknown services {unknown}; choose from {', '.join(SERVICES)}")
        self._catalog = catalog
        self.port: int | None = None
        self.metrics_port: int | None = None
        self.service_names: list[str] = []
        self.context: ServiceContext | None = None
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.port}"

    async def start(self) -> None:
        s = self.settings
        options = [
            ("grpc.max_send_message_length", s.max_message_bytes),
            ("grpc.max_receive_message_length", s.max_message_bytes),
            ("grpc.keepalive_time_ms", int(s.keepalive_time_s * 1000)),
            ("grpc.keepalive_timeout_ms", int(s.keepalive_timeout_s * 1000)),
            ("grpc.http2.min_ping_interval_without_data_ms", 5000),
            ("grpc.so_reuseport", 0),
        ]
        # Settings, catalog and population are checked before anything binds: never half a server.
        self.context = ServiceContext.create(s, self._catalog)
        tokens = [t.get_secret_value() for t in s.auth_tokens]
        server = grpc.aio.server(interceptors=[MDSInterceptor(tokens)], options=options)
        for name in self.services:
            self.service_names.append(load_register(name)(server, self.context))
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            [*self.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME], server)
        bind = f"{s.host}:{s.port}"
        if s.tls_cert_file and s.tls_key_file:
            creds = grpc.ssl_server_credentials([(s.tls_key_file.read_bytes(), s.tls_cert_file.read_bytes())])
            self.port = server.add_secure_port(bind, creds)
        else:
            self.port = server.add_insecure_port(bind)
        if not self.port:
            raise OSError(f"could not bind {bind}")
        await server.start()
        self._server = server
        for name in ["", *self.service_names]:
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if s.metrics_port is not None:
            self.metrics_port = serve_metrics(s.host, s.metrics_port)
        ctx = self.context
        population = (f"{ctx.population.location} ({ctx.population.rows:,} {ctx.population.entity}s)"
                      if ctx.population else "none yet")
        log.info("serving %s on %s (Redis: %s; catalog %s %s; population: %s)", ", ".join(self.service_names),
                 self.address, describe_location(s), ctx.catalog.name, ctx.catalog.fingerprint, population)

    async def stop(self, grace: float | None = None) -> None:
        """Flip health to NOT_SERVING, let in-flight calls finish within the grace period, close."""
        if self._server is None:
            return
        await self._health.enter_graceful_shutdown()
        await self._server.stop(self.settings.grace_period_s if grace is None else grace)
        if self.context is not None:
            await self.context.close()  # shutdown hooks, then the Redis connections
        self._server = None

    async def wait(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()


async def serve_forever(server: MDSServer, on_started: Callable[[], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    await server.start()
    if on_started is not None:
        on_started()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down (grace %.1fs)", server.settings.grace_period_s)
    await server.stop()
