"""The Redis backend of the online store.

Key layout — one string value per entity::

    {namespace}:{catalog fingerprint}:{entity}:{entity key}  →  the entity's group records, packed

* Each feature group has a fixed offset in the value (see ``_codec``). Writing a whole entity is
  one ``SET``; writing one group is ``SETRANGE`` at its offset, so groups update independently.
* Per-group TTL: every group record carries its own expiry time, and a read treats an expired
  group as missing; the key itself expires (``PEXPIRE``) after the longest group TTL, so memory is
  reclaimed once every group is stale.
* A read of any feature list is one ``MGET`` of the batch's keys — one round trip, as few keys as
  the batch has entities — decoded by one ``np.frombuffer``.
* The catalog fingerprint in every key means a schema change reads and writes a fresh namespace and
  never decodes a stale layout.
* On a Redis Cluster (``MDS_REDIS_MODE=cluster``) a multi-key command must stay in one slot. Entity
  keys there carry a bucket hash tag, ``{ns}:{fp}:{entity}:{{ns:entity:b}}:{key}`` with
  ``b = crc32(key) % buckets`` (``MDS_REDIS_CLUSTER_BUCKETS``, 12): the buckets spread over the
  masters, and a read of 100 users is one ``MGET`` per bucket touched (at most 12 instead of 100),
  sent as one pipeline per master (redis-py's ``mget_nonatomic``). A write is one cluster pipeline.
  A dead master fails only the reads that touch its slots, as :class:`StoreUnavailable`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Sequence

import pandas as pd
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from core.errors import InvalidArgument, preview
from features.catalog import Catalog, Feature
from features.store._batch import FeatureBatch
from features.store._codec import EntityCodec
from features.store.base import AsyncOnlineStore, OnlineStore, validate_keys
from features.store.namespace import delete_namespace
from features.store.unavailable import REDIS_DOWN, redis_unavailable

__all__ = ["RedisOnlineStore", "AsyncRedisOnlineStore"]

WRITE_CHUNK = 2_000  # entities per pipeline round trip
# Hash-tag buckets per entity on a Redis Cluster (MDS_REDIS_CLUSTER_BUCKETS): the per-command cost
# dominates a cluster read, so a 100-key read should touch a few slots, not 100. Measured on three
# masters: 3 or 12 buckets ~0.45 ms, 48 buckets ~1.2 ms, no buckets (a slot per key) ~1.1 ms p50.
CLUSTER_BUCKETS = 12


def check_feature_list(features: Sequence[str], catalog: Catalog, *, field: str = "features") -> None:
    """At most as many names as the catalog has features, none repeated (cheap: before any lookup)."""
    limit = len(catalog.features)
    if len(features) > limit:
        raise InvalidArgument(f"{len(features):,} features is more than the catalog's {limit}; name each feature "
                              "once", field=field)
    if len(set(features)) != len(features):
        seen: set[str] = set()
        for i, name in enumerate(features):
            if name in seen:
                raise InvalidArgument(f"feature {preview(name)} is named twice", field=f"{field}[{i}]")
            seen.add(name)


_SCAN_COUNT = 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


class _RedisLayout:
    """Key building, encoding and decoding shared by the sync and async stores (no I/O here)."""

    def __init__(self, catalog: Catalog, namespace: str = "mds", *, max_batch: int = 1000,
                 cluster_buckets: int | None = None) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self.max_batch = max_batch
        self.codecs = {e: EntityCodec(catalog.groups_of(e)) for e in catalog.entities if catalog.groups_of(e)}
        self._prefix = {e: f"{namespace}:{catalog.fingerprint}:{e}:".encode() for e in catalog.entities}
        # Cluster only: per entity, the prefix of each bucket, hash tag included.
        self._buckets = {e: [self._prefix[e] + f"{{{namespace}:{e}:{b}}}:".encode() for b in range(cluster_buckets)]
                         for e in catalog.entities} if cluster_buckets else None
        self._resolved: dict[tuple[str, tuple[str, ...]], list[Feature]] = {}

    @property
    def version_prefix(self) -> str:
        return f"{self.namespace}:{self.catalog.fingerprint}:"

    def key(self, entity: str, entity_key: str) -> bytes:
        return self._keys(entity, [entity_key])[0]

    def _entity_pattern(self, entity: str) -> bytes:
        """SCAN pattern of ``entity``'s records under this catalog (cluster bucket tags included)."""
        self.catalog.entity(entity)  # InvalidArgument naming the entity when the catalog lacks it
        return self._prefix[entity] + b"*"

    @staticmethod
    def _entity_key(redis_key: bytes) -> str:
        return redis_key.rsplit(b":", 1)[1].decode()  # entity keys never hold ':' (KEY_PATTERN)

    def _keys(self, entity: str, keys: Sequence[str]) -> list[bytes]:
        if self._buckets is None:
            prefix = self._prefix[entity]
            return [prefix + k.encode() for k in keys]
        buckets = self._buckets[entity]
        n = len(buckets)
        return [buckets[zlib.crc32(raw) % n] + raw for raw in (k.encode() for k in keys)]

    def prepare_read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None
                     ) -> tuple[list[Feature], list[bytes]]:
        validate_keys(keys, self.max_batch)
        if features:
            check_feature_list(features, self.catalog)
        wanted = (entity, tuple(features) if features else ())
        resolved = self._resolved.get(wanted)
        if resolved is None:
            resolved = self.catalog.resolve(entity, list(wanted[1]) or None)
            if len(self._resolved) < 1024:  # feature lists repeat; resolve (and validate) each once
                self._resolved[wanted] = resolved
        if entity not in self.codecs:
            raise InvalidArgument(f"entity {entity!r} has no features in the catalog", field="entity")
        return resolved, self._keys(entity, keys)

    def assemble(self, entity: str, keys: Sequence[str], features: list[Feature],
                 blobs: list[bytes | None]) -> FeatureBatch:
        codec = self.codecs[entity]
        records, exists = codec.decode(blobs)
        return FeatureBatch(entity, list(keys), features, codec, records, exists, _now_ms())

    def encode_frame(self, entity: str, frame: pd.DataFrame) -> tuple[list[str], list[str], list[list[bytes]]]:
        """(keys, groups written, per group the packed record of every row) for complete groups in ``frame``."""
        key_col = self.catalog.entity(entity).key
        if key_col not in frame.columns:
            raise InvalidArgument(f"the frame has no {key_col!r} column (the {entity} key)", field=key_col)
        keys = frame[key_col].astype(str).tolist()
        validate_keys(keys, max_batch=max(len(keys), 1), field=key_col)
        codec = self.codecs[entity]
        now = _now_ms()
        written: list[str] = []
        blobs: list[list[bytes]] = []
        for name, group_codec in codec.groups.items():
            names = [f.name for f in group_codec.features]
            have = [n for n in names if n in frame.columns]
            if not have:
                continue
            if len(have) != len(names):
                missing = sorted(set(names) - set(have))
                raise InvalidArgument(f"group {name!r} is incomplete: missing columns {missing}", field=missing[0])
            records = group_codec.encode(frame, now + group_codec.group.ttl_seconds * 1000)
            written.append(name)
            blobs.append(group_codec.to_blobs(records))
        if not written:
            raise InvalidArgument(f"the frame holds no complete feature group of entity {entity!r}", field="columns")
        return keys, written, blobs

    def write_commands(self, entity: str, frame: pd.DataFrame) -> Iterable[list[tuple[str, tuple[object, ...]]]]:
        """Validate and encode everything first, then yield pipeline-sized lists of commands."""
        keys, groups, blobs = self.encode_frame(entity, frame)
        codec = self.codecs[entity]
        whole = len(groups) == len(codec.groups)
        ttl_ms = codec.max_ttl_ms
        for start in range(0, len(keys), WRITE_CHUNK):
            commands: list[tuple[str, tuple[object, ...]]] = []
            for i in range(start, min(start + WRITE_CHUNK, len(keys))):
                key = self.key(entity, keys[i])
                if whole:
                    commands.append(("SET", (key, b"".join(b[i] for b in blobs), "PX", ttl_ms)))
                else:
                    for g, group_blobs in zip(groups, blobs, strict=True):
                        commands.append(("SETRANGE", (key, codec.offsets[g], group_blobs[i])))
                    commands.append(("PEXPIRE", (key, ttl_ms)))
            yield commands


