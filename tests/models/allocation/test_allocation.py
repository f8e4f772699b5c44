"""Compute allocation: the monotone reward estimator, λ bisection, the oracle against an exact MILP,
the online controller under a traffic spike, Redis-shared state and its fallback."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import redis

from core.errors import InvalidArgument
from core.settings import Settings
from models.allocation import (
    CHAIN_FEATURES,
    ControllerConfig,
    LocalBudgetState,
    OnlineController,
    RedisBudgetState,
    RewardEstimator,
    evaluate_budget,
    lagrangian_allocation,
    milp_allocation,
    simulate_traffic,
    solve_lambda,
)
from models.allocation._solver import choose, choose_mixed, solve_mix


def _chains() -> np.ndarray:
    """Chain descriptors (CHAIN_FEATURES order) of a 3 × 2 × 2 grid."""
    rows = [[r, rk, p, pk, k] for r, rk in ((10.0, 100), (40.0, 200), (90.0, 400))
            for p, pk in ((30.0, 50), (80.0, 100)) for k in (200.0, 900.0)]
    return np.asarray(rows, dtype=np.float32)


def _synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contexts, chain features and rewards whose gain from compute differs by user (x[:, 0])."""
    rng = np.random.default_rng(seed)
    chains = _chains()
    x = rng.normal(size=(n, 4)).astype(np.float32)
    level = chains[:, [0, 2, 4]] / chains[:, [0, 2, 4]].max(axis=0)
    gain = np.clip(1 + x[:, :1], 0.1, None)
    rewards = 1 + x[:, 1:2] + gain * (0.3 * level[:, 0] + 0.2 * level[:, 1] + 0.8 * level[:, 2])[None, :]
    rewards = rewards + rng.normal(0, 0.6, rewards.shape)
    return x, chains, rewards.astype(np.float32)


def test_estimator_contract_and_monotone_in_compute_at_every_stage():
    x, chains, rewards = _synthetic(1500)
    # Noise that is *not* monotone: one cheaper chain looks better on average in the logs.
    rewards[:, 5] += 0.4
    est = RewardEstimator(n_estimators=60)
    assert est.fit(x, chains, rewards) is est
    pred = est.predict(np.random.default_rng(1).normal(size=(300, 4)))
    assert pred.shape == (300, len(chains)) and np.all(np.isfinite(pred))
    stages = chains[:, [0, 2, 4]]
    pairs = [(a, b) for a, b in itertools.permutations(range(len(chains)), 2)
             if np.all(stages[a] <= stages[b]) and np.any(stages[a] < stages[b])]
    assert len(pairs) > 20
    for a, b in pairs:
        assert np.all(pred[:, b] >= pred[:, a] - 1e-9), (chains[a], chains[b])
    # It learns who gains from compute: the big-gain users get the larger predicted uplift.
    full, cheap = int(np.argmax(stages.sum(axis=1))), int(np.argmin(stages.sum(axis=1)))
    ctx = np.zeros((2, 4), dtype=np.float32)
    ctx[0, 0], ctx[1, 0] = -0.8, 1.5
    up = est.predict(ctx)[:, full] - est.predict(ctx)[:, cheap]
    assert up[1] > up[0]
    with pytest.raises(InvalidArgument):
        est.predict(np.zeros((1, 3)))
    with pytest.raises(InvalidArgument):
        RewardEstimator().fit(x, chains, rewards[:, :3])
    assert len(CHAIN_FEATURES) == chains.shape[1]


