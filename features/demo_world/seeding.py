"""``mds seed``: generate the demo world, write its Parquet snapshot, load it into Redis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from features.catalog import Catalog, demo_catalog
from features.demo_world.users import generate_users
from features.loader import bulk_load
from features.store import open_store

__all__ = ["SeedResult", "demo_dir", "seed"]


@dataclass(frozen=True)
class SeedResult:
    users_path: Path
    truth_path: Path
    users: int
    loaded: int


def demo_dir(settings: Settings) -> Path:
    """Where the demo world's Parquet snapshot lives: ``<data_dir>/demo``."""
    return settings.data_dir / "demo"


def seed(settings: Settings, users: int = 100_000, seed: int = 0, *, catalog: Catalog | None = None,
         progress: bool = True) -> SeedResult:
    catalog = catalog or demo_catalog()
    frame, truth = generate_users(catalog, users, seed)
    out = demo_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    users_path, truth_path = out / "users.parquet", out / "truth.parquet"
    # Write to temporary names first so a killed seed never leaves a half-written snapshot.
    for df, path in ((frame, users_path), (truth, truth_path)):
        tmp = path.with_suffix(".parquet.tmp")
        df.to_parquet(tmp, index=False)
        tmp.replace(path)
    store = open_store(settings, catalog)
    loaded = bulk_load(store, "user", users_path, progress=progress).written
    return SeedResult(users_path, truth_path, users, loaded)
