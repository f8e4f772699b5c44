"""The end-to-end allocation experiment behind ``mds allocation evaluate``: train the cascade,
calibrate costs, replay every chain on logged and held-out requests, fit the reward estimator, and
compare allocators per budget."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from core.errors import InvalidArgument
from features.demo_world.taste import TasteWorld
from models.allocation._achievable import achievable_gain
from models.allocation._context import ALLOCATION_CONTEXT, request_context
from models.allocation._estimator import ESTIMATORS, GainEstimator, RewardEstimator, make_estimator
from models.allocation._overhead import DecisionTimes
from models.allocation._price import PriceFloor, price_floor
from models.allocation._replay import (
    BudgetResult,
    TrafficStream,
    compute_saved,
    evaluate_budget,
    milp_check,
    simulate_traffic,
)
from models.allocation._state import BudgetState
from models.allocation._world import taste_requests
from models.recommend import (
    Cascade,
    CostCalibration,
    RatingData,
    TimeSplit,
    build_requests,
    calibrate,
    train_cascade,
)

__all__ = ["AllocationExperiment", "chain_features", "cross_fit", "efficient_chains", "expand", "forward_fit",
           "prepare_experiment", "request_context", "run_evaluation"]


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


@dataclass
class AllocationExperiment:
    cascade: Cascade
    calibration: CostCalibration
    costs: np.ndarray
    estimator: RewardEstimator | GainEstimator
    frontier: np.ndarray
    logged_true: np.ndarray
    logged_pred: np.ndarray     # cross-fitted (out of fold): what the estimator says of unseen requests
    held_true: np.ndarray
    held_pred: np.ndarray
    timings_s: dict[str, float]
    reward: str = "hits"
    estimator_kind: str = "reward"
    # Every estimator fitted on the same replays: kind → (logged cross-fitted, held-out) predictions.
    predictions: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    held_expected: np.ndarray | None = None    # where the truth is known: expected reward per chain
    logged_expected: np.ndarray | None = None
    held_values: np.ndarray | None = None      # each held-out request's value (None: all equal)
    held_segments: np.ndarray | None = None    # e.g. the taste world's user kind, for per-segment reports
    # Per estimator kind: the price below which compute does not pay, from its cross-fitted predictions.
    floors: dict[str, PriceFloor] = field(default_factory=dict)
    # Per estimator kind: the later logged requests (indices) and a forward fit's predictions for them.
    forward: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def cross_fit(kind: str, context: np.ndarray, chains: np.ndarray, rewards: np.ndarray, *, folds: int = 5,
              seed: int = 0, groups: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold predictions: each logged request predicted by a model that never saw it nor, with
    ``groups`` (each request's user), any other request of its user. A user's requests share their
    future likes, so folds that split a user leak them into the prediction: on ml-100k (≈ 14 logged
    requests per user) random folds read a 5 % achievable gain at budget 0.3 that user folds read as 2 %."""
    out = np.zeros(rewards.shape, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if groups is None:
        fold = rng.permutation(len(context)) % folds
    else:
        names, member = np.unique(groups, return_inverse=True)
        fold = (rng.permutation(len(names)) % folds)[member]
    for k in range(folds):
        if not (fold == k).any():
            continue
        model = make_estimator(kind, random_state=seed + k).fit(context[fold != k], chains, rewards[fold != k])
        out[fold == k] = model.predict(context[fold == k])
    return out


def forward_fit(kind: str, context: np.ndarray, chains: np.ndarray, rewards: np.ndarray, times: np.ndarray, *,
                share: float = 0.6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Earlier → later: a model fitted on the earliest ``share`` of the requests (by time) predicts the
    rest, as a deployed estimator predicts requests after its logs. Returns the later requests'
    indices and their predictions — the honest test of whether who gains carries forward in time."""
    order = np.argsort(times, kind="stable")
    cut = min(max(int(share * len(order)), 1), len(order) - 1)
    early, later = order[:cut], order[cut:]
    model = make_estimator(kind, random_state=seed).fit(context[early], chains, rewards[early])
    return later, model.predict(context[later])


def prepare_experiment(data: RatingData, *, split: TimeSplit | None = None, max_requests_per_user: int | None = 8,
                       max_logged: int | None = None, max_held: int | None = None, large_trees: int = 200,
                       calibration_requests: int = 60, seed: int = 0, progress: bool = True,
                       reward: str = "hits", estimator: str = "gain", world: TasteWorld | None = None,
                       folds: int = 5) -> AllocationExperiment:
    """``reward``: ``hits`` (of the final top 10 among the user's later 4+ ratings) or ``ndcg``
    (NDCG@10 of the same relevance), see :func:`models.recommend.reward_of`. ``world``: ``data`` came
    from the taste world, whose requests carry their relevance (expected rewards are exact; hits only).
    ``max_requests_per_user`` None: every eligible rating event is a request. Both estimators are
    fitted on the same logged replays; ``estimator`` names the one the allocators use."""
    timings: dict[str, float] = {}
    if world is not None and reward != "hits":
        raise InvalidArgument("the taste world's expected reward is in hits; use --reward hits", field="--reward")
    make_estimator(estimator)   # validates the name before minutes of work
    t0 = time.perf_counter()
    split = split or TimeSplit.by_quantiles(data)
    cascade = train_cascade(data, split, seed=seed, progress=progress, large_trees=large_trees)
    timings["train_cascade"] = time.perf_counter() - t0
    per_user = max_requests_per_user if max_requests_per_user is not None else 10**9
    if world is None:
        logged = build_requests(data, split.t_stage, split.t_replay, max_per_user=per_user)
        held = build_requests(data, split.t_replay, np.iinfo(np.int64).max, max_per_user=per_user)
    else:
        logged = taste_requests(world, data, split.t_stage, split.t_replay, max_per_user=per_user, seed=seed)
        held = taste_requests(world, data, split.t_replay, np.iinfo(np.int64).max, max_per_user=per_user,
                              seed=seed + 10_000)
    if not logged or not held:
        raise ValueError("the time split left no logged or no held-out requests")
    rng = np.random.default_rng(seed)
    if max_logged is not None and len(logged) > max_logged:
        logged = [logged[i] for i in sorted(rng.choice(len(logged), max_logged, replace=False))]
    if max_held is not None and len(held) > max_held:
        held = [held[i] for i in sorted(rng.choice(len(held), max_held, replace=False))]
    t0 = time.perf_counter()
    calibration = calibrate(cascade, logged, n_requests=calibration_requests, progress=progress, seed=seed)
    timings["calibrate"] = time.perf_counter() - t0
    costs = calibration.chain_costs(cascade.chains)
    t0 = time.perf_counter()
    logged_expected = held_expected = None
    if world is None:
        logged_true = cascade.replay(logged, progress=progress, desc="replaying logged requests", reward=reward)
        held_true = cascade.replay(held, progress=progress, desc="replaying held-out requests", reward=reward)
    else:
        logged_true, logged_expected = cascade.replay_expected(logged, progress=progress, desc="replaying logged requests")
        held_true, held_expected = cascade.replay_expected(held, progress=progress, desc="replaying held-out requests")
    timings["replay"] = time.perf_counter() - t0
    frontier = efficient_chains(logged_true.mean(axis=0), costs)
    chains = chain_features(cascade, calibration)[frontier]
    logged_ctx, held_ctx = request_context(cascade, logged), request_context(cascade, held)
    n = len(cascade.chains)
    users, times = np.array([q.user for q in logged]), np.array([q.ts for q in logged])
    target = logged_true[:, frontier].astype(np.float64)
    predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    forward: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    fitted: dict[str, RewardEstimator | GainEstimator] = {}
    for kind in ESTIMATORS:
        t0 = time.perf_counter()
        fitted[kind] = make_estimator(kind, random_state=seed).fit(logged_ctx, chains, logged_true[:, frontier])
        timings[f"fit_estimator_{kind}"] = time.perf_counter() - t0
        oof = cross_fit(kind, logged_ctx, chains, target, folds=folds, seed=seed, groups=users)
        predictions[kind] = (expand(oof, frontier, n), expand(fitted[kind].predict(held_ctx), frontier, n))
        later, later_pred = forward_fit(kind, logged_ctx, chains, target, times, seed=seed)
        forward[kind] = (later, expand(later_pred, frontier, n))
    floors = {kind: price_floor(logged_pred, logged_true, costs) for kind, (logged_pred, _) in predictions.items()}
    est = fitted[estimator]
    t0 = time.perf_counter()
    est.predict(held_ctx)
    timings["estimator_us_per_request_batched"] = (time.perf_counter() - t0) / len(held) * 1e6
    t0 = time.perf_counter()
    for i in range(min(200, len(held))):
        est.predict(held_ctx[i : i + 1])
    timings["estimator_us_per_request_single"] = (time.perf_counter() - t0) / min(200, len(held)) * 1e6
    logged_pred, held_pred = predictions[estimator]
    values = segments = None
    if world is not None:
        by_id = world.users.set_index("user_id")
        ids = [str(data.user_ids[q.user]) for q in held]
        values = by_id.loc[ids, "value"].to_numpy(np.float64)
        segments = by_id.loc[ids, "kind"].to_numpy(object)
    return AllocationExperiment(cascade, calibration, costs, est, frontier, logged_true, logged_pred, held_true,
                                held_pred, timings, reward, estimator, predictions, held_expected, logged_expected,
                                values, segments, floors, forward)


def run_evaluation(exp: AllocationExperiment, budgets: Sequence[float], *, state_factory=None,  # type: ignore[no-untyped-def]
                   n_windows: int = 48, mean_per_window: int = 150, seed: int = 0, milp_n: int = 60,
                   use_price_floor: bool = True, progress: bool = True
                   ) -> tuple[dict[str, object], list[BudgetResult]]:
    """Per budget: static / offline / online / oracle (and, where the truth is known, their expected
    rewards and the expected-reward oracle; with request values, value-aware against value-blind
    control). Every other estimator is replayed on the same stream for comparison, and the online
    controller once more without its price floor (``price_floor_effect``). Returns the JSON report
    and the raw results."""
    stream = simulate_traffic(len(exp.held_true), n_windows=n_windows, mean_per_window=mean_per_window, seed=seed)
    names = [c.name for c in exp.cascade.chains]
    results: list[BudgetResult] = []
    overheads: list[float] = []
    report_budgets: dict[str, object] = {}
    comparison: dict[str, dict[str, object]] = {kind: {} for kind in exp.predictions}
    floor_of = {kind: (f.lam if use_price_floor else 0.0) for kind, f in exp.floors.items()}
    floor = floor_of.get(exp.estimator_kind, 0.0)
    floor_effect: dict[str, object] = {}
    truth_as_estimator: dict[str, object] = {}
    for b in budgets:
        state: BudgetState | None = state_factory(b) if state_factory else None
        value_state: BudgetState | None = state_factory(b) if state_factory and exp.held_values is not None else None
        res, overhead = evaluate_budget(b, stream, exp.held_true, exp.held_pred, exp.logged_pred, exp.costs, names,
                                        state=state, columns=exp.frontier, logged_true=exp.logged_true,
                                        expected=exp.held_expected, values=exp.held_values,
                                        value_state=value_state, lam_floor=floor, progress=progress)
        results.append(res)
        # With a zero floor both runs are the same one: recorded anyway, so every replay has the key.
        bare = res if floor <= 0 else evaluate_budget(
            b, stream, exp.held_true, exp.held_pred, exp.logged_pred, exp.costs, names, columns=exp.frontier,
            logged_true=exp.logged_true, expected=exp.held_expected, progress=progress)[0]
        floor_effect[f"{b:g}"] = {"with_floor": _comparison_row(res), "without_floor": _comparison_row(bare)}
        if exp.held_expected is not None and exp.logged_expected is not None:
            truth_as_estimator[f"{b:g}"] = _truth_as_estimator(exp, b, stream, names, progress)
        overheads.append(overhead)
        report_budgets[f"{b:g}"] = res.summary()
        for kind, (logged_pred, held_pred) in exp.predictions.items():
            other = res if kind == exp.estimator_kind else evaluate_budget(
                b, stream, exp.held_true, held_pred, logged_pred, exp.costs, names, columns=exp.frontier,
                logged_true=exp.logged_true, expected=exp.held_expected, lam_floor=floor_of.get(kind, 0.0),
                progress=progress)[0]
            comparison[kind][f"{b:g}"] = _comparison_row(other)
    for kind, (_, held_pred) in exp.predictions.items():
        comparison[kind]["compute_saved_at_99pct_reward"] = compute_saved(
            exp.held_true, held_pred, exp.costs)["allocator_compute_saved"]
        if exp.held_expected is not None:
            comparison[kind]["compute_saved_at_99pct_expected_reward"] = compute_saved(
                exp.held_expected, held_pred, exp.costs)["allocator_compute_saved"]
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
        # Every online decision of every budget: wall and CPU µs percentiles, the load average, and
        # where the shared state's round trips ran.
        "overhead": {**DecisionTimes.pooled([r.times for r in results if r.times is not None]).summary(),
                     "state": results[0].state_io if results else {}},
        "compute_saved_detail": saved,
        "estimator": exp.estimator_kind,
        "estimator_comparison": comparison,
        "achievable_gain_cross_fitted": {
            kind: achievable_gain(exp.logged_true, logged_pred, exp.costs, budgets, seed=seed)
            for kind, (logged_pred, _) in exp.predictions.items()},
        "achievable_gain_time_ordered": {
            kind: achievable_gain(exp.logged_true[later], later_pred, exp.costs, budgets, seed=seed)
            for kind, (later, later_pred) in exp.forward.items()},
        "estimator_us_per_request": {k: v for k, v in exp.timings_s.items() if k.startswith("estimator")},
        "milp_check": checks,
        "price_floor": {kind: {**f.as_dict(), "applied": use_price_floor} for kind, f in exp.floors.items()},
        "price_floor_effect": floor_effect,
        "context_features": list(ALLOCATION_CONTEXT),
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
    if exp.held_expected is not None:
        report["compute_saved_detail_expected"] = compute_saved(exp.held_expected, exp.held_pred, exp.costs)
        report["truth"] = "expected reward known (taste world)"
    if truth_as_estimator:
        report["diagnosis_true_estimator"] = truth_as_estimator
    if exp.held_segments is not None:
        report["segments"] = _segments(exp, results)
    return report, results


def _truth_as_estimator(exp: AllocationExperiment, fraction: float, stream: TrafficStream, names: list[str],
                        progress: bool) -> dict[str, object]:
    """Diagnosis only, where the truth is known: the same online controller fed the *true* expected
    rewards instead of an estimator's predictions, on the served frontier and on every chain. What it
    reaches is what control alone can do; the rest of the gap to the oracle is estimation."""
    assert exp.held_expected is not None and exp.logged_expected is not None
    out: dict[str, object] = {}
    for label, columns in (("frontier", exp.frontier), ("all_chains", np.arange(len(names)))):
        r = evaluate_budget(fraction, stream, exp.held_true, exp.held_expected, exp.logged_expected, exp.costs,
                            names, columns=columns, logged_true=exp.logged_true, expected=exp.held_expected,
                            progress=progress)[0]
        row = _comparison_row(r)
        online, oracle = cast(float, r.extra["expected_online"]), cast(float, r.extra["expected_oracle"])
        row["expected_online_over_oracle"] = online / oracle if oracle > 0 else float("nan")
        out[label] = row
    return out


def _comparison_row(r: BudgetResult) -> dict[str, object]:
    row: dict[str, object] = {"online": r.online.reward, "online_share_of_oracle": r.online.share_of_oracle,
                              "overuse": r.online.overuse, "utilization": r.online.utilization,
                              "static": r.static.reward, "offline": r.offline.reward}
    for key in ("expected_online", "expected_best_static", "expected_oracle"):
        if key in r.extra:
            row[key] = r.extra[key]
    return row


def _segments(exp: AllocationExperiment, results: Sequence[BudgetResult]) -> dict[str, object]:
    """Per user segment: share of held-out requests and mean expected (else realized) reward of the
    cheapest and the most expensive chain (how much each segment gains from compute)."""
    scored = exp.held_expected if exp.held_expected is not None else exp.held_true.astype(float)
    cheap, full = int(np.argmin(exp.costs)), int(np.argmax(exp.costs))
    out: dict[str, object] = {}
    for seg in sorted(set(exp.held_segments.tolist())):  # type: ignore[union-attr]
        m = exp.held_segments == seg
        out[str(seg)] = {"share": float(m.mean()), "cheapest_chain": float(scored[m, cheap].mean()),
                         "full_chain": float(scored[m, full].mean()), "best_chain": float(scored[m].max(axis=1).mean())}
    return out


