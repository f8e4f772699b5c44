"""The Redis backend of the online store.

Key layout — one string value per (feature group, entity)::

    {namespace}:{catalog fingerprint}:{group}:{entity key}  →  packed record (see _codec)

* A read of any feature list is one ``MGET`` of (groups touched × keys) values — one round trip —
  decoded by one ``np.frombuffer`` per group.
* Each group's values carry that group's TTL (``SET ... PX``), so groups expire independently.
* The catalog fingerprint in every key means a schema change reads and writes a fresh namespace and
  never decodes a stale layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import redis
import redis.asyncio

from core.errors import InvalidArgument, StoreUnavailable
from features.catalog import Catalog, DType, Feature, FeatureGroup
from features.store._batch import FeatureBatch
from features.store._codec import GroupCodec
from features.store.base import AsyncOnlineStore, OnlineStore, validate_keys

__all__ = ["RedisOnlineStore", "AsyncRedisOnlineStore"]

_REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError, OSError)
WRITE_CHUNK = 2_000  # SETs per pipeline round trip


class _RedisLayout:
    """Key building, encoding and decoding shared by the sync and async stores (no I/O here)."""

    def __init__(self, catalog: Catalog, namespace: str = "mds", *, max_batch: int = 1000) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self.max_batch = max_batch
        self.codecs = {g.name: GroupCodec(g) for g in catalog.groups}
        self._prefix = {g.name: f"{namespace}:{catalog.fingerprint}:{g.name}:".encode() for g in catalog.groups}

    @property
    def version_prefix(self) -> str:
        return f"{self.namespace}:{self.catalog.fingerprint}:"

    def key(self, group: str, entity_key: str) -> bytes:
        return self._prefix[group] + entity_key.encode()

    def read_keys(self, groups: list[FeatureGroup], keys: Sequence[str]) -> list[bytes]:
        encoded = [k.encode() for k in keys]
        out: list[bytes] = []
        for g in groups:
            prefix = self._prefix[g.name]
            out.extend([prefix + k for k in encoded])
        return out

    def assemble(self, entity: str, keys: Sequence[str], features: list[Feature],
                 groups: list[FeatureGroup], blobs: list[bytes | None]) -> FeatureBatch:
        n = len(keys)
        found = np.zeros(n, dtype=bool)
        values: dict[str, np.ndarray] = {}
        valid: dict[str, np.ndarray] = {}
        wanted = {f.name for f in features}
        for gi, g in enumerate(groups):
            codec = self.codecs[g.name]
            records, present = codec.decode(blobs[gi * n:(gi + 1) * n])
            found |= present
            nulls = records["_null"]
            for pos, f in enumerate(codec.features):
                if f.name not in wanted:
                    continue
                ok = present & ((nulls >> np.uint64(pos)) & np.uint64(1) == 0)
                column = records[f.name]
                if f.dtype == DType.CATEGORY:
                    column = codec.category_words[f.name][column]
                elif f.dtype == DType.BOOL:
                    column = column.astype(bool)
                values[f.name] = column
                valid[f.name] = ok
        return FeatureBatch(entity=entity, keys=list(keys), features=features, found=found,
                            values=values, valid=valid)

    def encode_frame(self, entity: str, frame: pd.DataFrame) -> Iterable[tuple[FeatureGroup, list[str], list[bytes]]]:
        """Yield (group, keys, blobs) for every complete group present in ``frame``."""
        key_col = self.catalog.entity(entity).key
        if key_col not in frame.columns:
            raise InvalidArgument(f"the frame has no {key_col!r} column (the {entity} key)", field=key_col)
        keys = frame[key_col].astype(str).tolist()
        validate_keys(keys, max_batch=max(len(keys), 1), field=key_col)
        touched = 0
        for g in self.catalog.groups_of(entity):
            names = [f.name for f in g.features]
            have = [n for n in names if n in frame.columns]
            if not have:
                continue
            if len(have) != len(names):
                missing = sorted(set(names) - set(have))
                raise InvalidArgument(
                    f"group {g.name!r} is incomplete: missing columns {missing}", field=missing[0])
            touched += 1
            codec = self.codecs[g.name]
            yield g, keys, codec.to_blobs(codec.encode(frame))
        if touched == 0:
            raise InvalidArgument(f"the frame holds no complete feature group of entity {entity!r}",
                                  field="columns")


class RedisOnlineStore(_RedisLayout, OnlineStore):
    """Synchronous Redis store (CLI, bulk loads, batch jobs, benchmarks)."""

    def __init__(self, client: redis.Redis, catalog: Catalog, namespace: str = "mds", *, max_batch: int = 1000) -> None:
        super().__init__(catalog, namespace, max_batch=max_batch)
        self.client = client

    def read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None = None) -> FeatureBatch:
        validate_keys(keys, self.max_batch)
        resolved, groups = self.plan(entity, features)
        try:
            blobs = self.client.mget(self.read_keys(groups, keys))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable(f"Redis did not answer: {exc}") from exc
        return self.assemble(entity, keys, resolved, groups, blobs)

    def write_frame(self, entity: str, frame: pd.DataFrame) -> int:
        # Encode (and so validate) every group before the first write: bad input writes nothing.
        encoded = list(self.encode_frame(entity, frame))
        written = 0
        try:
            for group, keys, blobs in encoded:
                ttl_ms = group.ttl_seconds * 1000
                for start in range(0, len(keys), WRITE_CHUNK):
                    pipe = self.client.pipeline(transaction=False)
                    for k, blob in zip(keys[start:start + WRITE_CHUNK], blobs[start:start + WRITE_CHUNK], strict=True):
                        pipe.set(self.key(group.name, k), blob, px=ttl_ms)
                    pipe.execute()
                    written += min(WRITE_CHUNK, len(keys) - start)
        except _REDIS_DOWN as exc:
            raise StoreUnavailable(f"Redis did not answer: {exc}") from exc
        return written

    def clear(self) -> int:
        deleted = 0
        try:
            batch: list[bytes] = []
            for key in self.client.scan_iter(match=f"{self.namespace}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += self.client.unlink(*batch)
                    batch.clear()
            if batch:
                deleted += self.client.unlink(*batch)
        except _REDIS_DOWN as exc:
            raise StoreUnavailable(f"Redis did not answer: {exc}") from exc
        return deleted


class AsyncRedisOnlineStore(_RedisLayout, AsyncOnlineStore):
    """asyncio Redis store used inside the gRPC servers."""

    def __init__(self, client: redis.asyncio.Redis, catalog: Catalog, namespace: str = "mds",
                 *, max_batch: int = 1000) -> None:
        super().__init__(catalog, namespace, max_batch=max_batch)
        self.client = client

    async def read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None = None) -> FeatureBatch:
        validate_keys(keys, self.max_batch)
        resolved, groups = self.plan(entity, features)
        try:
            blobs = await self.client.mget(self.read_keys(groups, keys))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable(f"Redis did not answer: {exc}") from exc
        return self.assemble(entity, keys, resolved, groups, blobs)

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except _REDIS_DOWN:
            return False
