"""The ``mds features`` commands read the configured catalog (MDS_CATALOG), and the read benchmark takes
``--catalog``: a team's own catalog works end to end in the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from _mds_cli import run_mds

from core.settings import Settings
from features import load_checked_catalog
from features.bench import synthetic_rows
from features.store import open_store

SHOP = """\
name: shop
entities:
  user: {key: customer_id}
groups:
  - name: history
    entity: user
    ttl_seconds: 3600
    features:
      - {name: recency, dtype: int, range: [1, 12]}
      - {name: spend, dtype: float, range: [0, 3500]}
      - {name: newbie, dtype: bool}
      - {name: zone, dtype: category, values: [urban, rural, surburban]}
      - {name: bought, dtype: string_set, values: [mens, womens]}
"""


def test_synthetic_rows_stay_inside_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    catalog = load_checked_catalog(path)
    rows = synthetic_rows(catalog, "user", 500, seed=1)
    assert rows["recency"].between(1, 12).all() and rows["spend"].between(0, 3500).all()
    assert set(rows["zone"]) == {"urban", "rural", "surburban"}
    assert all(set(b) <= {"mens", "womens"} for b in rows["bought"])
    assert rows["customer_id"].is_unique


def test_features_commands_use_mds_catalog_and_bench_takes_catalog(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    catalog = load_checked_catalog(path)
    open_store(settings, catalog).write_frame("user", pd.DataFrame({
        "customer_id": ["c1"], "recency": [3], "spend": [120.5], "newbie": [True], "zone": ["urban"],
        "bought": [["womens"]]}))

    listed = run_mds(settings, "features", "catalog", MDS_CATALOG=str(path))
    assert listed.returncode == 0, listed.stderr
    assert f"catalog shop ({catalog.fingerprint})" in listed.stdout and "surburban" in listed.stdout
    got = run_mds(settings, "features", "get", "c1", "--features", "spend,bought", MDS_CATALOG=str(path))
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == {"c1": {"spend": 120.5, "bought": ["womens"]}}

    out = tmp_path / "bench.json"
    bench = run_mds(settings, "features", "bench", "--catalog", str(path), "--users", "200", "--features", "5",
                 "--batch", "20", "--reads", "10", "--json", str(out))
    assert bench.returncode == 0, bench.stderr
    setup = json.loads(out.read_text())["setup"]
    assert (setup["catalog"], setup["fingerprint"], setup["features"]) == ("shop", catalog.fingerprint, 5)

    too_many = run_mds(settings, "features", "bench", "--catalog", str(path), "--users", "200", "--features", "40")
    assert too_many.returncode == 2 and "--features 40: catalog 'shop' has 5 user features" in too_many.stderr


def test_serve_seed_demo_refuses_a_catalog_that_is_not_the_demo(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    got = run_mds(settings, "serve", "--seed-demo", "--port", "0", MDS_CATALOG=str(path))
    assert got.returncode == 2, got.stderr
    assert "--seed-demo" in got.stderr and "shop" in got.stderr and "Traceback" not in got.stderr
