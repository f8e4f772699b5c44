"""The one place where "Redis is unavailable" is recognised.

Every Redis call of the stores (feature records, segments, histories, allocation state) runs inside
:func:`redis_unavailable`, which turns a refused connection, a timeout, a lost socket or a rejected
login into :class:`core.errors.StoreUnavailable` (gRPC UNAVAILABLE; the caller may retry). It is a
plain context manager, so the same guard wraps synchronous and ``await``-ed calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from core.errors import StoreUnavailable

__all__ = ["REDIS_DOWN", "redis_unavailable"]

# AuthenticationError and BusyLoadingError are ConnectionErrors; OSError covers sockets and unix paths;
# ReadOnlyError is a replica answering during a failover; on a Redis Cluster, CLUSTERDOWN, an uncovered
# slot or a node that stopped answering are cluster errors.
REDIS_DOWN: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError,
                                                redis.exceptions.ReadOnlyError, ConnectionError, TimeoutError,
                                                OSError, redis.exceptions.ClusterError,
                                                redis.exceptions.RedisClusterException)


@contextmanager
def redis_unavailable(doing: str = "") -> Iterator[None]:
    """Run the block; Redis being down becomes StoreUnavailable saying what was being done."""
    try:
        yield
    except REDIS_DOWN as exc:
        raise StoreUnavailable(f"Redis is unavailable{' while ' + doing if doing else ''}: {exc}") from exc
