"""The marginal value of compute: the gain estimator against the reward-level estimator, expected
and value-weighted replay reports, cross-fitting and the replay summary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.errors import InvalidArgument
from models.allocation import (
    GainEstimator,
    RewardEstimator,
    achievable_gain,
    cross_fit,
    evaluate_budget,
    forward_fit,
    interval,
    make_estimator,
    simulate_traffic,
)


def _chains() -> np.ndarray:
    rows = [[r, rk, p, pk, k] for r, rk in ((10.0, 100), (40.0, 200), (90.0, 400))
            for p, pk in ((30.0, 50), (80.0, 100)) for k in (200.0, 900.0)]
    return np.asarray(rows, dtype=np.float32)


def _paired_world(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rewards = a large per-request level shared by every chain (how much the user will like at all,
    unrelated to compute) + a user-dependent gain from compute + small chain noise."""
    rng = np.random.default_rng(seed)
    chains = _chains()
    x = rng.normal(size=(n, 4)).astype(np.float32)
    level = chains[:, [0, 2, 4]] / chains[:, [0, 2, 4]].max(axis=0)
    gain = np.clip(x[:, :1], 0, None) * (0.2 * level[:, 0] + 0.2 * level[:, 1] + 0.6 * level[:, 2])[None, :]
    shared = rng.gamma(1.5, 1.5, (n, 1)) + 0.5 * x[:, 1:2]
    rewards = shared + gain + rng.normal(0, 0.1, (n, len(chains)))
    return x, chains, rewards.astype(np.float32), gain


def test_gain_estimator_is_monotone_and_finds_who_gains_better_than_levels() -> None:
    x, chains, rewards, _ = _paired_world(1500, seed=0)
    gain_est = GainEstimator(n_estimators=80)
    assert gain_est.fit(x, chains, rewards) is gain_est
    level_est = RewardEstimator(n_estimators=80).fit(x, chains, rewards)
    xt, _, _, true_gain = _paired_world(600, seed=1)
    pred = gain_est.predict(xt)
    assert pred.shape == (600, len(chains)) and np.all(np.isfinite(pred))
    stages = chains[:, [0, 2, 4]]
    for a, b in itertools.permutations(range(len(chains)), 2):
        if np.all(stages[a] <= stages[b]) and np.any(stages[a] < stages[b]):
            assert np.all(pred[:, b] >= pred[:, a] - 1e-9)
    full, cheap = int(np.argmax(stages.sum(axis=1))), int(np.argmin(stages.sum(axis=1)))
    truth = true_gain[:, full] - true_gain[:, cheap]
    by_gain = pred[:, full] - pred[:, cheap]
    by_level = level_est.predict(xt)[:, full] - level_est.predict(xt)[:, cheap]
    err_gain, err_level = np.mean((by_gain - truth) ** 2), np.mean((by_level - truth) ** 2)
    assert np.corrcoef(by_gain, truth)[0, 1] > 0.9
    assert err_gain < err_level, (err_gain, err_level)
    with pytest.raises(InvalidArgument):
        gain_est.predict(np.zeros((1, 3)))
    with pytest.raises(InvalidArgument):
        GainEstimator().fit(x, chains, rewards[:, :3])
    with pytest.raises(InvalidArgument) as err:
        make_estimator("forest")
    assert err.value.field == "estimator"


def test_cross_fit_predicts_every_request_out_of_fold() -> None:
    x, chains, rewards, _ = _paired_world(400, seed=2)
    oof = cross_fit("gain", x, chains, rewards, folds=4, seed=0)
    assert oof.shape == rewards.shape and np.all(np.isfinite(oof))
    in_sample = GainEstimator().fit(x, chains, rewards).predict(x)
    # Out of fold the fit to the noise is gone: residuals are larger than in sample.
    assert np.mean((oof - rewards) ** 2) > np.mean((in_sample - rewards) ** 2)


