"""``mds allocation evaluate`` end to end on a GroupLens-layout subsample of MovieLens, and its flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from core.errors import InvalidArgument
from core.paths import movielens_100k_dir
from core.settings import Settings
from services.cli.allocation import app
from tests._mds_cli import cli_environment, keys_left, mds_in_process


def _grouplens_subsample(dest: Path, users: int) -> Path:
    """ml-100k's first ``users`` users written in the ml-latest-small CSV layout."""
    src = movielens_100k_dir()
    r = pd.read_csv(src / "ml-100k.inter", sep="\t")
    r.columns = ["userId", "movieId", "rating", "timestamp"]
    r[r["userId"] <= users].to_csv(dest / "ratings.csv", index=False)
    it = pd.read_csv(src / "ml-100k.item", sep="\t")
    pd.DataFrame({"movieId": it.iloc[:, 0], "title": it.iloc[:, 1],
                  "genres": it.iloc[:, 3].fillna("").str.replace(" ", "|")}).to_csv(dest / "movies.csv", index=False)
    return dest


def test_evaluate_writes_the_report_and_plot(tmp_path: Path) -> None:
    data = _grouplens_subsample(tmp_path, 200)
    out, png = tmp_path / "report.json", tmp_path / "reward.png"
    run = CliRunner().invoke(app, ["evaluate", "--data", str(data), "--format", "grouplens", "--budgets", "0.4,0.8",
                                   "--windows", "8", "--per-window", "40", "--max-requests", "120",
                                   "--calibration-requests", "3", "--milp-requests", "12",
                                   "--json", str(out), "--plot", str(png)])
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    assert set(report["budgets"]) == {"0.4", "0.8"}
    for b in report["budgets"].values():
        for key in ("static", "offline", "online", "oracle", "online_share_of_oracle", "utilization", "overuse"):
            assert isinstance(b[key], float), key
        assert 0 < b["online"] <= b["oracle"] and b["online_share_of_oracle"] == b["online"] / b["oracle"]
        assert 0 < b["utilization"] <= 1 and b["overuse"] <= 0.05
    assert 0 <= report["compute_saved_at_99pct_reward"] < 1
    assert report["overhead_us_per_request"] > 0
    assert all(c["gap"] >= -1e-9 for c in report["milp_check"])      # the MILP is never beaten
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert "online/" in run.output and "compute saved" in run.output


def test_synthetic_world_reports_the_expected_oracle_over_replays(tmp_path: Path) -> None:
    out = tmp_path / "taste.json"
    run = CliRunner().invoke(app, ["evaluate", "--format", "synthetic", "--world-users", "150", "--budgets", "0.3,0.7",
                                   "--requests-per-user", "2", "--windows", "6", "--per-window", "30",
                                   "--calibration-requests", "2", "--milp-requests", "8", "--replays", "2",
                                   "--json", str(out)])
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    assert report["estimator"] == "gain" and set(report["estimator_comparison"]) == {"reward", "gain"}
    for b in report["budgets"].values():
        # The JSON shape is kept, and where the truth is known the expected-reward oracle is added.
        for key in ("static", "offline", "online", "oracle", "utilization", "overuse"):
            assert isinstance(b[key], float), key
        assert b["expected_oracle"] >= b["expected_online"] - 1e-9
        assert b["expected_oracle"] >= b["expected_best_static"] - 1e-9
        assert b["value_weighted"]["oracle"] >= b["value_weighted"]["online_value_aware"] - 1e-9
    assert [r["seed"] for r in report["replays"]] == [0, 1]
    summary = report["summary"]["budgets"]["0.3"]["expected_online_over_best_static"]
    assert summary["n"] == 2 and summary["low"] <= summary["mean"] <= summary["high"]
    assert set(report["segments"]) == {"mainstream", "niche"}
    # Diagnosis: the same controller fed the true expected rewards, on the frontier and on every chain
    # (more chains to choose from never lowers the Lagrangian choice's expected reward by much).
    for b, diag in report["diagnosis_true_estimator"].items():
        for label in ("frontier", "all_chains"):
            row = diag[label]
            assert 0 < row["expected_online_over_oracle"] <= 1 + 1e-9 and row["overuse"] <= 0.05, (b, label)
    # The price floor: one per estimator, calibrated on cross-fitted predictions; it never raises the
    # logged requests' realized reward below what λ = 0 earns.
    for floor in report["price_floor"].values():
        assert floor["lam"] >= 0 and floor["applied"] is True
        assert floor["spend_share_at_floor"] <= floor["spend_share_at_zero"] + 1e-9
    # Earlier logged requests predict the later ones: the achievable gain as a deployed estimator meets it.
    for kind, per_budget in report["achievable_gain_time_ordered"].items():
        assert set(per_budget) == {"0.3", "0.7"}, kind
        assert all(row["ratio_low"] <= row["ratio"] <= row["ratio_high"] for row in per_budget.values())
    assert report["summary"]["budgets"]["0.7"]["gain_time_ordered_achievable_ratio"]["n"] == 2
    assert "expected hits" in run.output and "mean over 2 replays" in run.output


