"""The end-to-end allocation experiment behind ``mds allocation evaluate``: train the cascade,
calibrate costs, replay every chain on logged and held-out requests, fit the reward estimator, and
compare allocators per budget."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.allocation._estimator import RewardEstimator
from models.allocation._replay import (
    BudgetResult,
    compute_saved,
    evaluate_budget,
    milp_check,
    simulate_traffic,
)
from models.allocation._state import BudgetState
from models.recommend import (
    Cascade,
    CostCalibration,
    RatingData,
    Request,
    TimeSplit,
    build_requests,
    calibrate,
    context_features,
    train_cascade,
)

__all__ = ["AllocationExperiment", "chain_features", "efficient_chains", "expand", "prepare_experiment",
           "request_context", "run_evaluation"]


def chain_features(cascade: Cascade, calibration: CostCalibration) -> np.ndarray:
    """Per chain the compute descriptors the estimator is monotone in (see ``CHAIN_FEATURES``)."""
    rows = []
    for c in cascade.chains:
        r, p, k = calibration.stage_costs(c)
        rows.append([r, c.recall_k, p, c.prerank_k, k])
    return np.asarray(rows, dtype=np.float32)


def efficient_chains(mean_rewards: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Indices of the chains on the logged reward-versus-cost frontier: each beats every cheaper
    chain. The others are dominated (more compute, no more reward) and are never served."""
    best, keep = -np.inf, []
    for i in np.argsort(costs, kind="stable"):
        if mean_rewards[i] > best:
            best = mean_rewards[i]
            keep.append(int(i))
    return np.asarray(sorted(keep), dtype=np.int64)


def expand(pred: np.ndarray, columns: np.ndarray, n_chains: int) -> np.ndarray:
    """Predictions for the frontier columns → all chains (−inf: never chosen)."""
    out = np.full((len(pred), n_chains), -np.inf)
    out[:, columns] = pred
    return out


def request_context(cascade: Cascade, reqs: Sequence[Request]) -> np.ndarray:
    return np.vstack([context_features(q.history, q.ratings, q.times, q.ts, cascade.base.item_pop,
                                       cascade.base.genres) for q in reqs]) if reqs else np.zeros((0, 9))


@dataclass
class AllocationExperiment:
    cascade: Cascade
    calibration: CostCalibration
    costs: np.ndarray
    estimator: RewardEstimator
    frontier: np.ndarray
    logged_true: np.ndarray
    logged_pred: np.ndarray
    held_true: np.ndarray
    held_pred: np.ndarray
    timings_s: dict[str, float]
    reward: str = "hits"