class RedisOnlineStore(_RedisLayout, OnlineStore):
    """Synchronous Redis store (CLI, bulk loads, batch jobs, benchmarks)."""

    def __init__(self, client: redis.Redis, catalog: Catalog, namespace: str = "mds", *, max_batch: int = 1000,
                 cluster_buckets: int = CLUSTER_BUCKETS) -> None:
        cluster = isinstance(client, redis.cluster.RedisCluster)
        super().__init__(catalog, namespace, max_batch=max_batch, cluster_buckets=cluster_buckets if cluster else None)
        self.client = client
        # A cluster MGET must stay in one slot: split by slot (bucket), one pipeline per master.
        self._mget = client.mget_nonatomic if isinstance(client, redis.cluster.RedisCluster) else client.mget

    def read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None = None) -> FeatureBatch:
        resolved, redis_keys = self.prepare_read(entity, keys, features)
        with redis_unavailable("reading features"):
            blobs: list[bytes | None] = self._mget(redis_keys)  # type: ignore[assignment]
        return self.assemble(entity, keys, resolved, blobs)

    def entity_keys(self, entity: str, limit: int) -> list[str]:
        """Up to ``limit`` keys of ``entity`` stored under this catalog, in SCAN order (some, not the first)."""
        found: list[str] = []
        with redis_unavailable("listing stored keys"):
            for raw in self.client.scan_iter(match=self._entity_pattern(entity), count=_SCAN_COUNT):
                found.append(self._entity_key(raw))
                if len(found) >= limit:
                    break
        return found

    def write_frame(self, entity: str, frame: pd.DataFrame) -> int:
        # write_commands validates and encodes the whole frame before the first write: bad input
        # writes nothing.
        chunks = list(self.write_commands(entity, frame))
        with redis_unavailable("writing features"):
            for commands in chunks:
                pipe = self.client.pipeline(transaction=False)
                for name, args in commands:
                    pipe.execute_command(name, *args)
                pipe.execute()
        return len(frame)

    def clear(self) -> int:
        with redis_unavailable("clearing the namespace"):
            return delete_namespace(self.client, self.namespace)