def test_cross_fit_by_user_keeps_a_users_other_requests_out() -> None:
    """Each user's gain is their own (nothing shared across users predicts it) and their requests
    carry the same context: folds that split a user read the gain off the user's other requests,
    user folds cannot — the leak that made ml-100k's within-period gain look exploitable."""
    rng = np.random.default_rng(7)
    chains = _chains()
    n_users, per_user = 120, 6
    users = np.repeat(np.arange(n_users), per_user)
    x = np.repeat(rng.normal(size=(n_users, 4)), per_user, axis=0).astype(np.float32)
    user_gain = rng.uniform(0, 1, n_users)[users]
    level = chains[:, 4] / chains[:, 4].max()
    rewards = user_gain[:, None] * level[None, :] + rng.normal(0, 0.05, (len(users), len(chains)))
    full = int(np.argmax(level))

    def recovered(oof: np.ndarray) -> float:
        return float(np.corrcoef(oof[:, full] - oof[:, 0], user_gain)[0, 1])

    leaky = recovered(cross_fit("gain", x, chains, rewards, folds=4, seed=0))
    grouped = recovered(cross_fit("gain", x, chains, rewards, folds=4, seed=0, groups=users))
    assert leaky > 0.5 and grouped < 0.3, (leaky, grouped)


def test_forward_fit_predicts_the_later_requests_from_the_earlier_ones() -> None:
    x, chains, rewards, _ = _paired_world(300, seed=3)
    times = np.random.default_rng(3).permutation(300)
    later, pred = forward_fit("reward", x, chains, rewards, times, share=0.6, seed=1)
    assert sorted(times[later].tolist()) == list(range(180, 300))
    early = np.argsort(times)[:180]     # the earliest 60 %, oldest first
    alone = make_estimator("reward", random_state=1).fit(x[early], chains, rewards[early]).predict(x[later])
    np.testing.assert_allclose(pred, alone)


def test_expected_oracle_and_request_values_in_the_replay() -> None:
    rng = np.random.default_rng(4)
    n, costs = 500, np.array([100.0, 300.0, 900.0])
    gains = rng.uniform(0, 1, n)
    expected = np.column_stack([np.full(n, 1.0), 1 + 0.5 * gains, 1 + gains])
    true = rng.poisson(expected).astype(float)
    values = rng.lognormal(0, 1.0, n)
    stream = simulate_traffic(n, n_windows=6, mean_per_window=80, spike_window=None, seed=1)
    res, _ = evaluate_budget(0.4, stream, true, expected, expected, costs, ["a", "b", "c"], expected=expected,
                             values=values, progress=False)
    e = res.summary()
    assert e["expected_oracle"] >= e["expected_online"] - 1e-9
    assert e["expected_oracle"] >= e["expected_best_static"] - 1e-9
    assert e["expected_online"] > e["expected_best_static"]          # the controller knows who gains
    vw = e["value_weighted"]
    assert vw["online_value_aware"] > vw["online_value_blind"]       # spends compute where the value is
    assert vw["oracle"] >= vw["online_value_aware"] - 1e-9 and vw["overuse"] <= 0.02


def test_achievable_gain_and_intervals() -> None:
    rng = np.random.default_rng(5)
    n, costs = 2000, np.array([100.0, 900.0])
    gains = (rng.random(n) < 0.3).astype(float)
    true = np.column_stack([np.ones(n), 1 + gains]) + rng.normal(0, 0.05, (n, 2))
    out = achievable_gain(true, true, costs, [0.5], n_boot=200)["0.5"]
    # Knowing who gains, half the budget serves every gaining request with the rich chain.
    assert out["ratio"] > 1.2 and out["ratio_low"] <= out["ratio"] <= out["ratio_high"]
    assert out["spend_share_of_budget"] <= 1.0 + 1e-9
    blind = achievable_gain(true, np.column_stack([np.ones(n), np.full(n, 1.3)]), costs, [0.5], n_boot=200)["0.5"]
    assert blind["ratio"] < out["ratio"]
    iv = interval([1.0, 1.2, 1.1, 0.9, 1.05])
    assert iv["mean"] == pytest.approx(1.05) and iv["low"] < iv["mean"] < iv["high"] and iv["n"] == 5
    from scipy import stats
    half = stats.t.ppf(0.975, 4) * np.std([1.0, 1.2, 1.1, 0.9, 1.05], ddof=1) / np.sqrt(5)
    assert iv["high"] - iv["mean"] == pytest.approx(half)
    assert np.isnan(interval([])["mean"])
