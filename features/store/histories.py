"""Recommendation histories in Redis: each user's recent interactions as one packed value.

Key: ``<namespace>:recommend:history:<user_id>``. The bytes are opaque here (the recommender packs
and unpacks them); this module owns only where they live and how they are read and written.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
import redis.asyncio

from features.store.unavailable import redis_unavailable

__all__ = ["AsyncHistoryStore", "HistoryStore", "history_key"]

_PIPELINE = 500


def history_key(namespace: str, user_id: str) -> str:
    return f"{namespace}:recommend:history:{user_id}"


class HistoryStore:
    """Synchronous writer (training jobs load every user's history)."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    def write_many(self, histories: Iterable[tuple[str, bytes]]) -> int:
        """Store each (user id, packed history); return how many were written."""
        n = 0
        with redis_unavailable("writing recommendation histories"):
            pipe = self.client.pipeline(transaction=False)
            for user_id, blob in histories:
                pipe.set(history_key(self.namespace, user_id), blob)
                n += 1
                if n % _PIPELINE == 0:
                    pipe.execute()
            pipe.execute()
        return n


class AsyncHistoryStore:
    """Asyncio reader used by the recommender service."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    async def get(self, user_id: str) -> bytes | None:
        """The user's packed history, None when there is none."""
        with redis_unavailable(f"reading the history of {user_id!r}"):
            blob = await self.client.get(history_key(self.namespace, user_id))
        return blob.encode() if isinstance(blob, str) else blob
