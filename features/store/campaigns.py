"""Where campaigns live in Redis (the serving copy; Parquet exports are for delivery tools).

Key layout, all under the settings' namespace::

    {ns}:campaign:index                 sorted set: campaign id -> created_at (unix seconds)
    {ns}:campaign:{id}:plan             string: the plan's JSON summary (status, spec, counts, expectation)
    {ns}:campaign:{id}:members          string: the members as Parquet bytes (user, group, uplift, cost, ...)
    {ns}:campaign:{id}:outcomes         hash: user id -> "group,outcome,value" (one record per member)
    {ns}:campaign:{id}:outside          hash: user id -> "group,outcome,value" (users not in the campaign)

On a Redis Cluster the prefix is one hash tag, ``{{ns}:campaign}:``, so every campaign key shares a slot
and the transactions below stay single-slot (campaign metadata is small; member blobs are a few MB).

A plan is written in one MULTI/EXEC (nothing or everything); ``SET NX`` refuses to overwrite an id.
Launching flips the status inside a WATCH transaction; a launched plan is never rewritten or deleted.
Outcome hashes are keyed by user, so recording a user again replaces the earlier record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis

from core.errors import FailedPrecondition, NotFound
from core.redis import connect, is_cluster
from core.settings import Settings
from features.catalog import Catalog
from features.store._open import open_store
from features.store.redis_store import RedisOnlineStore
from features.store.unavailable import redis_unavailable as _unavailable

__all__ = ["BULK_READ_BATCH", "CampaignStore", "CampaignStores"]

_SCAN = 5_000
# Keys per MGET when a whole audience is read: big enough to amortize round trips, small enough for
# Redis latency (the RPC limit MDS_MAX_BATCH guards requests, not this bulk path).
BULK_READ_BATCH = 5_000


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class CampaignStore:
    """Synchronous (thread-safe: redis-py pools connections); servicers call it from worker threads."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._r = client
        self._prefix = f"{{{namespace}:campaign}}:" if is_cluster(client) else f"{namespace}:campaign:"

    def key(self, campaign_id: str, part: str) -> str:
        return f"{self._prefix}{campaign_id}:{part}"

    @property
    def index_key(self) -> str:
        return f"{self._prefix}index"

    def create(self, campaign_id: str, plan: Mapping[str, Any], members_parquet: bytes, created_at: float) -> None:
        with _unavailable(f"saving campaign {campaign_id!r}"), self._r.pipeline(transaction=True) as pipe:
            pipe.set(self.key(campaign_id, "plan"), json.dumps(plan, sort_keys=True), nx=True)
            pipe.set(self.key(campaign_id, "members"), members_parquet, nx=True)
            pipe.zadd(self.index_key, {campaign_id: created_at}, nx=True)
            created, _, _ = pipe.execute()
        if not created:
            raise FailedPrecondition(f"campaign {campaign_id!r} already exists")

    def plan(self, campaign_id: str) -> dict[str, Any]:
        with _unavailable(f"reading campaign {campaign_id!r}"):
            raw = self._r.get(self.key(campaign_id, "plan"))
        if raw is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        return dict(json.loads(raw))

    def members(self, campaign_id: str) -> bytes:
        with _unavailable(f"reading campaign {campaign_id!r}"):
            raw = self._r.get(self.key(campaign_id, "members"))
        if raw is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        return raw if isinstance(raw, bytes) else raw.encode()

    def ids(self, limit: int, offset: int = 0) -> list[str]:
        """Newest first."""
        with _unavailable("listing campaigns"):
            raw = self._r.zrevrange(self.index_key, offset, offset + limit - 1)
        return [_text(cast(bytes, r)) for r in raw]

    def count(self) -> int:
        with _unavailable("listing campaigns"):
            return int(self._r.zcard(self.index_key))

    def update_plan(self, campaign_id: str, change: Mapping[str, Any], *, only_if_status: str) -> dict[str, Any]:
        """Apply ``change`` to the plan JSON when its status is ``only_if_status`` (optimistic lock)."""
        key = self.key(campaign_id, "plan")
        with _unavailable(f"updating campaign {campaign_id!r}"), self._r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        raise NotFound(f"no campaign {campaign_id!r}")
                    plan = dict(json.loads(raw))
                    if plan.get("status") != only_if_status:
                        pipe.unwatch()
                        return plan
                    plan.update(change)
                    pipe.multi()
                    pipe.set(key, json.dumps(plan, sort_keys=True))
                    pipe.execute()
                    return plan
                except redis.exceptions.WatchError:
                    continue

    def delete(self, campaign_id: str) -> None:
        with _unavailable(f"deleting campaign {campaign_id!r}"), self._r.pipeline(transaction=True) as pipe:
            for part in ("plan", "members", "outcomes", "outside"):
                pipe.delete(self.key(campaign_id, part))
            pipe.zrem(self.index_key, campaign_id)
            pipe.execute()

    def record(self, campaign_id: str, inside: Mapping[str, str], outside: Mapping[str, str]) -> tuple[int, int]:
        """HSET both hashes in one transaction; returns how many users were new (inside, outside)."""
        with _unavailable(f"recording outcomes of campaign {campaign_id!r}"), \
                self._r.pipeline(transaction=True) as pipe:
            # redis stubs: the mapping's key type is invariant; str keys and values are what HSET takes.
            pipe.hset(self.key(campaign_id, "outcomes"), mapping=dict(inside)) if inside else pipe.echo("0")  # type: ignore[arg-type]
            pipe.hset(self.key(campaign_id, "outside"), mapping=dict(outside)) if outside else pipe.echo("0")  # type: ignore[arg-type]
            new_inside, new_outside = pipe.execute()
        return int(new_inside), int(new_outside)

    def outcomes(self, campaign_id: str, part: str = "outcomes") -> dict[str, str]:
        out: dict[str, str] = {}
        with _unavailable(f"reading outcomes of campaign {campaign_id!r}"):
            for user, record in self._r.hscan_iter(self.key(campaign_id, part), count=_SCAN):
                out[_text(user)] = _text(record)
        return out

    def outcome_count(self, campaign_id: str, part: str = "outcomes") -> int:
        with _unavailable(f"reading outcomes of campaign {campaign_id!r}"):
            return int(self._r.hlen(self.key(campaign_id, part)))


@dataclass(frozen=True)
class CampaignStores:
    """What a campaign book reads and writes, over one synchronous client (its calls run in worker threads).

    Built one way, :meth:`open`: ``mds serve`` gets it as a ``ServiceContext`` resource (closed at
    shutdown), the CLI and benchmarks call it directly.
    """

    features: RedisOnlineStore  # feature records, read BULK_READ_BATCH keys per MGET
    campaigns: CampaignStore

    @classmethod
    def open(cls, settings: Settings, catalog: Catalog) -> CampaignStores:
        client = connect(settings)
        return cls(features=open_store(settings, catalog, client=client, max_batch=BULK_READ_BATCH),
                   campaigns=CampaignStore(client, settings.namespace))

    def close(self) -> None:
        self.features.client.close()
