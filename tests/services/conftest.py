"""Fixtures the targeting service's test modules share."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from core.settings import Settings
from models.targeting.audience import snapshot_path
from services.client import MDSClient


@pytest.fixture
def mds(seeded_settings: Settings, grpc_server: Callable[..., str]) -> Iterator[MDSClient]:
    """A client of a real server running the targeting service over the seeded demo world."""
    with MDSClient(grpc_server(["targeting"]), timeout_s=60) as client:
        yield client


@pytest.fixture
def snapshot(seeded_settings: Settings) -> pd.DataFrame:
    """The seeded population snapshot the service selects from, to count audiences independently."""
    return pd.read_parquet(snapshot_path(seeded_settings))
