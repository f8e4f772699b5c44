"""``mds features load`` and ``bench-load`` as a user runs them: a subprocess, exit codes, messages, JSON."""

from __future__ import annotations

import json

from _mds_cli import keys_left, run_mds

from core.settings import Settings


def test_a_bad_table_is_refused_with_exit_2_and_skip_loads_the_rest(settings: Settings, demo_users, tmp_path):
    users = demo_users[0].iloc[:200].copy()
    users["age"] = users["age"].astype(object)
    users.loc[users.index[7], "age"] = "old"
    path = tmp_path / "users.csv"
    users.assign(**{c: users[c].map("|".join) for c in ("interests", "purchased_categories_90d")}).to_csv(
        path, index=False)

    refused = run_mds(settings, "features", "load", "--input", str(path))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "age: type mismatch" in refused.stderr and "row 8" in refused.stderr and "'old'" in refused.stderr
    assert "Traceback" not in refused.stderr

    skipped = run_mds(settings, "features", "load", "--input", str(path), "--on-bad-row", "skip")
    assert skipped.returncode == 0, skipped.stderr
    assert "loaded 199 rows" in skipped.stdout and "1 bad rows left out" in skipped.stdout
    assert (tmp_path / "users.rejected.csv").read_text().splitlines()[1].startswith("8,age: type mismatch,")

    for flags, named in ((["--on-bad-row", "ignore"], "--on-bad-row"), (["--engine", "dask"], "--engine"),
                         (["--rejected", str(tmp_path / "r.csv")], "--rejected"),
                         (["--ignore-columns", "nope"], "--ignore-columns"),
                         (["--engine", "spark"], "--engine")):  # spark reads Parquet, refused before a JVM starts
        bad = run_mds(settings, "features", "load", "--input", str(path), *flags)
        assert bad.returncode == 2 and named in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_bench_load_prints_rows_per_second_writes_json_and_cleans_up(settings: Settings, tmp_path):
    out = tmp_path / "load.json"
    run = run_mds(settings, "features", "bench-load", "--users", "3000", "--features", "24", "--json", str(out))
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert result["engine"] == "local" and result["users"] == 3000 and result["features"] == 24
    assert result["rows_per_s"] > 0 and result["load_s"] > 0 and "rows/s" in run.stdout
    namespace = result["namespace"]  # only this run's: other benchmarks may share the Redis
    assert namespace.startswith("mdsloadbench-") and not keys_left(settings, namespace)
