"""``mds targeting`` commands, run in-process through the real ``mds`` entry point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from _mds_cli import cli_environment, mds_in_process

from core.settings import Settings
from models.targeting.audience import snapshot_path
from models.targeting.logic import evaluate, parse_logic


@pytest.fixture
def env(seeded_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    with cli_environment(seeded_settings, monkeypatch) as env:
        yield env


def test_select_counts_and_stores_a_segment(env: Settings, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    logic = "(gender#Equal To#male) AND (interests#Contains Any#gaming,tech)"
    code, out, _ = mds_in_process(["targeting", "select", logic, "--segment", "gamers", "--sample", "3"],
                                  monkeypatch, capsys)
    assert code == 0
    users = pd.read_parquet(snapshot_path(env))
    expected = {r["user_id"] for r in users.to_dict("records") if evaluate(parse_logic(logic), r)}
    assert f"{len(expected):,} of 2,000 users" in out
    key = f"{env.namespace}:targeting:segment:gamers"
    assert {m.decode() for m in redis.Redis.from_url(env.redis_url or "").smembers(key)} == expected


@pytest.mark.parametrize(("args", "flag"), [
    (["targeting", "select", "(age#Greater Than#300)"], "range"),
    (["targeting", "select", "(age#Greater Than#30", "--segment", "x"], "ends early"),
    (["targeting", "select", "(age#Greater Than#30)", "--segment", "no spaces"], "segment name"),
    (["targeting", "select", "(age#Greater Than#30)", "--engine", "oracle"], "unknown engine"),
    (["targeting", "evaluate", "--cases", "/nonexistent/cases.jsonl", "--json", "/tmp/x.json"], "does not exist"),
])
def test_bad_input_exits_2_with_a_message(env: Settings, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], args: list[str], flag: str) -> None:
    code, _, err = mds_in_process(args, monkeypatch, capsys)
    assert code == 2
    assert flag in err and "Traceback" not in err


def test_corpus_command_writes_deterministic_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        code, _, _ = mds_in_process(["targeting", "corpus", "--out", str(path), "--n", "50", "--seed", "4"],
                                    monkeypatch, capsys)
        assert code == 0
    assert a.read_text() == b.read_text()
    rows = [json.loads(line) for line in a.read_text().splitlines()]
    assert len(rows) == 50 and {"demand", "reasoning", "logic"} <= set(rows[0])


def test_parse_prints_json_with_logic_sql_and_estimate(env: Settings, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = mds_in_process(["targeting", "parse", "women in shanghai who have kids", "--json", "--variant",
                                   "linker"], monkeypatch, capsys)
    assert code == 0
    data = json.loads(out)
    assert data["logic"] == "(city#Equal To#shanghai) AND (gender#Equal To#female) AND (has_children#Equal To#true)"
    users = pd.read_parquet(snapshot_path(env))
    expected = sum(evaluate(parse_logic(data["logic"]), r) for r in users.to_dict("records"))
    assert data["estimated_audience_size"] == expected and data["population_size"] == 2000
    assert data["sql"].startswith('"city" = \'shanghai\'') and len(data["reasoning"]) == 4
    code, out, _ = mds_in_process(["targeting", "parse", "drop table users", "--json", "--variant", "linker"],
                                  monkeypatch, capsys)
    data = json.loads(out)
    assert code == 0 and data["logic"] == "" and data["sql"] == "" and data["explanation"]
    code, _, err = mds_in_process(["targeting", "parse", "women", "--variant", "gpt9"], monkeypatch, capsys)
    assert code == 2 and "--variant: unknown variant(s) gpt9" in err


def test_parse_and_select_print_what_an_editing_tool_needs(env: Settings, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    demand = "users who like pets in Beijing"
    code, out, _ = mds_in_process(["targeting", "parse", demand, "--json", "--variant", "linker", "--sizes"],
                                  monkeypatch, capsys)
    assert code == 0
    data = json.loads(out)
    assert {c["condition"]: c["phrase"] for c in data["conditions"]} == {
        "(city#Equal To#beijing)": "Beijing", "(interests#Contains Any#pets)": "pets"}
    assert all(demand[c["start"]:c["end"]] == c["phrase"] for c in data["conditions"])
    users = pd.read_parquet(snapshot_path(env)).to_dict("records")
    assert len(data["alternatives"]) >= 2
    for alt in data["alternatives"]:
        assert alt["audience_size"] == sum(evaluate(parse_logic(alt["logic"]), r) for r in users)
    code, out, _ = mds_in_process(["targeting", "parse", demand, "--variant", "linker"], monkeypatch, capsys)
    assert code == 0 and "reading 2" in out and "'Beijing' at 23-30" in out
    logic = "(city#Equal To#beijing) AND (interests#Contains Any#pets)"
    code, out, _ = mds_in_process(["targeting", "select", logic, "--sample", "3", "--seed", "5"],
                                  monkeypatch, capsys)
    assert code == 0 and "sample of 3 (seed 5)" in out and "interests" in out
    assert out.count("beijing") >= 3  # each sampled row shows its city


def test_bench_edit_writes_timings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from models.targeting.corpus import DEV_SET_PATH

    out = tmp_path / "edit.json"
    cases = str(DEV_SET_PATH.with_name("dev_fresh.jsonl"))
    code, text, _ = mds_in_process(["targeting", "bench-edit", "--cases", cases, "--json", str(out), "--users",
                                    "500", "--limit", "12", "--repeats", "1"], monkeypatch, capsys)
    assert code == 0 and "provenance" in text
    report = json.loads(out.read_text())
    assert report["demands"] == 12 and report["population"] == 500 and report["cases_file"] == cases
    for name in ("parse_ms", "provenance_ms", "sizes_one_pass_ms", "sizes_query_per_reading_ms"):
        assert set(report[name]) == {"p50", "p95", "mean"} and min(report[name].values()) >= 0
