"""Robust defaults, tuning, anchors, intervals, calibration, revenue outcomes and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.errors import InvalidArgument
from models.uplift import (
    SEARCH_SPACES,
    available_anchors,
    bootstrap_intervals,
    calibration_by_decile,
    make_learner,
    synthetic_experiment,
    tune_learner,
)
from models.uplift.evaluation import evaluate_learners, synthetic_dataset
from models.uplift.metrics import qini_auc
from models.uplift.suite import suite_datasets
from services.cli.uplift import app


def planted(n: int = 3000, seed: int = 0, revenue: bool = False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = rng.integers(0, 2, n)
    effect = np.where(X[:, 0] > 0, 0.3, -0.1)
    p = np.clip(0.3 + 0.1 * np.tanh(X[:, 1]) + t * effect, 0.01, 0.99)
    y = (rng.random(n) < p).astype(float)
    if revenue:  # buyers spend a lognormal amount: uplift in money is 40 x the probability uplift
        y = y * rng.lognormal(np.log(40.0), 0.3, n)
    return X, t, y, effect


def test_early_stopping_grows_fewer_trees_on_noise() -> None:
    rng = np.random.default_rng(1)
    X, t, y = rng.normal(size=(4000, 3)), rng.integers(0, 2, 4000), (rng.random(4000) < 0.2).astype(float)
    stopped = make_learner("t_learner").fit(X, t, y)
    full = make_learner("t_learner").set_params(early_stopping_rounds=0).fit(X, t, y)
    assert full.model_treated_.n_estimators == 300
    # Pure noise: the validation loss stops improving early, so far fewer trees are kept (at least the floor).
    assert 30 <= stopped.model_treated_.n_estimators < 150


def test_tuning_is_time_bounded_and_picks_from_the_space() -> None:
    X, t, y, _ = planted(2400)
    quick = tune_learner("t_learner", X, t, y, seconds=1e-6, folds=2)
    assert len(quick.tried) == 1 and quick.tried[0][:2] == ("t_learner", {})  # the default is tried first
    full = tune_learner("t_learner", X, t, y, seconds=600, folds=2)
    assert len(full.tried) == len(SEARCH_SPACES["t_learner"]) and full.learner == "t_learner"
    assert full.cv_qini == max(score for *_, score in full.tried) and full.cv_qini > 0.05
    assert make_learner("t_learner").set_params(**full.params).fit(X, t, y).predict(X[:3]).shape == (3,)
    with pytest.raises(InvalidArgument) as err:
        tune_learner("t_learner", X, t, y, seconds=0)
    assert err.value.field == "--tune-seconds"


def test_bag_tuning_chooses_bag_weight_and_size() -> None:
    space = SEARCH_SPACES["bag_regularized"]
    assert {"bag_weight", "bag_size"} <= {k for c in space for k in c}


def test_tuning_default_chooses_the_learner_family() -> None:
    X, t, y, _ = planted(2400)
    # A tight bound still compares every family's default before any other setting.
    result = tune_learner("default", X, t, y, seconds=1e-6, folds=2)
    assert [name for name, params, _ in result.tried] == ["bag_blend"]
    result = tune_learner("default", X, t, y, seconds=600, folds=2)
    families = [name for name, params, _ in result.tried if params == {}]
    assert families[:6] == ["bag_blend", "bag_corrected_s", "bag_regularized", "s_learner", "x_learner", "t_learner"]
    assert result.learner in families and result.cv_qini == max(score for *_, score in result.tried)
    # Revenue outcomes leave the 0/1-only learners out.
    revenue = tune_learner("default", X, t, y * 30.0, seconds=1e-6, folds=2)
    assert revenue.tried[0][0] == "s_learner"


@pytest.mark.parametrize("name", available_anchors())
def test_anchor_recovers_the_planted_effect(name: str) -> None:
    X, t, y, effect = planted(3000)
    pred = make_learner(name, random_state=0).fit(X, t, y).predict(X)
    assert pred.shape == (len(X),) and np.isfinite(pred).all()
    assert np.corrcoef(pred, effect)[0, 1] > 0.3


def test_bootstrap_interval_brackets_the_estimate_and_calibration_tracks_truth() -> None:
    X, t, y, effect = planted(6000, seed=3)
    good = effect + np.random.default_rng(0).normal(0, 0.05, len(effect))
    iv = bootstrap_intervals(y, good, t, n_boot=60)
    point = qini_auc(y, good, t)
    assert set(iv) == {"qini_auc", "uplift_auc", "uplift_at_30"}
    lo, hi = iv["qini_auc"]
    assert lo < point < hi and hi - lo < 0.3
    # A random ranking's interval is centred near zero and does not contain the good model's score.
    noise = bootstrap_intervals(y, np.random.default_rng(1).normal(size=len(y)), t, n_boot=60)["qini_auc"]
    assert noise[0] < 0.0 < noise[1] and noise[1] < lo
    cal = calibration_by_decile(y, good, t)
    assert len(cal.predicted) == 10 and sum(cal.rows) == len(y)
    # Top deciles (x0 > 0) show the +0.3 effect; bottom ones the -0.1 effect.
    assert np.mean(cal.observed[:3]) > 0.2 and np.mean(cal.observed[-3:]) < 0.0


def test_revenue_outcome_t_learner_estimates_money_uplift_and_bag_refuses() -> None:
    X, t, y, effect = planted(6000, revenue=True)
    pred = make_learner("t_learner").fit(X, t, y).predict(X)
    pos, neg = X[:, 0] > 0, X[:, 0] < 0
    # Truth: about +12 money units where x0 > 0 (0.3 x 40), about -4 where x0 < 0.
    assert 6 < pred[pos].mean() < 18 and pred[neg].mean() < 0
    assert make_learner("default").supports_continuous is False
    with pytest.raises(InvalidArgument, match="binary") as err:
        make_learner("bag_regularized").fit(X, t, y)
    assert err.value.field == "y"
    # Metrics work in money: a good ranking has a clearly positive Qini.
    assert qini_auc(y, pred, t) > 0.1


def test_evaluate_revenue_uses_the_revenue_default() -> None:
    frame, t, y, tau = synthetic_experiment(3000, 5, "high", seed=2)
    from models.uplift.evaluation import UpliftDataset

    ds = UpliftDataset("rev", frame, t, y * 25.0, tau * 25.0)
    report = evaluate_learners(ds, None, seeds=1, n_boot=20)
    assert "default" in report.learners and "bag_regularized" not in report.learners
    with pytest.raises(InvalidArgument, match="0/1 outcomes only") as err:
        evaluate_learners(ds, ["bag_regularized"], seeds=1)
    assert err.value.field == "--learners"


def test_synthetic_experiment_has_known_uplift_and_suite_is_bounded() -> None:
    frame, t, y, tau = synthetic_experiment(5000, 20, "low", seed=0)
    assert frame.shape == (5000, 20) and set(np.unique(t)) == {0, 1} and set(np.unique(y)) <= {0.0, 1.0}
    hi = synthetic_experiment(5000, 20, "high", seed=0)[3]
    assert 0 < np.abs(tau).mean() < np.abs(hi).mean()
    names = [name for name, _ in suite_datasets()]
    assert "hillstrom" in names and "hillstrom_mens_conversion" in names
    assert sum(n.startswith("demo_signal") for n in names) == 3
    assert {n for n in names if n.startswith("synthetic")} >= {"synthetic_low_3f", "synthetic_medium_50f"}


def _csv(tmp_path: Path, **columns: object) -> Path:
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({"x": rng.normal(size=n), "arm": rng.choice(["a", "b"], n),
                       "y": rng.integers(0, 2, n), "spend": rng.exponential(10, n) * rng.integers(0, 2, n)})
    for k, v in columns.items():
        df[k] = v if not callable(v) else v(df)
    path = tmp_path / "exp.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("columns, outcome, match, field", [
    ({"y": lambda d: np.where(d.index % 2 == 0, "yes", "no")}, "y", "'y' is not numeric", "--outcome-col"),
    ({"y": lambda d: np.where(d.index == 5, np.nan, 1.0)}, "y", "'y' has 1 missing", "--outcome-col"),
    ({"arm": "a"}, "y", "'arm' .*one arm", "--treatment-col"),
    ({"arm": lambda d: np.where(d.index < 12, "b", "a")}, "y", "'arm': the control arm has 12 rows", "arm"),
])
def test_bad_input_names_the_column_and_registers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         columns: dict, outcome: str, match: str, field: str) -> None:
    monkeypatch.setenv("MDS_DATA_DIR", str(tmp_path / "var"))
    path = _csv(tmp_path, **columns)
    args = ["--data", str(path), "--treatment-col", "arm", "--treatment-value", "a", "--control-value", "b",
            "--outcome-col", outcome]
    run = CliRunner().invoke(app, ["train", "--name", "bad", "--learner", "t_learner", *args])
    assert isinstance(run.exception, InvalidArgument), run.output
    assert run.exception.field == field
    import re

    assert re.search(match, str(run.exception)), str(run.exception)
    from core.settings import Settings
    from models.registry import ModelRegistry

    assert ModelRegistry(Settings().models_dir).list_models() == []


def test_evaluate_with_anchors_default_intervals_and_calibration_png(tmp_path: Path) -> None:
    if not available_anchors():
        pytest.skip("no anchor package installed")
    ds_path = tmp_path / "syn.parquet"
    frame, t, y, _ = synthetic_experiment(4000, 5, "high", seed=5)
    frame.assign(arm=np.where(t == 1, "mail", "none"), bought=y).to_parquet(ds_path)
    out = tmp_path / "e.json"
    run = CliRunner().invoke(app, ["evaluate", "--data", str(ds_path), "--treatment-col", "arm",
                                   "--treatment-value", "mail", "--control-value", "none", "--outcome-col",
                                   "bought", "--learners", "default,t_learner", "--anchors", "--seeds", "2",
                                   "--bootstrap", "20", "--json", str(out)], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    names = set(report["learners"])
    assert {"default", "t_learner"} <= names
    assert "anchor:sklift.TwoModels" in names
    for name, stats in report["learners"].items():
        assert set(stats) == {"qini_auc", "uplift_auc", "uplift_at_30", "fit_seconds"}, name
        assert stats["qini_auc"][0] > (0.05 if not name.startswith("anchor:") else 0.0), name
        lo, hi = report["intervals"][name]["qini_auc"]
        assert lo < hi
        assert len(report["calibration"][name]["predicted"]) == 10
    png = out.with_name("e_calibration.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_with_tune_records_the_tuning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDS_DATA_DIR", str(tmp_path / "var"))
    from core.settings import Settings
    from models.registry import ModelRegistry

    ds = synthetic_dataset("high", 5, n=3000, seed=0)
    path = tmp_path / "syn.csv"
    ds.frame.assign(arm=ds.treatment, bought=ds.outcome.astype(int)).to_csv(path, index=False)
    run = CliRunner().invoke(app, ["train", "--name", "syn", "--learner", "t_learner", "--tune", "--tune-seconds",
                                   "2", "--data", str(path), "--treatment-col", "arm", "--treatment-value", "1",
                                   "--control-value", "0", "--outcome-col", "bought"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    manifest = ModelRegistry(Settings().models_dir).manifest("syn")
    assert manifest.metrics["tune_candidates"] >= 1 and manifest.metrics["tune_cv_qini"] > 0.0


def test_evaluate_with_tuning_reports_the_chosen_family_and_tune_seconds() -> None:
    ds = synthetic_dataset("high", 5, n=3000, seed=3)
    report = evaluate_learners(ds, ["default", "t_learner"], seeds=1, tune_seconds=0.01, n_boot=20)
    tuned = report.to_json()["tuned"]
    assert tuned["default"]["learner"] == "bag_blend"  # the first family; the bound stops the rest
    assert tuned["t_learner"]["learner"] == "t_learner" and tuned["t_learner"]["candidates"] == 1
    stats = report.to_json()["learners"]["default"]
    assert stats["tune_seconds"][0] > 0 and "fit_seconds" in stats


def test_suite_command_writes_one_report_per_data_set_and_the_summary(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if not available_anchors():
        pytest.skip("no anchor package installed")
    import models.uplift.suite as suite

    small = [("syn_a", lambda: synthetic_dataset("high", 5, n=2000, seed=1)),
             ("syn_b", lambda: synthetic_dataset("medium", 3, n=2000, seed=2))]
    monkeypatch.setattr(suite, "suite_datasets", lambda **_: small)
    out = tmp_path / "suite"
    run = CliRunner().invoke(app, ["evaluate", "--suite", "--anchors", "--learners", "default,t_learner",
                                   "--seeds", "1", "--bootstrap", "10", "--out-dir", str(out)],
                             env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    summary = json.loads((out / "suite.json").read_text())
    assert [r["dataset"] for r in summary["rows"]] == ["syn_a", "syn_b"]
    for row in summary["rows"]:
        assert row["best_anchor"].startswith("anchor:") and isinstance(row["meets_target"], bool)
        report = json.loads((out / f"{row['dataset']}.json").read_text())
        assert "default" in report["learners"] and (out / f"{row['dataset']}_calibration.png").exists()
    run = CliRunner().invoke(app, ["evaluate", "--suite", "--dataset", "hillstrom"])
    assert isinstance(run.exception, InvalidArgument) and run.exception.field == "--suite"


def test_default_ranks_a_rare_outcome_and_the_gate_falls_back_to_the_s_learner() -> None:
    from models.uplift import GatedBagUplift, qini_auc

    rng = np.random.default_rng(5)
    n = 16_000
    X = rng.normal(size=(n, 4))
    t = rng.integers(0, 2, n)
    # Rare outcome (~1 %): the treatment adds 3 points only where x0 > 0.
    y = (rng.random(n) < 0.01 + t * 0.03 * (X[:, 0] > 0)).astype(int)
    train, test = slice(0, n // 2), slice(n // 2, n)
    default = make_learner("default").fit(X[train], t[train], y[train])
    # The old default (the bag net alone) reaches about 0.04 here, the S-learner-based default about 0.2.
    assert qini_auc(y[test], default.predict(X[test]), t[test]) > 0.1
    gated = GatedBagUplift().fit(X[train], t[train], y[train])
    assert gated.family_ == "s_learner" and gated.bag_responders_ < gated.min_bag_responders
    # A common outcome gives every bag enough responders: the bag net is fitted.
    common = (rng.random(n) < 0.3 + t * 0.1 * (X[:, 0] > 0)).astype(int)
    gated = GatedBagUplift().set_params(bag_size=256).fit(X[:4000], t[:4000], common[:4000])
    assert gated.family_ == "bag_regularized" and gated.bag_responders_ >= 20


def test_blend_averages_both_members_and_leaves_the_net_out_of_rare_outcomes() -> None:
    from models.uplift import BagCorrectedSLearner, BagRegularizedUplift, BlendedBagUplift

    rng = np.random.default_rng(7)
    n = 6000
    X = rng.normal(size=(n, 4))
    t = rng.integers(0, 2, n)
    common = (rng.random(n) < 0.3 + t * 0.1 * (X[:, 0] > 0)).astype(int)
    blend = BlendedBagUplift(bag_size=256, random_state=3).fit(X, t, common)
    assert blend.members_ == ["bag_corrected_s", "bag_regularized"] and blend.bag_responders_ >= 20
    s_part = BagCorrectedSLearner(bag_size=256, random_state=3).fit(X, t, common).predict(X[:200])
    net_part = BagRegularizedUplift(bag_size=256, n_ensemble=1, random_state=3).fit(X, t, common).predict(X[:200])
    np.testing.assert_allclose(blend.predict(X[:200]), (s_part + net_part) / 2, rtol=1e-6, atol=1e-9)
    # ~1 % responders: a bag of 256 expects about one per arm, so neither the net nor the correction stage
    # is fitted: the blend is the corrected S-learner's stage 1 alone (its trees, its seed, no correction).
    rare = (rng.random(n) < 0.01 + t * 0.02 * (X[:, 0] > 0)).astype(int)
    blend = BlendedBagUplift(bag_size=256, random_state=3).fit(X, t, rare)
    assert blend.members_ == ["s_learner"] and blend.bag_responders_ < 20
    corrected = BagCorrectedSLearner(bag_size=256, random_state=3).fit(X, t, rare)
    stage1 = corrected.predict(X[:200]) - corrected.correction_.predict(X[:200], raw_score=True)
    np.testing.assert_allclose(blend.predict(X[:200]), stage1, rtol=1e-9, atol=1e-12)
    assert blend.models_[0].model_.n_estimators == 100  # a fixed budget: no early stopping on a rare outcome
