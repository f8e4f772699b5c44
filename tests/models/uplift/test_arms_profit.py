"""Several treatments, cost-aware selection and the profit curve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.errors import InvalidArgument
from models.uplift import MultiArmUplift, check_costs, choose_arms, evaluate_arms, profit_curve
from models.uplift.scoring import select_top
from services.cli.uplift import app


def three_arms(n: int = 6000, seed: int = 0):
    """Arm 'a' helps users with x0 > 0 (+0.25), arm 'b' helps users with x0 < 0 (+0.2): no single arm
    is right for everyone, so choosing per user must beat the best single arm."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    arm = rng.choice(["a", "b", "none"], n)
    p = 0.2 + np.where(arm == "a", 0.25 * (X[:, 0] > 0), 0.0) + np.where(arm == "b", 0.2 * (X[:, 0] < 0), 0.0)
    y = (rng.random(n) < p).astype(float)
    return pd.DataFrame(X, columns=["x0", "x1", "x2"]), arm, y


def test_multi_arm_uplift_picks_the_right_arm_per_user() -> None:
    frame, arm, y = three_arms()
    model = MultiArmUplift("t_learner", "none").fit(frame.to_numpy(), arm, y)
    assert model.arms_ == ["a", "b"]
    chosen, net = model.choose(frame.to_numpy())
    pos = frame["x0"].to_numpy() > 0.5
    neg = frame["x0"].to_numpy() < -0.5
    assert (chosen[pos] == 0).mean() > 0.8 and (chosen[neg] == 1).mean() > 0.8
    assert (net >= 0).all()
    # A cost above every arm's value: nobody is treated.
    chosen, _ = model.choose(frame.to_numpy(), costs={"a": 1.0, "b": 1.0})
    assert (chosen == -1).all()
    with pytest.raises(InvalidArgument) as err:
        choose_arms(np.zeros((2, 2)), ["a", "b"], costs={"a": -1.0})
    assert err.value.field == "costs[a]"


def test_evaluate_arms_reports_per_arm_metrics_and_the_value_of_choosing() -> None:
    frame, arm, y = three_arms(8000)
    report = evaluate_arms(frame, arm, y, control="none", learner="t_learner", seeds=2).to_json()
    assert set(report["per_arm"]) == {"a", "b"}
    assert all(report["per_arm"][a]["qini_auc"][0] > 0.1 for a in ("a", "b"))
    values = report["policy_value"]
    # Truth: none 0.2, all-a 0.325, all-b 0.3, per user ~0.425; IPW estimates on 4,000 test rows.
    assert values["per_user"][0] > values["best_single_arm"][0] + 0.04
    assert values["gain_vs_best_arm"][0] > 0.04 and values["none"][0] < values["best_single_arm"][0]
    with pytest.raises(InvalidArgument) as err:
        evaluate_arms(frame, np.where(arm == "none", "a", arm), y, control="none", arm_field="segment")
    assert err.value.field == "segment"


def test_select_top_by_net_value_under_a_cost_budget() -> None:
    uplift = np.array([0.10, 0.05, 0.30, 0.02])
    costs = np.array([2.0, 1.0, 10.0, 0.5])
    # Value 50 per conversion: net = 3, 1.5, 5, 0.5; per unit cost 1.5, 1.5, 0.5, 1.0.
    sel = select_top(uplift, max_cost=3.5, costs=costs, value_per_unit=50.0)
    assert sel.indices.tolist() == [0, 1, 3] and sel.total_cost == pytest.approx(3.5)
    assert sel.expected_profit == pytest.approx(3 + 1.5 + 0.5)
    # Worth less than its cost: never selected, whatever the budget.
    sel = select_top(uplift, max_users=4, costs=costs, value_per_unit=20.0)  # nets 0, 0, -4, -0.1
    assert sel.indices.tolist() == []
    # Without a value the old behaviour holds: uplift per cost.
    assert select_top(uplift, max_cost=3.5, costs=costs).expected_profit is None
    with pytest.raises(InvalidArgument):
        select_top(uplift, max_users=1, value_per_unit=-1.0)


