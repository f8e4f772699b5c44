"""Replay evaluation: a simulated day-shaped traffic stream (with a sudden spike) drawn from held-out
requests, every chain's true reward known, and four allocators compared under the same per-window
compute budget: the best static chain, offline λ on predicted rewards, the online controller, and
the hindsight oracle."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from core.errors import StoreUnavailable
from models.allocation._controller import ControllerConfig, OnlineController
from models.allocation._overhead import DecisionTimes, load_average
from models.allocation._solver import (
    LambdaMix,
    choose_mixed,
    lagrangian_allocation,
    milp_allocation,
    solve_mix,
)
from models.allocation._state import BudgetState, LocalBudgetState
from models.allocation._writebehind import WriteBehindBudgetState

__all__ = ["TrafficStream", "simulate_traffic", "BudgetResult", "evaluate_budget", "compute_saved",
           "milp_check", "MilpCheck", "window_usage", "state_io_report"]


@dataclass(frozen=True)
class TrafficStream:
    """``index[w]``: request indices served in window ``w``; ``times[w]``: their arrival times (s)."""

    index: list[np.ndarray]
    times: list[np.ndarray]
    window_s: float

    @property
    def counts(self) -> np.ndarray:
        return np.asarray([len(i) for i in self.index])


def simulate_traffic(n_pool: int, *, n_windows: int = 48, mean_per_window: int = 150, amplitude: float = 0.4,
                     spike_window: int | None = 34, spike_factor: float = 2.0, window_s: float = 3600.0,
                     seed: int = 0) -> TrafficStream:
    """Two days of hourly windows: traffic follows a daily sine (peak in the evening, trough at night)
    with a ``spike_factor`` burst in ``spike_window``; requests are drawn from the pool with
    replacement and arrive uniformly within their window."""
    rng = np.random.default_rng(seed)
    hours = np.arange(n_windows) % 24
    curve = 1 + amplitude * np.sin(2 * np.pi * (hours - 9) / 24)
    if spike_window is not None and 0 <= spike_window < n_windows:
        curve[spike_window] *= spike_factor
    counts = rng.poisson(mean_per_window * curve)
    index, times = [], []
    for w, n in enumerate(counts):
        index.append(rng.integers(0, n_pool, size=n))
        times.append(np.sort(w * window_s + rng.random(n) * window_s))
    return TrafficStream(index, times, window_s)


def window_usage(spend: np.ndarray, budget: float) -> tuple[float, float]:
    """μ = mean(min(spend, B)/B), ν = mean(max(spend − B, 0)/B) over windows."""
    return (float(np.mean(np.minimum(spend, budget) / budget)),
            float(np.mean(np.maximum(spend - budget, 0) / budget)))


@dataclass(frozen=True)
class PolicyResult:
    reward: float          # mean true reward per request
    share_of_oracle: float
    utilization: float
    overuse: float
    window_spend: list[float] = field(repr=False)


@dataclass(frozen=True)
class BudgetResult:
    budget_fraction: float
    budget_per_window_us: float
    static_chain: str
    lambda_offline: float
    static: PolicyResult
    offline: PolicyResult
    online: PolicyResult
    oracle: PolicyResult
    online_reasons: dict[str, int]
    online_lambda: list[float] = field(repr=False)
    static_hindsight: float = float("nan")
    static_hindsight_chain: str = ""
    decision_us_per_request: float = float("nan")     # request path: decision + state flushes
    replan_us_per_request: float = float("nan")       # control loop: λ re-planning, amortized
    # Wall and CPU time of every online decision (see ``DecisionTimes``) and the shared state's I/O.
    times: DecisionTimes | None = field(default=None, repr=False)
    state_io: dict[str, object] = field(default_factory=dict)
    # Where the truth is known: {"expected": {...}}; with request values: {"value_weighted": {...}}.
    extra: dict[str, object] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """The issue's JSON shape, plus extras."""
        return {
            "static": self.static.reward, "offline": self.offline.reward, "online": self.online.reward,
            "oracle": self.oracle.reward,
            "static_share_of_oracle": self.static.share_of_oracle,
            "offline_share_of_oracle": self.offline.share_of_oracle,
            "online_share_of_oracle": self.online.share_of_oracle,
            "utilization": self.online.utilization, "overuse": self.online.overuse,
            "offline_utilization": self.offline.utilization, "offline_overuse": self.offline.overuse,
            "static_overuse": self.static.overuse, "oracle_utilization": self.oracle.utilization,
            "static_chain": self.static_chain, "lambda_offline": self.lambda_offline,
            "static_hindsight": self.static_hindsight, "static_hindsight_chain": self.static_hindsight_chain,
            "static_hindsight_share_of_oracle": self.static_hindsight / self.oracle.reward
            if self.oracle.reward > 0 else float("nan"),
            "budget_per_window_us": self.budget_per_window_us, "online_decisions": self.online_reasons,
            "decision_us_per_request": self.decision_us_per_request,
            "replan_us_per_request": self.replan_us_per_request,
            **({"overhead": {**self.times.summary(), "state": self.state_io}} if self.times is not None else {}),
            **self.extra,
        }


