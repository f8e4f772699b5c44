"""The Hillstrom replay: policy scoring checked on data with a known answer, then the real loop, short."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidArgument
from models.campaign import ReplayConfig, score_region, simulate_hillstrom
from models.registry import ModelRegistry


def test_policy_scoring_recovers_a_known_ratio():
    rng = np.random.default_rng(0)
    n, k = 40_000, 10_000
    region = np.zeros(n, dtype=bool)
    region[:k] = True
    t = rng.integers(0, 2, n)
    # Only the region responds to treatment (+0.2); random picks capture k/n of it: ratio = n/k = 4.
    y = (rng.random(n) < 0.1 + 0.2 * (t == 1) * region).astype(float)
    targeted, random, ratio, (lo, hi), draws = score_region(y, t, region, 200, rng)
    assert draws.shape == (200,)
    assert targeted == pytest.approx(0.2 * k, rel=0.1)
    assert random == pytest.approx(0.2 * k * k / n, rel=0.25)
    assert lo < ratio < hi and lo < 4.0 < hi


def test_two_round_replay_reports_every_round(tmp_path):
    registry = ModelRegistry(tmp_path)
    config = ReplayConfig(rounds=2, bootstrap=100, seed=5, n_ensemble=1)
    result = simulate_hillstrom(config, registry)
    data = result.to_json()
    assert [r["round"] for r in data["rounds"]] == [1, 2]
    assert [r["model_version"] for r in data["rounds"]] == [1, 2]  # round 2 plans with the learned version
    assert registry.list_versions(config.model_name) == [1, 2]
    assert registry.manifest(config.model_name, 2).notes["round"] == 1
    for r in data["rounds"]:
        assert set(r) >= {"targeted_incremental", "random_incremental", "ratio", "ratio_ci",
                          "predicted_incremental", "model_version"}
        lo, hi = r["ratio_ci"]
        assert lo < r["ratio"] < hi
        assert r["ratio"] == pytest.approx(r["targeted_incremental"] / r["random_incremental"])
        assert r["targeted_users"] == pytest.approx(0.3 * r["slice_users"], rel=0.05)
        assert r["readout_srm_ok"]  # the reveal-adjusted design matches what the experiment revealed
    assert data["ratio_mean"] == pytest.approx(np.mean([r["ratio"] for r in data["rounds"]]))
    lo, hi = data["ratio_mean_ci"]
    assert lo < data["ratio_mean"] < hi
    assert "1/P(reveal)" in data["weighting"]


@pytest.mark.parametrize("overrides, field", [
    ({"rounds": 0}, "--rounds"), ({"email": "sms"}, "--email"), ({"training": "everything"}, "--training"),
    ({"target_share": 1.5}, "--target-share"),
])
def test_bad_replay_settings_name_the_flag(tmp_path, overrides, field):
    with pytest.raises(InvalidArgument) as err:
        simulate_hillstrom(ReplayConfig(**overrides), ModelRegistry(tmp_path))
    assert err.value.field == field
