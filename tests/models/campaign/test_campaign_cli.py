"""``mds campaign`` commands, run in-process through the real ``mds`` entry point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from _mds_cli import cli_environment, mds_in_process

from core.settings import Settings


@pytest.fixture
def env(campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    with cli_environment(campaign_settings, monkeypatch) as env:
        yield env


def test_plan_export_outcomes_readout_from_the_command_line(env: Settings, tmp_path: Path, monkeypatch, capsys):
    code, out, err = mds_in_process(["campaign", "plan", "--model", "coupon", "--logic", "(age#Between#18, 70)",
                           "--max-users", "400", "--holdout-share", "0.25", "--launch",
                           "--json", str(tmp_path / "plan.json")], monkeypatch, capsys)
    assert code == 0, err
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["status"] == "launched" and plan["treated_count"] == 400
    campaign_id = plan["campaign_id"]
    code, out, err = mds_in_process(["campaign", "export", campaign_id, "--out", str(tmp_path / "all.parquet"),
                           "--include-holdout"], monkeypatch, capsys)
    assert code == 0, err
    members = pd.read_parquet(tmp_path / "all.parquet")
    assert len(members) == plan["treated_count"] + plan["holdout_count"]
    outcomes = pd.DataFrame({"user_id": members["user_id"], "group": members["group"],
                             "outcome": (members.index % 3 == 0).astype(int), "value": 1.5})
    outcomes = pd.concat([outcomes, pd.DataFrame([{"user_id": "u9999999", "group": "treated", "outcome": 1,
                                                   "value": 0.0}])])
    outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
    code, out, err = mds_in_process(["campaign", "outcomes", campaign_id, "--input", str(tmp_path / "outcomes.csv")],
                          monkeypatch, capsys)
    assert code == 0, err
    assert f"recorded {len(members):,}" in out and "1 outside the campaign" in out
    code, out, err = mds_in_process(["campaign", "readout", campaign_id, "--report", str(tmp_path / "r.png"),
                           "--json", str(tmp_path / "r.json")], monkeypatch, capsys)
    assert code == 0, err
    readout = json.loads((tmp_path / "r.json").read_text())
    assert readout["has_outcomes"] and readout["outside_outcomes"] == 1
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    code, out, err = mds_in_process(["campaign", "list"], monkeypatch, capsys)
    assert campaign_id in out


@pytest.mark.parametrize("args, flag", [
    (["--holdout-share", "0.9", "--max-users", "10"], "--holdout-share"),
    (["--holdout-share", "0.2", "--max-users", "0"], "--max-users"),
    (["--holdout-share", "0.2", "--max-users", "10", "--model", "nope"], "--model"),
])
def test_bad_plan_flags_exit_2_naming_the_flag(env: Settings, monkeypatch, capsys, args, flag):
    base = ["campaign", "plan", "--logic", "(age#Between#18, 70)"]
    if "--model" not in args:
        base += ["--model", "coupon"]
    code, out, err = mds_in_process([*base, *args], monkeypatch, capsys)
    assert code == 2
    assert flag in err or flag.strip("-").replace("-", "_") in err


def test_outcome_files_with_bad_columns_name_the_column(env: Settings, tmp_path: Path, monkeypatch, capsys):
    code, out, err = mds_in_process(["campaign", "plan", "--model", "coupon", "--logic", "(age#Between#18, 70)",
                           "--max-users", "20", "--holdout-share", "0.2", "--launch",
                           "--json", str(tmp_path / "plan.json")], monkeypatch, capsys)
    campaign_id = json.loads((tmp_path / "plan.json").read_text())["campaign_id"]
    pd.DataFrame({"user_id": ["u0000001"], "arm": ["treated"], "outcome": [1]}).to_csv(tmp_path / "a.csv", index=False)
    code, out, err = mds_in_process(["campaign", "outcomes", campaign_id, "--input", str(tmp_path / "a.csv")], monkeypatch, capsys)
    assert code == 2 and "'group'" in err
    pd.DataFrame({"user_id": ["u0000001", "u0000002"], "group": ["treated", "control"], "outcome": [1, 0]}).to_csv(
        tmp_path / "b.csv", index=False)
    code, out, err = mds_in_process(["campaign", "outcomes", campaign_id, "--input", str(tmp_path / "b.csv")], monkeypatch, capsys)
    assert code == 2 and "line 3" in err


def test_bench_refuses_a_catalog_other_than_the_demo_worlds(settings: Settings, tmp_path: Path, monkeypatch,
                                                            capsys):
    path = tmp_path / "shop.yaml"
    path.write_text("name: shop\nentities:\n  customer: {key: customer_id}\ngroups:\n  - name: history\n"
                    "    entity: customer\n    ttl_seconds: 3600\n    features:\n"
                    "      - {name: recency, dtype: int, range: [1, 12]}\n")
    monkeypatch.setenv("MDS_CATALOG", str(path))
    with cli_environment(settings, monkeypatch):
        code, _, err = mds_in_process(["campaign", "bench", "--users", "100", "--repeats", "1"], monkeypatch,
                                      capsys)
    assert code == 2 and "MDS_CATALOG" in err and "'shop'" in err and "Traceback" not in err