def prepare_experiment(data: RatingData, *, split: TimeSplit | None = None, max_requests_per_user: int = 8,
                       max_logged: int | None = None, max_held: int | None = None, large_trees: int = 200,
                       calibration_requests: int = 60, seed: int = 0, progress: bool = True,
                       reward: str = "hits") -> AllocationExperiment:
    """``reward``: ``hits`` (of the final top 10 among the user's later 4+ ratings) or ``ndcg``
    (NDCG@10 of the same relevance), see :func:`models.recommend.reward_of`."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    split = split or TimeSplit.by_quantiles(data)
    cascade = train_cascade(data, split, seed=seed, progress=progress, large_trees=large_trees)
    timings["train_cascade"] = time.perf_counter() - t0
    logged = build_requests(data, split.t_stage, split.t_replay, max_per_user=max_requests_per_user)
    held = build_requests(data, split.t_replay, np.iinfo(np.int64).max, max_per_user=max_requests_per_user)
    if not logged or not held:
        raise ValueError("the time split left no logged or no held-out requests")
    rng = np.random.default_rng(seed)
    if max_logged is not None and len(logged) > max_logged:
        logged = [logged[i] for i in sorted(rng.choice(len(logged), max_logged, replace=False))]
    if max_held is not None and len(held) > max_held:
        held = [held[i] for i in sorted(rng.choice(len(held), max_held, replace=False))]
    t0 = time.perf_counter()
    calibration = calibrate(cascade, logged, n_requests=calibration_requests, progress=progress)
    timings["calibrate"] = time.perf_counter() - t0
    costs = calibration.chain_costs(cascade.chains)
    t0 = time.perf_counter()
    logged_true = cascade.replay(logged, progress=progress, desc="replaying logged requests", reward=reward)
    held_true = cascade.replay(held, progress=progress, desc="replaying held-out requests", reward=reward)
    timings["replay"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    frontier = efficient_chains(logged_true.mean(axis=0), costs)
    est = RewardEstimator(random_state=seed).fit(request_context(cascade, logged),
                                                 chain_features(cascade, calibration)[frontier], logged_true[:, frontier])
    timings["fit_estimator"] = time.perf_counter() - t0
    held_ctx = request_context(cascade, held)
    t0 = time.perf_counter()
    held_pred = expand(est.predict(held_ctx), frontier, len(cascade.chains))
    timings["estimator_us_per_request_batched"] = (time.perf_counter() - t0) / len(held) * 1e6
    t0 = time.perf_counter()
    for i in range(min(200, len(held))):
        est.predict(held_ctx[i : i + 1])
    timings["estimator_us_per_request_single"] = (time.perf_counter() - t0) / min(200, len(held)) * 1e6
    logged_pred = expand(est.predict(request_context(cascade, logged)), frontier, len(cascade.chains))
    return AllocationExperiment(cascade, calibration, costs, est, frontier, logged_true, logged_pred, held_true, held_pred,
                                timings, reward)


def run_evaluation(exp: AllocationExperiment, budgets: Sequence[float], *, state_factory=None,  # type: ignore[no-untyped-def]
                   n_windows: int = 48, mean_per_window: int = 150, seed: int = 0, milp_n: int = 60,
                   progress: bool = True) -> tuple[dict[str, object], list[BudgetResult]]:
    """Per budget: static / offline / online / oracle. Returns the JSON report and the raw results."""
    stream = simulate_traffic(len(exp.held_true), n_windows=n_windows, mean_per_window=mean_per_window, seed=seed)
    names = [c.name for c in exp.cascade.chains]
    results: list[BudgetResult] = []
    overheads: list[float] = []
    report_budgets: dict[str, object] = {}
    for b in budgets:
        state: BudgetState | None = state_factory(b) if state_factory else None
        res, overhead = evaluate_budget(b, stream, exp.held_true, exp.held_pred, exp.logged_pred, exp.costs, names,
                                        state=state, columns=exp.frontier,
                                        logged_true=exp.logged_true, progress=progress)
        results.append(res)
        overheads.append(overhead)
        report_budgets[f"{b:g}"] = res.summary()
    saved = compute_saved(exp.held_true, exp.held_pred, exp.costs)
    checks = [milp_check(exp.held_true, exp.costs, b, n=milp_n, seed=seed).as_dict() for b in budgets]
    full = int(np.argmax(exp.costs))
    report: dict[str, object] = {
        "reward": exp.reward,
        "budgets": report_budgets,
        "compute_saved_at_99pct_reward": saved["allocator_compute_saved"],
        "overhead_us_per_request": float(np.mean(overheads)),
        "decision_us_per_request": float(np.mean([r.decision_us_per_request for r in results])),
        "replan_us_per_request": float(np.mean([r.replan_us_per_request for r in results])),
        "compute_saved_detail": saved,
        "estimator_us_per_request": {k: v for k, v in exp.timings_s.items() if k.startswith("estimator")},
        "milp_check": checks,
        "chains": len(names),
        "frontier_chains": [names[i] for i in exp.frontier],
        "full_chain": names[full],
        "full_chain_cost_us": float(exp.costs[full]),
        "cheapest_chain": names[int(np.argmin(exp.costs))],
        "cheapest_chain_cost_us": float(exp.costs.min()),
        "held_out_requests": len(exp.held_true),
        "logged_requests": len(exp.logged_true),
        "stream_requests": int(stream.counts.sum()),
        "windows": n_windows,
        "calibration": {k: {"stage": v.stage, "fixed_us": v.fixed_us, "per_item_us": v.per_item_us}
                        for k, v in exp.calibration.instances.items()},
        "timings_s": {k: v for k, v in exp.timings_s.items() if not k.startswith("estimator")},
    }
    return report, results