def _policy(stream: TrafficStream, choice_of: Callable[[int, np.ndarray], np.ndarray], true: np.ndarray,
            costs: np.ndarray, budget: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(mean true reward, spend per window, chain per streamed request)."""
    choices = [np.asarray(choice_of(w, idx), dtype=np.int64) for w, idx in enumerate(stream.index)]
    flat = np.concatenate(choices) if choices else np.zeros(0, np.int64)
    rewards = float(true[np.concatenate(stream.index), flat].sum()) if len(flat) else 0.0
    spend = np.asarray([float(costs[c].sum()) for c in choices])
    return rewards / max(int(stream.counts.sum()), 1), spend, flat


class _OnlineRun(NamedTuple):
    rewards: float
    window_spend: list[float]
    reasons: dict[str, int]
    lam_trace: list[float]
    overhead_us: float                  # mean wall µs per decision (decision, state sync, re-planning)
    split: tuple[float, float]          # (decision path, re-planning) µs per request
    chosen: np.ndarray
    times: DecisionTimes
    state_io: dict[str, object]


def _run_online(ctl: OnlineController, stream: TrafficStream, true: np.ndarray, pred: np.ndarray,
                costs: np.ndarray, desc: str, progress: bool) -> _OnlineRun:
    reasons: dict[str, int] = {}
    lam_trace: list[float] = []
    total = int(stream.counts.sum())
    chosen = np.zeros(total, dtype=np.int64)
    wall, cpu = np.zeros(total, dtype=np.int64), np.zeros(total, dtype=np.int64)
    wall_clock, thread_clock = time.perf_counter_ns, time.thread_time_ns
    rewards, window_spend, n = 0.0, [], 0
    load_before = load_average()
    for w in tqdm(range(len(stream.index)), desc=desc, disable=not progress, leave=False):
        spend = 0.0
        for i, t in zip(stream.index[w].tolist(), stream.times[w].tolist(), strict=True):
            row = pred[i]
            c0, t0 = thread_clock(), wall_clock()
            d = ctl.decide(row, t)
            t1, c1 = wall_clock(), thread_clock()
            wall[n], cpu[n] = t1 - t0, c1 - c0
            chosen[n] = d.chain
            n += 1
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
            rewards += float(true[i, d.chain])
            spend += float(costs[d.chain])
        window_spend.append(spend)
        lam_trace.append(ctl.lam)
    ctl.flush(stream.window_s * len(stream.index))
    times = DecisionTimes(wall, cpu, (load_before, load_average()))
    elapsed_ns = int(wall.sum())
    split = ((elapsed_ns - ctl.replan_ns) / 1000.0 / max(n, 1), ctl.replan_ns / 1000.0 / max(n, 1))
    return _OnlineRun(rewards, window_spend, reasons, lam_trace, elapsed_ns / 1000.0 / max(n, 1), split, chosen,
                      times, state_io_report(ctl.state))


def state_io_report(state: BudgetState) -> dict[str, object]:
    """Where the shared state's round trips ran: none (in-process), or behind the request path."""
    if isinstance(state, WriteBehindBudgetState):
        try:
            state.drain()
            acknowledged = True
        except StoreUnavailable:
            acknowledged = False   # reported, not raised: the replay's figures stand without Redis
        return {"backend": "write-behind " + type(state.inner).__name__, "round_trips_off_request_path":
                state.round_trips, "failures": state.failures, "round_trips_on_request_path": 0,
                "all_acknowledged": acknowledged}
    return {"backend": type(state).__name__}


def _oracle_choice(matrix: np.ndarray, costs: np.ndarray, budget: float) -> Callable[[int, np.ndarray], np.ndarray]:
    """Per window, the best chains for ``matrix`` (rewards known) under the window's budget."""
    def choice(w: int, idx: np.ndarray) -> np.ndarray:
        if costs.min() * len(idx) > budget:
            return np.full(len(idx), int(np.argmin(costs)))
        return lagrangian_allocation(matrix[idx].astype(float), costs, budget).choice
    return choice


def _online(fraction: float, stream: TrafficStream, true: np.ndarray, rows: np.ndarray, costs: np.ndarray,
            mix0: LambdaMix, budget: float, state: BudgetState | None, config: ControllerConfig | None,
            columns: np.ndarray | None, progress: bool, label: str = "", lam_floor: float = 0.0) -> _OnlineRun:
    config = config or ControllerConfig(window_s=stream.window_s)
    if lam_floor:
        config = replace(config, lam_floor=lam_floor)
    ctl = OnlineController(costs, state or LocalBudgetState(), lam0=mix0, budget_per_window=budget,
                           config=config, columns=columns)
    with threadpool_limits(1):
        return _run_online(ctl, stream, true, rows, costs, f"online controller{label} @ {fraction:g}", progress)


def evaluate_budget(fraction: float, stream: TrafficStream, true: np.ndarray, pred: np.ndarray,
                    pred_logged: np.ndarray, costs: np.ndarray, chain_names: Sequence[str], *,
                    state: BudgetState | None = None, config: ControllerConfig | None = None,
                    columns: np.ndarray | None = None, logged_true: np.ndarray | None = None,
                    expected: np.ndarray | None = None, values: np.ndarray | None = None,
                    value_state: BudgetState | None = None, lam_floor: float = 0.0,
                    progress: bool = True) -> tuple[BudgetResult, float]:
    """All four allocators at one budget; returns the result and the online controller's overhead in
    µs per request (decision + state sync + re-planning).

    ``expected`` (the held-out requests' expected reward per chain, where the truth is known) adds
    every policy's expected reward, the best static chain by expected reward and the expected-reward
    oracle. ``values`` (each held-out request's value) adds a value-aware online controller (it
    maximizes value × predicted reward) against the value-blind one, both scored by value-weighted
    expected (else realized) reward. ``lam_floor``: the online controllers' price floor
    (:func:`price_floor`); the offline λ stays the plain budget-spending baseline."""
    full = float(costs.max())
    budget = fraction * full * float(stream.counts.mean())   # per window: flat capacity
    per_request = fraction * full
    # Oracle: per window, every chain's true reward known.
    oracle_reward, oracle_spend, oracle_c = _policy(stream, _oracle_choice(true, costs, budget), true, costs, budget)
    fits = np.flatnonzero(costs <= per_request)
    # The static chain is what production would pick: the best that fits on the *logged* rewards.
    # ``static_hindsight`` picks on the replayed truth itself (an upper bound for any single chain).
    picked_on = logged_true if logged_true is not None else true
    static_c = int(fits[np.argmax(picked_on[:, fits].mean(axis=0))]) if len(fits) else int(np.argmin(costs))
    hindsight_c = int(fits[np.argmax(true[:, fits].mean(axis=0))]) if len(fits) else int(np.argmin(costs))
    static_reward, static_spend, static_choice = _policy(stream, lambda w, idx: np.full(len(idx), static_c), true,
                                                         costs, budget)
    hindsight_reward, _, _ = _policy(stream, lambda w, idx: np.full(len(idx), hindsight_c), true, costs, budget)
    mix_off = solve_mix(pred_logged, costs, per_request)
    lam_off = mix_off.lam
    offline_reward, offline_spend, offline_choice = _policy(
        stream, lambda w, idx: choose_mixed(pred[idx], costs, mix_off, w), true, costs, budget)
    run = _online(fraction, stream, true, pred, costs, mix_off, budget, state, config, columns, progress,
                  lam_floor=lam_floor)
    online_rewards, online_spend, online_choice = run.rewards, run.window_spend, run.chosen
    total = max(int(stream.counts.sum()), 1)

    def result(reward: float, spend: np.ndarray) -> PolicyResult:
        mu, nu = window_usage(spend, budget)
        return PolicyResult(reward, reward / oracle_reward if oracle_reward > 0 else float("nan"), mu, nu,
                            spend.tolist())

    served = np.concatenate(stream.index) if stream.index else np.zeros(0, np.int64)
    extra: dict[str, object] = {}
    if expected is not None:
        def mean_expected(choice: np.ndarray) -> float:
            return float(expected[served, choice].mean()) if len(choice) else 0.0

        best_static = int(fits[np.argmax(expected[:, fits].mean(axis=0))]) if len(fits) else int(np.argmin(costs))
        e_oracle, e_spend, e_choice = _policy(stream, _oracle_choice(expected, costs, budget), expected, costs, budget)
        e_static, _, _ = _policy(stream, lambda w, idx: np.full(len(idx), best_static), expected, costs, budget)
        extra["expected_oracle"] = e_oracle
        extra["expected_online"] = mean_expected(online_choice)
        extra["expected_best_static"] = e_static
        extra["expected"] = {
            "online": mean_expected(online_choice), "offline": mean_expected(offline_choice),
            "static": mean_expected(static_choice), "best_static": e_static,
            "best_static_chain": chain_names[best_static], "oracle": e_oracle,
            "oracle_utilization": window_usage(e_spend, budget)[0],
            "realized_oracle_hindsight": oracle_reward,
        }
    if values is not None:
        scored = expected if expected is not None else true.astype(float)
        weighted = scored * values[:, None]
        wmix = solve_mix(pred_logged * float(np.mean(values)), costs, per_request)
        value_run = _online(fraction, stream, true, pred * values[:, None], costs, wmix, budget, value_state, config,
                            columns, progress, " (value)", lam_floor=lam_floor)
        w_spend, w_choice = value_run.window_spend, value_run.chosen
        w_oracle, _, _ = _policy(stream, _oracle_choice(weighted, costs, budget), weighted, costs, budget)
        best_w = int(fits[np.argmax(weighted[:, fits].mean(axis=0))]) if len(fits) else int(np.argmin(costs))
        w_static, _, _ = _policy(stream, lambda w, idx: np.full(len(idx), best_w), weighted, costs, budget)
        mu, nu = window_usage(np.asarray(w_spend), budget)
        extra["value_weighted"] = {
            "online_value_aware": float(weighted[served, w_choice].mean()),
            "online_value_blind": float(weighted[served, online_choice].mean()),
            "best_static": w_static, "oracle": w_oracle, "utilization": mu, "overuse": nu,
            "scored_on": "expected" if expected is not None else "realized",
        }

    res = BudgetResult(
        fraction, budget, chain_names[static_c], lam_off,
        result(static_reward, static_spend), result(offline_reward, offline_spend),
        result(online_rewards / total, np.asarray(online_spend)), result(oracle_reward, oracle_spend),
        run.reasons, run.lam_trace, hindsight_reward, chain_names[hindsight_c], *run.split, times=run.times,
        state_io=run.state_io, extra=extra)
    return res, run.overhead_us


def compute_saved(true: np.ndarray, pred: np.ndarray, costs: np.ndarray, *, target: float = 0.99,
                  grid: int = 60) -> dict[str, float]:
    """Least compute reaching ``target`` × the most expensive chain's reward: by λ on predicted rewards
    (what the allocator achieves), by the cheapest single chain, and by the hindsight oracle."""
    full = int(np.argmax(costs))
    goal = target * float(true[:, full].mean())
    out: dict[str, float] = {"full_chain_reward": float(true[:, full].mean()), "target_reward": goal}
    for name, mat in (("allocator", pred), ("oracle", true.astype(float))):
        best = 1.0
        for frac in np.linspace(0.05, 1.0, grid):
            c = choose_mixed(mat, costs, solve_mix(mat, costs, frac * costs[full]))
            if float(true[np.arange(len(true)), c].mean()) >= goal:
                best = min(best, float(costs[c].mean() / costs[full]))
                break
        out[f"{name}_compute_share"] = best
        out[f"{name}_compute_saved"] = 1 - best
    means = true.mean(axis=0)
    ok = np.flatnonzero(means >= goal)
    out["static_compute_saved"] = float(1 - costs[ok].min() / costs[full]) if len(ok) else 0.0
    return out


@dataclass(frozen=True)
class MilpCheck:
    n_requests: int
    budget_fraction: float
    lagrangian_reward: float
    milp_reward: float
    gap: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def milp_check(true: np.ndarray, costs: np.ndarray, fraction: float, *, n: int = 60, seed: int = 0) -> MilpCheck:
    """The oracle's Lagrangian+fill against the exact MILP on a random subsample."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(true), size=min(n, len(true)), replace=False)
    r = true[idx].astype(float)
    b = fraction * float(costs.max()) * len(idx)
    lag = lagrangian_allocation(r, costs, b)
    exact = milp_allocation(r, costs, b)
    return MilpCheck(len(idx), fraction, lag.reward, exact.reward,
                     (exact.reward - lag.reward) / exact.reward if exact.reward > 0 else 0.0)