def test_lambda_bisection_meets_the_budget_tightly():
    rng = np.random.default_rng(3)
    rewards = rng.gamma(2.0, 1.0, (400, 12)) + np.linspace(0, 1.5, 12)
    costs = np.linspace(100, 1200, 12)
    unconstrained = costs[choose(rewards, costs, 0.0)].mean()
    for budget in (0.25 * unconstrained, 0.5 * unconstrained, 0.8 * unconstrained):
        lam = solve_lambda(rewards, costs, budget)
        spend = costs[choose(rewards, costs, lam)].mean()
        assert spend <= budget
        mix = solve_mix(rewards, costs, budget)
        assert mix.lam == lam and mix.lam_low < lam
        assert costs[choose(rewards, costs, mix.lam_low)].mean() > budget   # λ is tight: just below it overspends
        assert (lam - mix.lam_low) / lam < 1e-6
        expected = (1 - mix.p_low) * costs[choose(rewards, costs, mix.lam)].mean() + \
            mix.p_low * costs[choose(rewards, costs, mix.lam_low)].mean()
        assert expected == pytest.approx(budget, rel=1e-6)
        spent = costs[choose_mixed(rewards, costs, mix, seed=1)].mean()
        assert spent == pytest.approx(budget, rel=0.05)
    assert solve_lambda(rewards, costs, unconstrained) == 0.0     # everything fits: no price on compute


def test_oracle_matches_exact_milp_on_a_tiny_instance():
    rng = np.random.default_rng(5)
    rewards = rng.integers(0, 4, (6, 4)).astype(float)
    costs = np.array([1.0, 2.0, 3.5, 5.0])
    budget = 14.0
    exact = milp_allocation(rewards, costs, budget)
    best = max(sum(rewards[i, c] for i, c in enumerate(combo))
               for combo in itertools.product(range(4), repeat=6) if sum(costs[list(combo)]) <= budget)
    assert exact.reward == best and exact.spend <= budget
    lag = lagrangian_allocation(rewards, costs, budget)
    assert lag.spend <= budget and lag.reward <= exact.reward
    assert lag.reward >= 0.9 * exact.reward
    # A larger random instance: the Lagrangian + fill stays within 2% of the MILP.
    r = rng.integers(0, 5, (40, 10)).astype(float)
    c = np.sort(rng.uniform(1, 10, 10))
    b = 0.4 * c.max() * 40
    assert lagrangian_allocation(r, c, b).reward >= 0.98 * milp_allocation(r, c, b).reward


def test_controller_tracks_the_budget_through_a_spike():
    x, chains, rewards = _synthetic(600, seed=2)
    costs = chains[:, [0, 2, 4]].sum(axis=1).astype(float)
    pred = RewardEstimator(n_estimators=40).fit(x[:300], chains, rewards[:300]).predict(x)
    stream = simulate_traffic(600, n_windows=10, mean_per_window=120, spike_window=6, spike_factor=2.0, seed=4)
    res, overhead = evaluate_budget(0.5, stream, rewards.astype(float), pred, pred[:300], costs,
                                    [str(i) for i in range(len(costs))], progress=False)
    budget = res.budget_per_window_us
    online = np.asarray(res.online.window_spend)
    offline = np.asarray(res.offline.window_spend)
    assert res.online.overuse <= 0.02
    assert res.online.utilization >= 0.8
    assert online[6] <= 1.05 * budget                    # the spike window
    assert offline[6] > 1.3 * budget                     # a fixed λ overspends there
    assert res.oracle.reward >= res.online.reward
    assert overhead > 0


