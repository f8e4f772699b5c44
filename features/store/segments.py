"""Named audience segments in Redis: the selected user ids plus the logic that chose them.

Keys: ``<namespace>:targeting:segment:<name>`` (a set of user ids) and ``...:<name>:meta`` (a hash:
logic, count, created_at, engine, source). A segment is replaced atomically.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass

import redis.asyncio

from core.errors import InvalidArgument, NotFound
from core.redis import is_cluster
from features.store.unavailable import REDIS_DOWN, redis_unavailable

__all__ = ["MAX_SEGMENT_SAMPLE", "AsyncSegmentStore", "Segment", "check_segment_name", "segment_key"]

MAX_SEGMENT_SAMPLE = 1000
_SEGMENT_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_\-]{0,63}\Z")  # \Z: '$' would accept a trailing newline
_ID_CHUNK = 10_000


def segment_key(namespace: str, name: str, *, cluster: bool = False) -> str:
    """On a Redis Cluster the name is a hash tag: a segment's set, staging set and meta share a slot."""
    return f"{namespace}:targeting:segment:{{{name}}}" if cluster else f"{namespace}:targeting:segment:{name}"


# KEYS: staging set, segment set, meta hash. ARGV: "1" when there are members, TTL (0: none), meta pairs.
_REPLACE_SEGMENT = """
if ARGV[1] == '1' then redis.call('RENAME', KEYS[1], KEYS[2]) else redis.call('DEL', KEYS[2]) end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 3))
if ARGV[2] ~= '0' then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    logic: str
    count: int
    created_at: float
    engine: str
    source: str


def check_segment_name(name: str, *, field: str = "segment_name") -> str:
    if not _SEGMENT_NAME.match(name or ""):
        raise InvalidArgument("segment name must be 1-64 letters, digits, '_' or '-', starting with a letter "
                              "or digit", field=field)
    return name


class AsyncSegmentStore:
    """Segments under ``<namespace>:targeting:segment:<name>`` (a set of user ids) and ``...:meta``."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str) -> None:
        self._r = client
        self._namespace = namespace
        self._cluster = is_cluster(client)
        self._replace = client.register_script(_REPLACE_SEGMENT)

    def key(self, name: str) -> str:
        return segment_key(self._namespace, name, cluster=self._cluster)

    async def save(self, name: str, logic: str, ids: list[str], *, engine: str, source: str,
                   ttl_s: int | None = None) -> Segment:
        """Replace segment ``name`` atomically: readers see the old members or the new, never a mix."""
        check_segment_name(name)
        key, staging = self.key(name), f"{self.key(name)}:staging:{time.time_ns()}"
        segment = Segment(name, logic, len(ids), time.time(), engine, source)
        meta = {"logic": logic, "count": str(len(ids)), "created_at": repr(segment.created_at),
                "engine": engine, "source": source}
        try:
            with redis_unavailable(f"saving segment {name!r}"):
                for i in range(0, len(ids), _ID_CHUNK):
                    await self._r.sadd(staging, *ids[i:i + _ID_CHUNK])
                # One script on keys of one slot: atomic on a single Redis and on a Redis Cluster alike.
                await self._replace(keys=[staging, key, f"{key}:meta"],
                                    args=["1" if ids else "0", int(ttl_s or 0),
                                          *(x for pair in meta.items() for x in pair)])
        finally:
            with contextlib.suppress(*REDIS_DOWN):
                await self._r.delete(staging)
        return segment

    async def get(self, name: str) -> Segment:
        check_segment_name(name)
        with redis_unavailable(f"reading segment {name!r}"):
            meta = await self._r.hgetall(f"{self.key(name)}:meta")
        if not meta:
            raise NotFound(f"no segment named {name!r}")
        m = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
             for k, v in meta.items()}
        return Segment(name, m["logic"], int(m["count"]), float(m["created_at"]), m["engine"], m["source"])

    async def sample(self, name: str, n: int) -> list[str]:
        """The first ``n`` members in sorted order (deterministic)."""
        if not 0 <= n <= MAX_SEGMENT_SAMPLE:
            raise InvalidArgument(f"sample size must be 0..{MAX_SEGMENT_SAMPLE}; got {n}", field="sample_size")
        if n == 0:
            return []
        return sorted(await self.members(name))[:n]

    async def members(self, name: str) -> set[str]:
        with redis_unavailable(f"reading segment {name!r}"):
            raw = await self._r.smembers(self.key(check_segment_name(name)))
        return {m.decode() if isinstance(m, bytes) else m for m in raw}
