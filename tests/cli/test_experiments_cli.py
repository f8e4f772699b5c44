"""``mds experiments analyze``/``bench``: Hillstrom end to end, bad input named clearly (and exit 2 in a real
subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _mds_cli import run_mds
from scipy import stats
from typer.testing import CliRunner

from core.errors import InvalidArgument
from core.paths import hillstrom_csv
from core.settings import Settings
from services.cli.experiments import app

CONTROL = "No E-Mail"


def test_hillstrom_end_to_end(tmp_path: Path) -> None:
    out, png = tmp_path / "hillstrom.json", tmp_path / "lifts.png"
    # in-process (the subprocess path is covered by the exit-code test below; one interpreter start is enough)
    run = CliRunner().invoke(app, [
        "analyze", "--data", str(hillstrom_csv()), "--arm-col", "segment", "--control", CONTROL,
        "--metrics", "visit,conversion,spend,spend/visit", "--covariate", "history", "--segments", "zip_code",
        "--policy-score", "history", "--policy-arm", "Womens E-Mail", "--json", str(out), "--plot", str(png)])
    assert run.exit_code == 0, run.output
    assert "Sample ratio check" in run.output and "OK" in run.output
    assert png.stat().st_size > 20_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(out.read_text())
    df = pd.read_csv(hillstrom_csv())
    assert set(report["arms"]) == {CONTROL, "Mens E-Mail", "Womens E-Mail"}
    assert report["srm"]["ok"] is True
    assert report["srm"]["p_value"] == pytest.approx(stats.chisquare([21306, 21307, 21387]).pvalue, rel=1e-9)
    for arm in ("Mens E-Mail", "Womens E-Mail"):
        for metric in ("visit", "conversion", "spend"):
            entry = report["arms"][arm][metric]
            assert set(entry) >= {"mean", "lift", "ci", "p_value", "cuped_lift", "cuped_ci"}
            c, t = df.loc[df.segment == CONTROL, metric], df.loc[df.segment == arm, metric]
            ref = stats.ttest_ind(t, c, equal_var=False)
            assert entry["mean"] == pytest.approx(t.mean(), rel=1e-9)
            assert entry["lift"] == pytest.approx(t.mean() - c.mean(), rel=1e-9)
            assert entry["ci"] == pytest.approx(list(ref.confidence_interval(0.95)), rel=1e-9)
            assert entry["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
            assert entry["cuped_ci"][0] < entry["cuped_lift"] < entry["cuped_ci"][1]
        # segments: the per-zip-code ATEs, each checked against scipy on that slice
        for seg in report["segments"][arm]["visit"]:
            part = df[df.zip_code == seg["segment"]]
            ate = part.visit[part.segment == arm].mean() - part.visit[part.segment == CONTROL].mean()
            assert seg["ate"] == pytest.approx(ate, rel=1e-9)
    assert report["arms"][CONTROL]["visit"]["lift"] is None
    assert round(100 * report["arms"]["Mens E-Mail"]["visit"]["mean"], 2) == 18.28
    policy = {v["policy"]: v for v in report["policy"]["values"]}
    assert policy["treat none"]["value"] == pytest.approx(df.visit[df.segment == CONTROL].mean(), rel=1e-9)
    assert policy["treat all"]["value"] == pytest.approx(df.visit[df.segment == "Womens E-Mail"].mean(), rel=1e-9)
    top = policy["treat top 30% by history"]
    assert top["treated_share"] == pytest.approx(0.3, abs=0.01)
    assert policy["treat none"]["value"] < top["value"] < policy["treat all"]["value"]


def test_text_in_metric_column_exits_2_with_the_column_named(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("arm,spend\na,1\nb,2\na,3\nb,abc\n")
    run = run_mds(settings, "experiments", "analyze", "--data", str(path), "--arm-col", "arm", "--control", "a",
                  "--metrics", "spend", "--json", str(tmp_path / "x.json"), timeout=240)
    assert run.returncode == 2
    assert "column 'spend' must be numeric" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "x.json").exists()


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({"arm": rng.choice(["ctl", "trt"], n), "y": rng.normal(size=n), "pre": rng.normal(size=n),
                       "seg": rng.choice(["a", "b"], n)})
    path = tmp_path / "small.parquet"
    df.to_parquet(path)
    return path


@pytest.mark.parametrize(("extra", "field", "words"), [
    (["--control", "nobody"], "--control", "control arm 'nobody' not found"),
    (["--control", "ctl", "--treatments", "zzz"], "--treatments", "treatment arm 'zzz' not found"),
    (["--control", "ctl", "--covariate", "prior"], "--covariate", "column 'prior' not in small.parquet"),
    (["--control", "ctl", "--split", "ctl=1,trt"], "--split", "ARM=WEIGHT"),
    (["--control", "ctl", "--split", "ctl=1"], "--split", "no weight for arm(s) 'trt'"),
    (["--control", "ctl", "--alpha", "2"], "--alpha", "--alpha"),
    (["--control", "ctl", "--prior-sd", "-1"], "--prior-sd", "--prior-sd"),
    (["--control", "ctl", "--lower-is-better", "cost"], "--lower-is-better", "cost"),
    (["--control", "ctl", "--policy-score", "pre", "--policy-top", "0"], "--policy-top", "(0, 1]"),
    (["--control", "ctl", "--policy-score", "pre", "--policy-arm", "ctl"], "--policy-arm", "not a treatment arm"),
    (["--control", "ctl", "--policy-score", "pre", "--policy-metric", "pre"], "--policy-metric", "plain --metrics"),
])
def test_bad_flags_raise_invalid_argument(small_csv: Path, tmp_path: Path, extra: list[str], field: str,
                                          words: str) -> None:
    args = ["analyze", "--data", str(small_csv), "--arm-col", "arm", "--metrics", "y", "--json", str(tmp_path / "o.json"),
            *extra]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, InvalidArgument), result.output
    assert result.exception.field == field
    assert words in result.exception.message


def test_one_arm_only_is_named(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("arm,y\nctl,1\nctl,2\nctl,4\n")
    result = CliRunner().invoke(app, ["analyze", "--data", str(path), "--arm-col", "arm", "--control", "ctl", "--metrics", "y",
                                      "--json", str(tmp_path / "o.json")])
    assert isinstance(result.exception, InvalidArgument)
    assert "only one arm ('ctl')" in result.exception.message and result.exception.field == "--arm-col"


def test_small_file_writes_json_and_png(small_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["analyze", "--data", str(small_csv), "--arm-col", "arm", "--control", "ctl",
                                      "--metrics", "y", "--covariate", "pre", "--segments", "seg", "--json", str(out),
                                      "--prior-sd", "0.3", "--lower-is-better", "y"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["arms"]["trt"]["y"]["cuped_lift"] is not None
    assert report["settings"]["prior_sd"] == 0.3 and report["settings"]["lower_is_better"] == ["y"]
    assert {s["segment"] for s in report["segments"]["trt"]["y"]} == {"a", "b"}
    assert out.with_suffix(".png").exists()


def test_bench_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--rows", "30000", "--format", "csv", "--json", str(out),
                                      "--workdir", str(tmp_path), "--batch-rows", "7000"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["rows"] == 30000 and report["rows_per_s"] > 0
    # designed effect: email visits 13% vs control 10%
    assert 0.0 < report["email_visit_lift"] < 0.06
    assert not list(tmp_path.glob("experiments_bench_*"))  # the synthetic file is removed
