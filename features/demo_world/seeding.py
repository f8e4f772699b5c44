"""``mds seed``: generate the demo world, write its Parquet snapshot, load it into Redis.

A seed is finished only when its *completion marker* is in Redis
(``{namespace}:{fingerprint}:_demo:seeded``), written after the last chunk loaded. While it runs, a
*pending* record names the users, the random seed and the snapshot's load id, so a killed seed
re-run with the same arguments reuses the snapshot it already wrote and resumes the bulk load after
the last finished chunk; a seed with other arguments deletes the old load's checkpoint first. Once
finished, the checkpoint key is deleted: the marker is the record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from features.catalog import Catalog, demo_catalog
from features.demo_world.users import generate_users
from features.loader import bulk_load, forget_load, load_id_of
from features.store import RedisOnlineStore, open_store
from features.store.unavailable import redis_unavailable

__all__ = ["SeedResult", "demo_dir", "demo_seeded", "seed"]

@dataclass(frozen=True)
class SeedResult:
    users_path: Path
    truth_path: Path
    users: int
    loaded: int
    resumed: bool = False  # True when this call finished a killed seed's load


def demo_dir(settings: Settings) -> Path:
    """Where the demo world's Parquet snapshot lives: ``<data_dir>/demo``."""
    return settings.data_dir / "demo"


def _marker_keys(store: RedisOnlineStore) -> tuple[str, str]:
    prefix = f"{store.version_prefix}_demo:"
    return prefix + "seeded", prefix + "pending"


def _get_json(store: RedisOnlineStore, key: str) -> dict[str, object] | None:
    with redis_unavailable("reading the demo world's seed record"):
        raw = store.client.get(key)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def demo_seeded(settings: Settings, catalog: Catalog | None = None) -> dict[str, object] | None:
    """The finished seed's record (users, seed) when Redis and the snapshot hold a complete demo world."""
    store = open_store(settings, catalog or demo_catalog())
    done_key, _ = _marker_keys(store)
    record = _get_json(store, done_key)
    users_path = demo_dir(settings) / "users.parquet"
    if record is None or not users_path.is_file() or record.get("load_id") != load_id_of(users_path):
        return None
    return record


def seed(settings: Settings, users: int = 100_000, seed: int = 0, *, catalog: Catalog | None = None,
         progress: bool = True) -> SeedResult:
    catalog = catalog or demo_catalog()
    out = demo_dir(settings)
    users_path, truth_path = out / "users.parquet", out / "truth.parquet"
    store = open_store(settings, catalog)
    done_key, pending_key = _marker_keys(store)
    pending = _get_json(store, pending_key)
    resumable = (pending is not None and pending.get("users") == users and pending.get("seed") == seed
                 and users_path.is_file() and truth_path.is_file()
                 and pending.get("load_id") == load_id_of(users_path))
    with redis_unavailable("starting the seed"):
        store.client.delete(done_key)  # from here until the load finishes, the world is not complete
        if not resumable:
            if pending is not None and isinstance(pending.get("load_id"), str):
                forget_load(store, str(pending["load_id"]))  # a killed seed's leftovers
            frame, truth = generate_users(catalog, users, seed)
            out.mkdir(parents=True, exist_ok=True)
            # Write to temporary names first so a killed seed never leaves a half-written snapshot.
            for df, path in ((frame, users_path), (truth, truth_path)):
                tmp = path.with_suffix(".parquet.tmp")
                df.to_parquet(tmp, index=False)
                tmp.replace(path)
        load_id = load_id_of(users_path)
        record = {"users": users, "seed": seed, "load_id": load_id}
        store.client.set(pending_key, json.dumps(record))
    loaded = bulk_load(store, "user", users_path, load_id=load_id, progress=progress).written
    with redis_unavailable("finishing the seed"):
        pipe = store.client.pipeline(transaction=False)
        pipe.set(done_key, json.dumps(record))
        pipe.delete(pending_key)  # one key per command: on a cluster the two live in different slots
        pipe.execute()
        forget_load(store, load_id)
    return SeedResult(users_path, truth_path, users, loaded, resumed=resumable)
