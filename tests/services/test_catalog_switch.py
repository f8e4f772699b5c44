"""Switching MDS_CATALOG to a catalog with another fingerprint reads and writes a fresh namespace.

Through a real server on a real socket: catalog B keeps A's feature names but changes the layout
(one more allowed value), so A's bytes would decode as plausible but wrong values; B must see none of
them, and switching back to A finds A's data intact.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from core.settings import Settings
from features import load_checked_catalog
from features.store import open_store
from services.client import MDSClient

CATALOG = """\
name: shop
entities:
  user: {key: user_id}
groups:
  - name: profile
    entity: user
    ttl_seconds: 3600
    features:
      - {name: age, dtype: int, range: [0, 120]}
      - {name: tier, dtype: category, values: [TIERS]}
      - {name: spend, dtype: float}
"""


def _catalog(tmp_path: Path, name: str, tiers: list[str]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(CATALOG.replace("TIERS", ", ".join(tiers)))
    return path


def _read(address: str) -> tuple[str, pd.DataFrame]:
    with MDSClient(address, timeout_s=5) as mds:
        fingerprint = mds.features.catalog().fingerprint
        return fingerprint, mds.features.get(["u1", "u2"], ["age", "tier", "spend"])


def test_another_fingerprint_serves_no_stale_value_and_switching_back_finds_the_data(
        settings: Settings, grpc_server: Callable[..., str], tmp_path: Path) -> None:
    path_a = _catalog(tmp_path, "a", ["bronze", "gold"])
    path_b = _catalog(tmp_path, "b", ["basic", "bronze", "gold"])  # same names, other layout
    catalog_a, catalog_b = load_checked_catalog(path_a), load_checked_catalog(path_b)
    assert catalog_a.fingerprint != catalog_b.fingerprint
    under_a = settings.model_copy(update={"catalog": path_a})
    under_b = settings.model_copy(update={"catalog": path_b})
    open_store(under_a, catalog_a).write_frame("user", pd.DataFrame(
        {"user_id": ["u1", "u2"], "age": [30, 41], "tier": ["gold", "bronze"], "spend": [12.5, 99.0]}))

    fingerprint, frame = _read(grpc_server(["features"], settings_override=under_a))
    assert fingerprint == catalog_a.fingerprint
    assert frame.loc["u1"].tolist() == [30, "gold", 12.5]

    # Restart under B: nothing written under A is visible, not even as a decoded-but-wrong value.
    fingerprint, frame = _read(grpc_server(["features"], settings_override=under_b))
    assert fingerprint == catalog_b.fingerprint
    assert frame.isna().all().all(), frame
    open_store(under_b, catalog_b).write_frame("user", pd.DataFrame(
        {"user_id": ["u1"], "age": [55], "tier": ["basic"], "spend": [1.0]}))
    _, frame = _read(grpc_server(["features"], settings_override=under_b))
    assert frame.loc["u1"].tolist() == [55, "basic", 1.0] and frame.loc["u2"].isna().all()

    # Back to A: A's values, untouched by B's write.
    fingerprint, frame = _read(grpc_server(["features"], settings_override=under_a))
    assert fingerprint == catalog_a.fingerprint
    assert frame.loc["u1"].tolist() == [30, "gold", 12.5] and frame.loc["u2"].tolist() == [41, "bronze", 99.0]
