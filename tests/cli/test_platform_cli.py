"""The real ``mds`` command in a subprocess: seed, get, bench, and clear errors for bad flags."""

from __future__ import annotations

import json

from _mds_cli import keys_left, run_mds

from core.settings import Settings


def test_seed_then_get(settings: Settings):
    seeded = run_mds(settings, "seed", "--users", "300", "--seed", "2")
    assert seeded.returncode == 0, seeded.stderr
    assert "loaded 300 users" in seeded.stdout
    got = run_mds(settings, "features", "get", "u0000001", "u0000299", "--features", "age,interests")
    assert got.returncode == 0, got.stderr
    rows = json.loads(got.stdout)
    assert set(rows) == {"u0000001", "u0000299"} and isinstance(rows["u0000001"]["interests"], list)


def test_load_a_parquet_file_twice(settings: Settings, demo_users, tmp_path):
    users, _ = demo_users
    path = tmp_path / "users.parquet"
    users.iloc[:120].to_parquet(path, index=False)
    first = run_mds(settings, "features", "load", "--input", str(path), "--chunk-rows", "50")
    assert first.returncode == 0 and "loaded 120 rows" in first.stdout, first.stdout + first.stderr
    again = run_mds(settings, "features", "load", "--input", str(path), "--chunk-rows", "50")
    assert again.returncode == 0 and "already loaded" in again.stdout, again.stdout + again.stderr
    missing = run_mds(settings, "features", "load", "--input", str(tmp_path / "nope.parquet"))
    assert missing.returncode == 2 and "no such file" in missing.stderr, missing.stdout + missing.stderr


def test_bad_flags_get_a_message_not_a_traceback(settings: Settings):
    bad_feature = run_mds(settings, "features", "get", "u0000001", "--features", "age,shoe_size")
    assert bad_feature.returncode == 2
    assert "unknown feature 'shoe_size'" in bad_feature.stderr and "Traceback" not in bad_feature.stderr
    bad_service = run_mds(settings, "serve", "--services", "features,teleport")
    assert bad_service.returncode == 2 and "--services" in bad_service.stderr


def test_bench_writes_the_documented_json(settings: Settings, tmp_path):
    out = tmp_path / "bench.json"
    run = run_mds(settings, "features", "bench", "--users", "300", "--features", "40", "--batch", "50",
               "--reads", "20", "--json", str(out))
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    for layout in ("project", "feast_style", "packed_mget_floor"):
        assert set(result[layout]) == {"p50_ms", "p99_ms", "rows_per_s"} and result[layout]["p50_ms"] > 0
    assert result["ratio_vs_feast_style"] > 0 and result["ratio_vs_floor"] > 0
    namespace = result["setup"]["namespace"]  # only this run's: other benchmarks may share the Redis
    assert namespace.startswith("mdsbench-") and not keys_left(settings, namespace)
