"""The evaluation protocol and ``mds uplift evaluate`` / ``train`` on small real and synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _mds_cli import run_mds
from typer.testing import CliRunner

from core.errors import InvalidArgument
from core.settings import Settings
from features.catalog import demo_catalog
from features.demo_world import generate_users
from models.uplift.demo import demo_dataset
from models.uplift.evaluation import evaluate_learners, file_dataset, hillstrom_dataset
from services.cli.uplift import app

FAST = "t_learner,class_transformation"


@pytest.fixture(scope="module")
def experiment_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small file in the user's own vocabulary: arm names, a categorical column, a planted effect."""
    rng = np.random.default_rng(0)
    n = 2400
    x = rng.normal(size=n)
    plan = rng.choice(["basic", "pro"], n)
    arm = rng.choice(["coupon", "none"], n)
    p = 0.2 + (arm == "coupon") * np.where(x > 0, 0.25, 0.0)
    df = pd.DataFrame({"x": x, "plan": plan, "arm": arm, "bought": (rng.random(n) < p).astype(int),
                       "noise": rng.normal(size=n)})
    path = tmp_path_factory.mktemp("uplift") / "exp.csv"
    df.to_csv(path, index=False)
    return path


def _evaluate(*args: str):
    return CliRunner().invoke(app, ["evaluate", *args], env={"COLUMNS": "200"})


def test_evaluate_file_end_to_end(experiment_csv: Path, tmp_path: Path) -> None:
    out, png = tmp_path / "eval.json", tmp_path / "qini.png"
    run = _evaluate("--data", str(experiment_csv), "--treatment-col", "arm", "--treatment-value", "coupon",
                    "--control-value", "none", "--outcome-col", "bought", "--features", "x,plan",
                    "--seeds", "2", "--test-size", "0.5", "--learners", FAST + ",bag_regularized",
                    "--json", str(out), "--plot", str(png))
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    assert set(report["learners"]) == {"t_learner", "class_transformation", "bag_regularized"}
    for stats in report["learners"].values():
        assert set(stats) == {"qini_auc", "uplift_auc", "uplift_at_30", "fit_seconds"}
        assert all(len(v) == 2 and np.isfinite(v).all() for v in stats.values())
        # The planted effect (x > 0) is found: clearly positive Qini AUC.
        assert stats["qini_auc"][0] > 0.08  # a random ranking scores 0 ± ~0.03 here
    assert "qini_auc" in run.output and "bag_regularized" in run.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.parametrize("args, flag", [
    (["--treatment-col", "arms"], "--treatment-col"),
    (["--outcome-col", "plan"], "--outcome-col"),  # text, not an outcome
    (["--treatment-value", "vip"], "--treatment-value"),
    (["--features", "x,height"], "--features"),
    (["--learners", "t_learner,magic"], "--learners"),
    (["--seeds", "0"], "--seeds"),
    (["--test-size", "1.5"], "--test-size"),
])
def test_bad_flags_name_the_flag(experiment_csv: Path, args: list[str], flag: str) -> None:
    base = {"--treatment-col": "arm", "--treatment-value": "coupon", "--control-value": "none",
            "--outcome-col": "bought", "--learners": "t_learner", "--seeds": "1"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    run = _evaluate("--data", str(experiment_csv), *[a for kv in base.items() for a in kv])
    assert isinstance(run.exception, InvalidArgument), run.output
    assert run.exception.field == flag
    assert flag in str(run.exception) or run.exception.field == flag


def test_missing_file_and_dataset_conflicts(tmp_path: Path, experiment_csv: Path) -> None:
    run = _evaluate("--data", str(tmp_path / "nope.csv"), "--treatment-col", "a", "--treatment-value", "1",
                    "--control-value", "0", "--outcome-col", "y")
    assert isinstance(run.exception, InvalidArgument) and run.exception.field == "--data"
    run = _evaluate("--dataset", "hillstrom", "--data", str(experiment_csv))
    assert isinstance(run.exception, InvalidArgument) and run.exception.field == "--dataset"
    run = _evaluate("--dataset", "criteo")
    assert isinstance(run.exception, InvalidArgument) and run.exception.field == "--dataset"


def test_hillstrom_preset_selects_the_documented_arms() -> None:
    ds = hillstrom_dataset()
    assert len(ds.frame) == 42_693  # 21,387 Womens E-Mail + 21,306 No E-Mail
    assert list(ds.frame.columns) == ["recency", "history_segment", "history", "mens", "womens", "zip_code",
                                      "newbie", "channel"]
    assert ds.treatment.sum() == 21_387
    assert set(np.unique(ds.outcome)) == {0.0, 1.0}


def test_protocol_uses_identical_splits_and_reports_truth_metrics() -> None:
    ds = demo_dataset(3000, seed=4)
    a = evaluate_learners(ds, ["t_learner"], seeds=2, test_size=0.5)
    b = evaluate_learners(ds, ["t_learner", "s_learner"], seeds=2, test_size=0.5)
    # Same seed → same split → the T-learner scores do not depend on which other learners ran.
    assert a.learners["t_learner"].scores["qini_auc"] == b.learners["t_learner"].scores["qini_auc"]
    stats = b.to_json()["learners"]["s_learner"]
    assert {"spearman", "pehe"} <= set(stats)
    assert stats["spearman"][0] > 0.2 and 0 < stats["pehe"][0] < 0.3


def test_file_dataset_refuses_text_outcome_and_takes_revenue(experiment_csv: Path) -> None:
    with pytest.raises(InvalidArgument, match="'plan' is not numeric") as err:
        file_dataset(experiment_csv, treatment_col="arm", treatment_value="coupon", control_value="none",
                     outcome_col="plan")
    assert err.value.field == "--outcome-col"
    # A real-valued column is a revenue outcome, not an error.
    ds = file_dataset(experiment_csv, treatment_col="arm", treatment_value="coupon", control_value="none",
                      outcome_col="noise")
    assert ds.continuous and not ds.frame.columns.isin(["noise", "arm"]).any()


def test_train_saves_a_servable_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.registry import ModelRegistry

    monkeypatch.setenv("MDS_DATA_DIR", str(tmp_path / "var"))
    from core.settings import Settings

    root = Settings().models_dir
    run = CliRunner().invoke(app, ["train", "--dataset", "demo", "--demo-users", "3000", "--learner", "t_learner",
                                   "--name", "coupon_test"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "holdout_qini_auc" in run.output and f"saved coupon_test v1 to {root}" in run.output
    loaded = ModelRegistry(root).load("coupon_test", catalog=demo_catalog())
    assert loaded.version == 1
    assert loaded.manifest.features == [f.name for f in demo_catalog().features_of("user")]
    assert "holdout_qini_auc" in loaded.manifest.metrics
    users, _ = generate_users(demo_catalog(), 50, seed=9)
    pred = loaded.model.predict(users)
    assert pred.shape == (50,) and np.isfinite(pred).all()
    run = CliRunner().invoke(app, ["train", "--dataset", "demo", "--learner", "nope", "--name", "x"])
    assert isinstance(run.exception, InvalidArgument) and run.exception.field == "--learner"


def test_real_command_exits_2_and_names_the_column(settings: Settings, experiment_csv: Path) -> None:
    run = run_mds(settings, "uplift", "evaluate", "--data", str(experiment_csv), "--treatment-col", "arm",
                  "--treatment-value", "coupon", "--control-value", "none", "--outcome-col", "purchased",
                  "--seeds", "1", timeout=240)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "'purchased'" in run.stderr and "--outcome-col" in run.stderr
    assert "Traceback" not in run.stderr