def test_bad_flags_are_named(tmp_path: Path) -> None:
    def field_of(*args: str) -> str | None:
        run = CliRunner().invoke(app, ["evaluate", *args, "--json", str(tmp_path / "x.json")])
        assert isinstance(run.exception, InvalidArgument), run.output
        return run.exception.field

    assert field_of("--data", str(tmp_path), "--budgets", "0.5,1.5") == "--budgets"
    assert field_of("--data", str(tmp_path), "--budgets", "half") == "--budgets"
    assert field_of("--data", str(tmp_path), "--format", "parquet") == "--format"
    assert field_of("--data", str(tmp_path), "--reward", "mrr") == "--reward"
    assert field_of("--data", str(tmp_path / "missing")) == "--data"
    assert field_of("--data", str(tmp_path)) == "--data"              # no *.inter file in it
    assert field_of("--format", "recbole") == "--data"                 # real data needs --data
    assert field_of("--format", "synthetic", "--reward", "ndcg") == "--reward"
    assert field_of("--format", "synthetic", "--estimator", "forest") == "--estimator"
    assert not (tmp_path / "x.json").exists()
    # The real command exits 2 with the message, no traceback (one interpreter start is enough).
    bad = subprocess.run([sys.executable, "-m", "services.cli", "allocation", "evaluate", "--data", str(tmp_path),
                          "--budgets", "2", "--json", str(tmp_path / "x.json")],
                         env={**os.environ, "COLUMNS": "160"}, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--budgets" in bad.stderr and "Traceback" not in bad.stderr


def test_bench_overhead_times_every_phase_and_leaves_nothing_in_redis(
        tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = _grouplens_subsample(tmp_path, 200)
    out = tmp_path / "overhead.json"
    with cli_environment(settings, monkeypatch):
        code, stdout, _ = mds_in_process(
            ["allocation", "bench-overhead", "--data", str(data), "--format", "grouplens", "--requests", "300",
             "--per-window", "60", "--logged-requests", "80", "--large-trees", "10", "--calibration-requests", "2",
             "--redis", "--json", str(out)], monkeypatch, capsys)
    assert code == 0, stdout
    report = json.loads(out.read_text())
    for name, phase in report["phases"].items():
        for clock in ("wall_us", "cpu_us"):
            assert 0 < phase[clock]["p50"] <= phase[clock]["p99"] <= phase[clock]["max"], (name, clock)
    decisions = report["decision"]
    assert set(decisions) == {"in-process state", "redis, each flush waits", "redis, write-behind (served)"}
    assert all(sum(d["reasons"].values()) == 300 and d["decisions"] == 300 for d in decisions.values())
    behind = decisions["redis, write-behind (served)"]
    assert behind["state"]["round_trips_off_request_path"] > 0 and behind["state"]["failures"] == 0
    assert behind["state"]["all_acknowledged"] is True
    # Writing behind changes when Redis hears of the spend, not a single decision of one replica.
    assert behind["reasons"] == decisions["in-process state"]["reasons"]
    assert decisions["redis, each flush waits"]["state"] == {"backend": "RedisBudgetState"}
    assert report["load_average"]["min"] >= 0 and report["threadpool_limits_us_per_call"]["mean"] > 0
    assert report["keys_deleted"] > 0 and keys_left(settings, report["namespace"]) == []
    assert "decision, redis, write-behind" in stdout
