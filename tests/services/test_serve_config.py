"""``mds serve`` with a bad configuration: one clear line naming the setting, file and column, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from features.catalog import demo_catalog
from features.demo_world import generate_users


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MDS_")}
    environ.update({"MDS_DATA_DIR": str(tmp_path / "var"), "MDS_PORT": "0", "MDS_METRICS_PORT": "0",
                    "MDS_REDIS_URL": os.environ.get("MDS_REDIS_URL", "redis://127.0.0.1:6379/0"),
                    "COLUMNS": "80", **env})
    return subprocess.run([sys.executable, "-m", "services.cli", "serve", "--services", "features,targeting"],
                          env=environ, capture_output=True, text=True, timeout=120)


def _one_error_line(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and "serving" not in run.stdout.lower()
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture(scope="module")
def users() -> pd.DataFrame:
    return generate_users(demo_catalog(), 200, seed=3)[0]


def test_a_broken_catalog_names_the_file_and_the_problem(tmp_path: Path) -> None:
    catalog = tmp_path / "shop.yaml"
    catalog.write_text("name: shop\nentities: {user: {key: user_id}}\ngroups:\n"
                       "  - {name: g, entity: user, ttl_seconds: 60, features: [{name: age, dtype: int, range: [90, 10]}]}\n")
    line = _one_error_line(_serve(tmp_path, MDS_CATALOG=str(catalog)))
    assert f"catalog {catalog} (MDS_CATALOG) has 1 problem" in line
    assert "groups[0].features[0].range (line 4): low 90 is above high 10" in line


def test_a_missing_catalog_file(tmp_path: Path) -> None:
    line = _one_error_line(_serve(tmp_path, MDS_CATALOG=str(tmp_path / "gone.yaml")))
    assert "gone.yaml (MDS_CATALOG) cannot be read" in line


def test_a_missing_population_file(tmp_path: Path) -> None:
    line = _one_error_line(_serve(tmp_path, MDS_POPULATION=str(tmp_path / "users.parquet")))
    assert f"population {tmp_path / 'users.parquet'} (MDS_POPULATION) does not exist" in line


def test_a_population_lacking_catalog_columns(tmp_path: Path, users: pd.DataFrame) -> None:
    path = tmp_path / "users.parquet"
    users.drop(columns=["city", "interests"]).to_parquet(path, index=False)
    line = _one_error_line(_serve(tmp_path, MDS_POPULATION=str(path)))
    assert f"population {path} (MDS_POPULATION) lacks catalog columns ['city', 'interests']" in line


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://:secret@127.0.0.1:notaport/0"])
def test_a_malformed_redis_url(tmp_path: Path, url: str) -> None:
    line = _one_error_line(_serve(tmp_path, MDS_REDIS_URL=url))
    assert "MDS_REDIS_URL" in line and "is not a Redis URL" in line
    assert "secret" not in line


def test_a_setting_that_does_not_parse(tmp_path: Path) -> None:
    line = _one_error_line(_serve(tmp_path, MDS_PORT="fifty"))
    assert "bad setting MDS_PORT" in line
