"""``mds catalog check FILE`` in a real subprocess: exit 0 and a summary when clean, exit 2 listing every problem."""

from __future__ import annotations

from pathlib import Path

from _mds_cli import run_mds

from core.settings import Settings
from features.catalog import DEMO_CATALOG_PATH


def test_catalog_check_exit_codes(settings: Settings, tmp_path: Path) -> None:
    good = run_mds(settings, "catalog", "check", str(DEMO_CATALOG_PATH), timeout=120)
    assert good.returncode == 0, good.stderr
    assert "OK" in good.stdout and "46 features in 5 groups" in good.stdout

    bad = tmp_path / "shop.yaml"
    bad.write_text("name: shop\nentities: {user: {key: id}}\ngroups:\n"
                   "  - {name: g, entity: user, ttl_seconds: 60, features: [\n"
                   "      {name: age, dtype: int, range: [90, 10]},\n"
                   "      {name: tier, dtype: category}]}\n")
    run = run_mds(settings, "catalog", "check", str(bad), timeout=120)
    assert run.returncode == 2
    assert "2 problems" in run.stderr
    assert "groups[0].features[0].range (line 5): low 90 is above high 10" in run.stderr
    assert "groups[0].features[1].values (line 6): a category needs a non-empty list" in run.stderr
    assert "Traceback" not in run.stderr


def test_catalog_population_checks_a_user_table(settings: Settings, tmp_path: Path) -> None:
    from features.bench import synthetic_rows
    from features.catalog import demo_catalog

    users = synthetic_rows(demo_catalog(), "user", 50, seed=0)
    good, thin = tmp_path / "users.parquet", tmp_path / "thin.parquet"
    users.to_parquet(good, index=False)
    users.drop(columns=["gmv_30d"]).to_parquet(thin, index=False)
    ok = run_mds(settings, "catalog", "population", str(good), timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "OK 50 users in 1 parquet file; key 'user_id' and all 42 catalog features" in ok.stdout
    bad = run_mds(settings, "catalog", "population", str(thin), timeout=120)
    assert bad.returncode == 2 and "lacks catalog columns ['gmv_30d']" in bad.stderr, bad.stderr
