"""The one server bootstrap every MDS service runs in.

``MDSServer`` wires a grpc.aio server with the requested services, the standard health service,
reflection (for grpcurl), the MDS interceptor (auth, errors, access log, metrics), message-size and
keepalive options, optional TLS, and graceful shutdown.

Health is per service and follows its dependencies: every ``HEALTH_INTERVAL_S`` the server pings
Redis and runs the probes servicers registered (``ctx.add_health_probe(service name, probe)``, e.g.
"a model loads"); a service is NOT_SERVING while Redis (when it needs it) or one of its probes fails,
and SERVING again once they pass. The overall status ``""`` is SERVING only when every hosted service
is. During shutdown everything is NOT_SERVING.

TLS fails closed: a certificate without a key (or a key without a certificate) refuses to start.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from core.errors import InvalidArgument, MDSError
from core.redis import describe_location
from core.settings import Settings
from features.catalog import Catalog
from features.population import population_entity
from models.registry import ModelRegistry
from services.registry import SERVICES, ExampleData, load_register
from services.server._metrics import serve_metrics
from services.server.context import ServiceContext
from services.server.interceptors import MDSInterceptor

__all__ = ["HEALTH_INTERVAL_S", "MDSServer", "REDIS_FREE_SERVICES", "check_tls", "serve_forever"]

log = logging.getLogger("mds.server")

HEALTH_INTERVAL_S = 1.0
# Services none of whose RPCs touch Redis (experiment analysis works on the request alone).
REDIS_FREE_SERVICES = frozenset({"experiments"})


def check_tls(settings: Settings) -> tuple[bytes, bytes] | None:
    """(key, certificate) PEM bytes when TLS is configured, None for plaintext; half a pair refuses to start."""
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        given, missing = ("MDS_TLS_CERT_FILE", "MDS_TLS_KEY_FILE") if key is None else \
            ("MDS_TLS_KEY_FILE", "MDS_TLS_CERT_FILE")
        raise InvalidArgument(f"{given} is set but {missing} is not; TLS needs both (refusing to serve "
                              "plaintext)", field=missing)
    for path, name in ((cert, "MDS_TLS_CERT_FILE"), (key, "MDS_TLS_KEY_FILE")):
        if not path.is_file():
            raise InvalidArgument(f"{name}: no such file {path}", field=name)
    return key.read_bytes(), cert.read_bytes()


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
        self._health_task: asyncio.Task[None] | None = None
        self._health_state: dict[str, health_pb2.HealthCheckResponse.ServingStatus.ValueType] = {}
        self._tls = check_tls(settings)  # before anything binds: half a TLS pair must never serve

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
        self._short_names: dict[str, str] = {}
        for name in self.services:
            full_name = load_register(name)(server, self.context)
            self.service_names.append(full_name)
            self._short_names[full_name] = name
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            [*self.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME], server)
        bind = f"{s.host}:{s.port}"
        if self._tls is not None:
            self.port = server.add_secure_port(bind, grpc.ssl_server_credentials([self._tls]))
        else:
            self.port = server.add_insecure_port(bind)
        if not self.port:
            raise OSError(f"could not bind {bind}")
        await server.start()
        self._server = server
        # What is loaded now (modules, catalog, models: ~300k objects) lives as long as the server; out
        # of the collector's sight, a full collection set off by a big request no longer scans it (one
        # such collection held the event loop 0.6 s, stalling every other call).
        gc.freeze()
        await self._check_health()
        self._health_task = asyncio.create_task(self._watch_health(), name="mds-health")
        if s.metrics_port is not None:
            self.metrics_port = serve_metrics(s.host, s.metrics_port)
        ctx = self.context
        population = (f"{ctx.population.location} ({ctx.population.rows:,} {ctx.population.entity}s)"
                      if ctx.population else "none yet")
        log.info("serving %s on %s (Redis: %s; catalog %s %s; population: %s)", ", ".join(self.service_names),
                 self.address, describe_location(s), ctx.catalog.name, ctx.catalog.fingerprint, population)

    async def example_data(self, keys: int = 4) -> ExampleData:
        """What example calls are built from: the served catalog, real keys, the registered models."""
        ctx = self.context
        if ctx is None:
            raise RuntimeError("example_data() before start()")
        try:
            sample = await ctx.sample_keys(keys)
        except MDSError as exc:  # Redis down or an unreadable population: examples with placeholders
            log.warning("no example keys: %s", exc)
            sample = []
        models = await asyncio.to_thread(ModelRegistry.from_settings(ctx.settings).list_models)
        return ExampleData(ctx.catalog, population_entity(ctx.catalog), sample, models)

    async def stop(self, grace: float | None = None) -> None:
        """Flip health to NOT_SERVING, let in-flight calls finish within the grace period, close."""
        if self._server is None:
            return
        if self._health_task is not None:
            self._health_task.cancel()
            await asyncio.gather(self._health_task, return_exceptions=True)
            self._health_task = None
        await self._health.enter_graceful_shutdown()
        await self._server.stop(self.settings.grace_period_s if grace is None else grace)
        if self.context is not None:
            await self.context.close()  # shutdown hooks, then the Redis connections
        self._server = None

    async def _redis_answers(self) -> bool:
        assert self.context is not None
        return await self.context.redis_answers(self.settings.redis_timeout_s * 2)

    async def _check_health(self) -> None:
        """Set each service's status from Redis and its probes; log every change."""
        assert self.context is not None
        redis_ok = await self._redis_answers()
        probes = self.context.health_probes
        overall = health_pb2.HealthCheckResponse.SERVING
        for full_name in self.service_names:
            reason = None if redis_ok or self._short_names[full_name] in REDIS_FREE_SERVICES else "Redis is down"
            for probe in probes.get(full_name, []) if reason is None else []:
                try:
                    reason = await probe()
                except Exception as exc:  # a probe that fails is a failing dependency, not a crash
                    reason = f"health probe failed: {type(exc).__name__}"
                if reason is not None:
                    break
            status = health_pb2.HealthCheckResponse.SERVING if reason is None else \
                health_pb2.HealthCheckResponse.NOT_SERVING
            if reason is not None:
                overall = health_pb2.HealthCheckResponse.NOT_SERVING
            await self._set_health(full_name, status, reason)
        await self._set_health("", overall, None)

    async def _set_health(self, name: str, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType,
                          reason: str | None) -> None:
        previous = self._health_state.get(name)
        if previous == status:
            return
        self._health_state[name] = status
        await self._health.set(name, status)
        if name and (previous is not None or reason is not None):  # changes, not the first SERVING
            log.warning("health: %s is %s%s", name, health_pb2.HealthCheckResponse.ServingStatus.Name(status),
                        f" ({reason})" if reason else "")

    async def _watch_health(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_INTERVAL_S)
            try:
                await self._check_health()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("health check failed")

    async def wait(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()


async def serve_forever(server: MDSServer, on_started: Callable[[], Awaitable[None]] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    # Handlers first: a SIGTERM that arrives while the banner is still being built must stop us gracefully.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    if on_started is not None:
        await on_started()
    await stop.wait()
    log.info("shutting down (grace %.1fs)", server.settings.grace_period_s)
    await server.stop()