class AsyncRedisOnlineStore(_RedisLayout, AsyncOnlineStore):
    """asyncio Redis store used inside the gRPC servers."""

    def __init__(self, client: redis.asyncio.Redis, catalog: Catalog, namespace: str = "mds",
                 *, max_batch: int = 1000, cluster_buckets: int = CLUSTER_BUCKETS) -> None:
        cluster = isinstance(client, redis.asyncio.cluster.RedisCluster)
        super().__init__(catalog, namespace, max_batch=max_batch, cluster_buckets=cluster_buckets if cluster else None)
        self.client = client
        self._mget = (client.mget_nonatomic if isinstance(client, redis.asyncio.cluster.RedisCluster)
                      else client.mget)

    async def read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None = None) -> FeatureBatch:
        resolved, redis_keys = self.prepare_read(entity, keys, features)
        with redis_unavailable("reading features"):
            blobs: list[bytes | None] = await self._mget(redis_keys)  # type: ignore[assignment]
        return self.assemble(entity, keys, resolved, blobs)

    async def entity_keys(self, entity: str, limit: int) -> list[str]:
        """Up to ``limit`` keys of ``entity`` stored under this catalog, in SCAN order (some, not the first)."""
        found: list[str] = []
        with redis_unavailable("listing stored keys"):
            async for raw in self.client.scan_iter(match=self._entity_pattern(entity), count=_SCAN_COUNT):
                found.append(self._entity_key(raw))
                if len(found) >= limit:
                    break
        return found

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except REDIS_DOWN:
            return False