def test_profit_curve_peaks_where_the_targeting_stops_paying() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    good = rng.random(n) < 0.3  # 30 % respond to the offer (+0.5), the rest not at all
    t = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.1 + 0.5 * good * t).astype(float)
    uplift = np.where(good, 0.5, 0.0) + rng.normal(0, 0.01, n)
    curve = profit_curve(y, uplift, t, np.full(n, 0.1), value_per_unit=1.0)
    # Treating the 30 % who respond earns ~0.5 each for 0.1: the best budget is about 0.3 n x 0.1.
    assert 0.25 * n * 0.1 < curve.best_budget < 0.36 * n * 0.1
    assert curve.max_profit > curve.to_json()["profit_treat_all"]
    for bad in ([1.0, np.nan], [1.0, -2.0]):
        with pytest.raises(InvalidArgument) as err:
            check_costs(bad, 2, field="--cost-col")
        assert err.value.field == "--cost-col"


def test_evaluate_cost_column_gives_profit_and_bad_costs_name_the_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 3000
    x = rng.normal(size=n)
    t = rng.integers(0, 2, n)
    spend = (rng.random(n) < 0.2 + 0.2 * t * (x > 0)) * rng.lognormal(3, 0.3, n)
    df = pd.DataFrame({"x": x, "t": t, "spend": spend, "cost": rng.uniform(0.5, 1.5, n)})
    path = tmp_path / "rev.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "rev.json"
    base = ["evaluate", "--data", str(path), "--treatment-col", "t", "--treatment-value", "1", "--control-value",
            "0", "--outcome-col", "spend", "--learners", "default,t_learner", "--seeds", "1", "--bootstrap", "20"]
    run = CliRunner().invoke(app, [*base, "--cost-col", "cost", "--json", str(out)], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    assert report["profit"]["default"]["max_profit"] > report["profit"]["default"]["profit_treat_all"] - 1e-9
    assert out.with_name("rev_profit.png").read_bytes()[:4] == b"\x89PNG"
    df.loc[7, "cost"] = -1.0
    df.to_csv(path, index=False)
    run = CliRunner().invoke(app, [*base, "--cost-col", "cost"])
    assert isinstance(run.exception, InvalidArgument) and run.exception.field == "--cost-col"
    assert "'cost'" in str(run.exception) and "negative" in str(run.exception)


def test_arms_command_on_a_file(tmp_path: Path) -> None:
    frame, arm, y = three_arms(4000, seed=2)
    path = tmp_path / "arms.parquet"
    frame.assign(offer=arm, bought=y).to_parquet(path)
    out = tmp_path / "arms.json"
    run = CliRunner().invoke(app, ["arms", "--data", str(path), "--treatment-col", "offer", "--control-value",
                                   "none", "--outcome-col", "bought", "--learner", "t_learner", "--seeds", "1",
                                   "--json", str(out)], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    assert report["arms"] == ["a", "b"] and "gain_vs_best_arm" in report["policy_value"]
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_train_arms_registers_a_servable_multi_arm_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDS_DATA_DIR", str(tmp_path / "var"))
    from core.settings import Settings
    from models.registry import ModelRegistry

    frame, arm, y = three_arms(3000, seed=4)
    path = tmp_path / "arms.csv"
    frame.assign(offer=arm, bought=y.astype(int)).to_csv(path, index=False)
    args = ["train", "--name", "offers", "--arms", "--learner", "t_learner", "--data", str(path),
            "--treatment-col", "offer", "--control-value", "none", "--outcome-col", "bought"]
    run = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "offers v1 (t_learner per arm: a, b)" in run.output and "saved offers v1 to" in run.output
    loaded = ModelRegistry(Settings().models_dir).load("offers")
    assert loaded.model.arms == ["a", "b"] and loaded.manifest.metrics["holdout_a_qini_auc"] > 0.05
    assert loaded.model.predict_arms(frame.iloc[:5]).shape == (5, 2)
    # An arm too small for the holdout: refused, naming the column flag, nothing new registered.
    small = frame.assign(offer=np.where(np.arange(len(frame)) < 20, "c", arm), bought=y.astype(int))
    small.to_csv(path, index=False)
    run = CliRunner().invoke(app, [*args[:2], "offers2", *args[3:]])
    assert isinstance(run.exception, InvalidArgument) and run.exception.field == "--treatment-col"
    assert "'c'" in str(run.exception)
    assert ModelRegistry(Settings().models_dir).list_models() == ["offers"]
