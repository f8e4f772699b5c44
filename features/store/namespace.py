"""Deleting a whole namespace: what tests, benchmarks and ``RedisOnlineStore.clear`` do when they are done."""

from __future__ import annotations

from typing import Any

__all__ = ["delete_namespace"]

_BATCH = 1000


def delete_namespace(client: Any, namespace: str) -> int:
    """UNLINK every key under ``{namespace}:``, scanned and deleted in batches; returns how many went.

    ``client`` is a synchronous redis-py client, single node or cluster (a cluster client scans every
    master and splits each UNLINK by slot). Errors are the caller's to translate (``redis_unavailable``).
    """
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{namespace}:*", count=_BATCH):
        batch.append(key)
        if len(batch) >= _BATCH:
            deleted += int(client.unlink(*batch))
            batch.clear()
    if batch:
        deleted += int(client.unlink(*batch))
    return deleted
