"""What allocation adds to one recommendation request, phase by phase, run the way the server runs
it: the request's context (history features and item-CF novelty), the estimator's prediction for
every chain, and the controller's decision with its state maintenance (window roll, λ re-plan,
flush). Every phase is timed per request in wall and thread-CPU time (a descheduled or waiting
thread shows in wall time only), with percentiles and the load average around each run."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from models.allocation._controller import ControllerConfig, OnlineController
from models.allocation._overhead import DecisionTimes, load_average, time_stats
from models.allocation._policy import AllocationPolicy
from models.allocation._replay import state_io_report
from models.allocation._state import BudgetState
from models.recommend import RecommenderBundle, Request

__all__ = ["bench_overhead"]


def _timed(fn: Callable[[int], object], n: int) -> tuple[list[object], DecisionTimes]:
    out: list[object] = []
    wall, cpu = np.zeros(n, np.int64), np.zeros(n, np.int64)
    wall_clock, thread_clock = time.perf_counter_ns, time.thread_time_ns
    before = load_average()
    for k in range(n):
        c0, t0 = thread_clock(), wall_clock()
        out.append(fn(k))
        t1, c1 = wall_clock(), thread_clock()
        wall[k], cpu[k] = t1 - t0, c1 - c0
    return out, DecisionTimes(wall, cpu, (before, load_average()))


def bench_overhead(bundle: RecommenderBundle, policy: AllocationPolicy, requests: Sequence[Request],
                   states: dict[str, tuple[BudgetState, ControllerConfig]], *, n: int = 2000,
                   per_window: int = 600) -> dict[str, Any]:
    """Time ``n`` requests (cycling through ``requests``) arriving ``per_window`` per controller window.
    ``states``: label → (budget state, controller config); each label gets its own controller, on
    the same predictions and arrival times. The state's budget is the policy's default fraction of
    the full chain at that traffic."""
    if not requests:
        raise ValueError("no requests to time")
    reqs = [requests[k % len(requests)] for k in range(n)]
    contexts, t_context = _timed(
        lambda k: policy.context(bundle, reqs[k].history, reqs[k].ratings, reqs[k].times, int(reqs[k].ts)), n)
    preds, t_estimator = _timed(lambda k: policy.predict_context(contexts[k]), n)   # type: ignore[arg-type]
    _, t_predict = _timed(lambda k: policy.predict(bundle, reqs[k].history, reqs[k].ratings, reqs[k].times,
                                                   int(reqs[k].ts)), min(n, 500))
    # What the servicer paid per call before: a fresh ``threadpool_limits`` scans every loaded library.
    _, t_limits = _timed(lambda k: threadpool_limits(1).restore_original_limits(), 50)
    budget = policy.default_fraction * bundle.full_cost * per_window
    decisions: dict[str, object] = {}
    for label, (state, config) in states.items():
        config = replace(config, lam_floor=policy.lam_floor)
        spacing = config.window_s / per_window
        ctl = OnlineController(bundle.costs, state, lam0=policy.default_mix, budget_per_window=budget,
                               config=config, columns=policy.frontier)

        def decide(k: int, ctl: OnlineController = ctl, spacing: float = spacing) -> object:
            now = k * spacing
            if ctl.due(now):        # as ``RecommenderRuntime.decide``: maintenance, then the decision
                ctl.maintain(now)
            return ctl.decide(preds[k], now)   # type: ignore[arg-type]

        chosen, t_decide = _timed(decide, n)
        ctl.flush(n * spacing)
        reasons: dict[str, int] = {}
        for d in chosen:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1   # type: ignore[attr-defined]
        decisions[label] = {**t_decide.summary(), "state": state_io_report(state), "sync_every": config.sync_every,
                            "reasons": reasons, "replan_us_per_request": ctl.replan_ns / 1e3 / n}
    phases = {"context": t_context.summary(), "estimator": t_estimator.summary(),
              "predict (context + estimator, one call)": t_predict.summary()}
    return {
        "requests": n, "distinct_requests": len(requests), "per_window": per_window,
        "frontier_chains": len(policy.frontier), "estimator": type(policy.estimator).__name__,
        "phases": phases, "decision": decisions,
        "threadpool_limits_us_per_call": time_stats(t_limits.wall_ns),
        "load_average": DecisionTimes.pooled([t_context, t_estimator, t_predict]).summary()["load_average"],
    }
