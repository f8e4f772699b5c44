"""The Hillstrom worked example end to end on a 3,000-customer slice, as a newcomer runs it.

``examples/hillstrom/walkthrough.sh --full`` runs the README's commands as subprocesses (the real
``mds`` CLI, a real ``mds serve`` on a free port, the gRPC client), against the real Redis under this
test's namespace. The assertions check what each step left behind, recomputed independently here.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.paths import repo_root
from core.redis import connect_async
from core.settings import Settings
from features.catalog import load_catalog
from features.store import AsyncSegmentStore, open_store
from models.registry import ModelRegistry

ROWS = 3_000
CATALOG = repo_root() / "examples" / "hillstrom" / "catalog.yaml"
DEMAND = "new customers from urban zip codes who bought women's merchandise and spent over $200 last year"
FEATURES = ["recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel"]


def _env(settings: Settings) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # `mds` and `python` of this interpreter's environment
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "MDS_REDIS_URL": settings.redis_url or "", "MDS_NAMESPACE": settings.namespace,
            "MDS_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}


@pytest.fixture
def walkthrough(settings: Settings, tmp_path: Path) -> Path:
    out = tmp_path / "hillstrom"
    run = subprocess.run(["bash", "examples/hillstrom/walkthrough.sh", "--rows", str(ROWS), "--out", str(out), "--full"],
                         cwd=repo_root(), env=_env(settings), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out


def test_hillstrom_walkthrough_on_a_slice(settings: Settings, walkthrough: Path) -> None:
    out = walkthrough
    catalog = load_catalog(CATALOG)
    under_hillstrom = settings.model_copy(update={"catalog": CATALOG})
    customers = pd.read_parquet(out / "customers.parquet")
    assert len(customers) == ROWS and customers["customer_id"].is_unique

    # Load: every customer is in Redis under the catalog's entity, values as in the table.
    store = open_store(under_hillstrom, catalog)
    ids = customers["customer_id"].tolist()
    assert all(bool(np.all(store.read("customer", ids[i:i + 1000], FEATURES).found)) for i in range(0, ROWS, 1000))
    some = customers.sample(50, random_state=0)
    batch = store.read("customer", some["customer_id"].tolist(), FEATURES)
    for _, row in some.iterrows():
        stored = batch.row(batch.keys.index(row["customer_id"]))
        assert stored["history"] == pytest.approx(row["history"])
        assert (stored["zip_code"], stored["womens"], stored["newbie"]) == (row["zip_code"], row["womens"], row["newbie"])

    # Audience: the stored segment is exactly the customers satisfying the logic.
    async def members() -> set[str]:
        client = connect_async(settings)
        try:
            return await AsyncSegmentStore(client, settings.namespace).members("new_urban_womens_200")
        finally:
            await client.aclose()

    expected = customers[customers["newbie"] & (customers["zip_code"] == "urban") & customers["womens"]
                         & (customers["history"] > 200)]["customer_id"]
    audience = asyncio.run(members())
    assert len(audience) > 20 and audience == set(expected)

    # Model: registered against the Hillstrom catalog; the served Score equals the model's own predict
    # on the table's rows (so the server read the right features from Redis), and scores vary.
    loaded = ModelRegistry.from_settings(settings).load("hillstrom_womens", catalog=catalog)
    assert loaded.manifest.catalog_fingerprint == catalog.fingerprint and loaded.manifest.features == FEATURES
    served = json.loads((out / "score.json").read_text())
    scores = pd.Series(served["scores"])
    assert served["missing"] == [] and set(scores.index) <= audience and len(scores) == min(len(audience), 1000)
    assert scores.nunique() > 10 and scores.std() > 1e-4
    rows = customers.set_index("customer_id").loc[scores.index, FEATURES]
    np.testing.assert_allclose(scores.to_numpy(), loaded.model.predict(rows), rtol=0, atol=1e-9)

    # SelectTop: the highest positive scores among the candidates, best first, within the budget.
    selected = served["selected"]
    assert 0 < len(selected) <= 100
    uplifts = [s["uplift"] for s in selected]
    assert uplifts == sorted(uplifts, reverse=True) and min(uplifts) > 0
    best = scores[scores > 0].sort_values(ascending=False).iloc[:len(selected)]
    np.testing.assert_allclose(uplifts, best.to_numpy(), rtol=0, atol=1e-12)  # ties may order either way
    assert all(scores[s["user_id"]] == pytest.approx(s["uplift"], abs=1e-12) for s in selected)

    # Batch scoring: every customer, local and Spark agree with each other and with the server.
    local = pd.read_parquet(out / "scores.parquet").set_index("customer_id")["uplift"]
    spark = pd.read_parquet(out / "scores_spark").set_index("customer_id")["uplift"]
    assert len(local) == len(spark) == ROWS and set(local.index) == set(customers["customer_id"])
    np.testing.assert_allclose(spark.loc[local.index].to_numpy(), local.to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(local.loc[scores.index].to_numpy(), scores.to_numpy(), rtol=0, atol=1e-9)

    # The experiment: Womens E-Mail raised visits on this slice too (as on all 64,000).
    analysis = json.loads((out / "analysis.json").read_text())
    assert analysis["arms"]["Womens E-Mail"]["visit"]["lift"] > 0
    assert analysis["srm"]["p_value"] > 0.001

    timing = json.loads((out / "walkthrough.json").read_text())
    assert timing["seconds_to_first_score"] > 0 and set(timing["steps"]) >= {"load", "train", "score", "batch_spark"}

    # The same audience from the demand in words: the parser reads the Hillstrom catalog's aliases.
    parsed = subprocess.run([sys.executable, "-m", "services.cli", "targeting", "parse", "--json", DEMAND],
                            env={**_env(settings), "MDS_CATALOG": str(CATALOG),
                                 "MDS_POPULATION": str(out / "customers.parquet")},
                            capture_output=True, text=True, timeout=300)
    assert parsed.returncode == 0, parsed.stderr[-2000:]
    reading = json.loads(parsed.stdout)
    assert reading["logic"] == served["logic"] and reading["estimated_audience_size"] == len(audience)

    # `mds features get` finds the catalog's entity by itself (no --entity customer needed).
    got = subprocess.run([sys.executable, "-m", "services.cli", "features", "get", "c00000", "nobody"],
                         env={**_env(settings), "MDS_CATALOG": str(CATALOG)}, capture_output=True, text=True,
                         timeout=120)
    assert got.returncode == 0, got.stderr
    rows = json.loads(got.stdout)
    assert rows["nobody"] is None and rows["c00000"]["history"] == pytest.approx(customers["history"].iloc[0])