def test_shared_lambda_and_spend_across_two_controllers(settings: Settings):
    client = redis.Redis.from_url(settings.redis_url)
    costs = np.array([100.0, 300.0, 900.0])
    a = OnlineController(costs, RedisBudgetState(client, settings.namespace, "t"), lam0=0.0,
                         budget_per_window=50_000.0, config=ControllerConfig(window_s=100.0, sync_every=4))
    b = OnlineController(costs, RedisBudgetState(client, settings.namespace, "t"), lam0=0.0,
                         config=ControllerConfig(window_s=100.0, sync_every=4))
    rng = np.random.default_rng(0)
    t = 1000.0
    for _ in range(40):
        row = np.array([1.0, 1.5, 2.0]) + rng.normal(0, 0.3, 3)
        a.decide(row, t)
        b.decide(row, t + 0.5)
        t += 1.0
    a.flush(t)
    b.flush(t)
    assert b.budget == 50_000.0                     # b never set a budget: it came through Redis
    spend = RedisBudgetState(client, settings.namespace, "t").flush(int(t // 100), 0.0, 0, {})
    assert spend.requests == 80
    assert spend.lam is not None and spend.lam.lam > 0          # a re-planned and published λ
    assert b.lam == pytest.approx(spend.lam.lam)                # ... which b now uses
    traffic = RedisBudgetState(client, settings.namespace, "t").traffic()
    assert sum(traffic.values()) == 80
    client.close()


def test_fallback_chain_when_redis_is_unreachable():
    from core.redis import connect

    dead = connect(Settings(redis_url="redis://127.0.0.1:1/0", redis_timeout_s=0.05))
    costs = np.array([250.0, 100.0, 800.0])
    ctl = OnlineController(costs, RedisBudgetState(dead, "x", "dead"), lam0=0.0, budget_per_window=1e6,
                           config=ControllerConfig(window_s=60.0, sync_every=1, retry_s=5.0))
    d = ctl.decide(np.array([1.0, 0.5, 3.0]), 10.0)
    assert d.chain == 1 and d.reason == "fallback:unavailable"      # the cheapest chain, no exception
    assert ctl.decide(np.array([1.0, 0.5, 3.0]), 12.0).reason == "fallback:unavailable"
    # The state comes back (a working in-memory one here): once the retry delay (5 s after the last
    # failed sync at t=12) has passed, the controller syncs and prices compute again.
    ctl.state = LocalBudgetState()
    d = ctl.decide(np.array([1.0, 0.5, 3.0]), 18.0)
    assert d.reason == "lambda" and d.chain == 2
    dead.close()


def test_latency_cap_limits_the_chain_per_request():
    costs = np.array([100.0, 400.0, 900.0])
    ctl = OnlineController(costs, LocalBudgetState(), lam0=0.0, config=ControllerConfig(window_s=60.0))
    row = np.array([1.0, 2.0, 3.0])
    assert ctl.decide(row, 1.0).chain == 2
    d = ctl.decide(row, 2.0, max_cost_us=500.0)
    assert (d.chain, d.reason) == (1, "latency_cap")
    assert ctl.decide(row, 3.0, max_cost_us=10.0).chain == 0          # nothing fits: the cheapest chain
    capped = OnlineController(costs, LocalBudgetState(), lam0=0.0,
                              config=ControllerConfig(window_s=60.0, latency_cap_us=450.0))
    assert capped.decide(row, 1.0).chain == 1                         # the configured cap, every request


def test_solve_mix_prices_both_ends_as_a_fresh_mean_would():
    """The re-plan reuses the bisection's spend at λ and λ_low instead of recomputing them: the mixing
    probability is exactly the one fresh means give."""
    rng = np.random.default_rng(3)
    costs = np.sort(rng.uniform(50.0, 2000.0, 9))
    for k in range(20):
        rows = 1 + rng.gamma(2.0, 1.0, (64, 1)) / 2000 * costs[None, :] * (1 + rng.normal(0, 0.05, (64, 9)))
        target = (0.2 + 0.03 * k) * costs.max()
        for hint in (None, 1e-4 * (k + 1)):
            mix = solve_mix(rows, costs, target, iters=5, hint=hint)
            if mix.lam == 0.0:
                continue
            s_hi = float(costs[choose(rows, costs, mix.lam)].mean())
            s_lo = float(costs[choose(rows, costs, mix.lam_low)].mean())
            p = 0.0 if s_lo <= s_hi else float(np.clip((target - s_hi) / (s_lo - s_hi), 0.0, 1.0))
            assert mix.p_low == p and s_hi <= target
