"""``mds bench load`` against a real server: bounded, loopback only, errors counted, JSON written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from _mds_cli import run_mds

from core.errors import InvalidArgument
from core.settings import Settings
from features.store import RedisOnlineStore
from services.cli.bench import check_loopback, run_load


def test_load_reports_calls_latency_and_no_errors(grpc_server: Callable[..., str], store: RedisOnlineStore,
                                                  demo_users) -> None:
    users, _ = demo_users
    store.write_frame("user", users.iloc[:50])
    assert users.user_id.iloc[0] == "u0000000"
    address = grpc_server(["features", "experiments"])
    keys = list(users.user_id.iloc[:50])
    result = run_load("GetFeatures", address, 2, 1.0, entity="user", keys=keys, batch=10, n_features=5)
    assert result.calls > 0 and result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert result.settings["entity"] == "user" and result.settings["keys"] == 50
    # A generous deadline: Analyze runs in a spawned worker process, slow to start on a busy machine.
    analyze = run_load("Analyze", address, 1, 0.5, batch=1, timeout_s=60.0)
    assert analyze.calls > 0 and analyze.errors == 0


def test_errors_are_counted_by_code(grpc_server: Callable[..., str]) -> None:
    address = grpc_server(["features"])
    result = run_load("Score", address, 1, 0.5, keys=["a", "b", "c", "d", "e"], batch=5,
                      model="coupon")  # no uplift service here
    assert result.errors == result.calls > 0
    assert set(result.errors_by_code) == {"UNIMPLEMENTED"}


@pytest.mark.parametrize("target", ["8.8.8.8:50051", "10.0.0.1:1", "nohostport", "127.0.0.1:"])
def test_only_loopback_targets(target: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_loopback(target)
    assert info.value.field == "--target"
    assert check_loopback("127.0.0.1:50051") == "127.0.0.1:50051"
    assert check_loopback("localhost:1") == "localhost:1"


def test_cli_writes_json_and_refuses_remote_targets(grpc_server: Callable[..., str], settings: Settings,
                                                    tmp_path: Path) -> None:
    address = grpc_server(["experiments"])
    out = tmp_path / "load.json"
    run = run_mds(settings, "bench", "load", "--rpc", "Analyze", "--target", address, "--seconds", "1",
                  "--concurrency", "2", "--timeout-s", "60", "--json", str(out), timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert result["rpc"] == "Analyze" and result["concurrency"] == 2 and result["errors"] == 0
    assert result["calls"] > 0 and result["throughput_per_s"] > 0
    remote = run_mds(settings, "bench", "load", "--rpc", "Analyze", "--target", "8.8.8.8:50051", timeout=120)
    assert remote.returncode == 2 and "--target" in remote.stderr


def test_hostile_bench_gets_no_internal_or_unknown_answers(grpc_server: Callable[..., str]) -> None:
    from services.cli.hostile import hostile_requests, run_hostile

    address = grpc_server(["features", "experiments", "uplift", "targeting", "allocation"])
    result = run_hostile(address, 1.0, concurrency=len(hostile_requests()))  # every case at least once
    assert result.internal_or_unknown == 0 and result.probe_calls > 0
    assert all(result.codes_by_request.values())
    for label, codes in result.codes_by_request.items():
        expected = {"OK"} if "allowed" in label or "1,000 segments" in label else {"INVALID_ARGUMENT"}
        assert set(codes) == expected, (label, codes)
