"""``mds allocation``: replay evaluation of compute allocation on a rating log, and the cost
calibration benchmark of the cascade's stage instances."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import InvalidArgument
from services.cli._output import write_json

app = typer.Typer(help="Cascade recommendation under a compute budget: evaluate allocators, calibrate costs.",
                  no_args_is_help=True)
console = Console()

DataOpt = Annotated[Path, typer.Option("--data", help="directory of the rating data")]
FormatOpt = Annotated[str, typer.Option("--format", help="recbole (ml-100k.inter/.item) or grouplens "
                                                           "(ratings.csv, movies.csv)")]


def _budgets(raw: str) -> list[float]:
    try:
        values = [float(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise InvalidArgument(f"--budgets must be comma-separated numbers, got {raw!r}", field="--budgets") from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise InvalidArgument(f"--budgets must be fractions in (0, 1], got {raw!r}", field="--budgets")
    return values


def _load(data: Path | None, fmt: str, max_users: int | None):  # type: ignore[no-untyped-def]
    from models.recommend import load_ratings

    if fmt not in ("recbole", "grouplens"):
        raise InvalidArgument(f"--format must be recbole, grouplens or synthetic, got {fmt!r}", field="--format")
    if data is None:
        raise InvalidArgument(f"--data is required with --format {fmt}", field="--data")
    if not data.is_dir():
        raise InvalidArgument(f"--data {data} is not a directory", field="--data")
    ratings = load_ratings(data, fmt)
    return ratings.subsample_users(max_users) if max_users else ratings


@app.command("evaluate")
def evaluate(
    json_path: Annotated[Path, typer.Option("--json", help="write the report here")],
    data: Annotated[Path | None, typer.Option("--data", help="directory of the rating data (not for "
                                                             "--format synthetic)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="recbole (ml-100k.inter/.item), grouplens (ratings.csv, "
                                                      "movies.csv) or synthetic (the taste world: expected "
                                                      "rewards known)")] = "recbole",
    budgets: Annotated[str, typer.Option(help="budget fractions of the most expensive chain")] = "0.3,0.5,0.7",
    plot: Annotated[Path | None, typer.Option(help="reward-versus-compute PNG (of the first replay)")] = None,
    windows: Annotated[int, typer.Option(min=2, help="traffic windows (hours) in the simulated stream")] = 48,
    per_window: Annotated[int, typer.Option(min=10, help="mean requests per window")] = 150,
    max_users: Annotated[int | None, typer.Option(min=10, help="subsample this many users")] = None,
    world_users: Annotated[int, typer.Option(min=50, help="users of the synthetic taste world")] = 1200,
    niche_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of niche users (who gain from "
                                                                      "compute) in the taste world")] = 0.3,
    redis: Annotated[bool, typer.Option("--redis/--no-redis", help="keep the controller's state in Redis "
                                        "(MDS_REDIS_URL) as in serving")] = False,
    max_requests: Annotated[int | None, typer.Option(min=20, help="cap logged and held-out requests each")] = None,
    max_held: Annotated[int | None, typer.Option(min=20, help="cap held-out requests only (overrides "
                                                              "--max-requests for them)")] = None,
    requests_per_user: Annotated[int, typer.Option(min=0, help="requests per user and period (0: every "
                                                               "eligible rating event)")] = 8,
    calibration_requests: Annotated[int, typer.Option(min=1, help="requests timed per stage instance")] = 60,
    milp_requests: Annotated[int, typer.Option(min=2, help="subsample size of the exact MILP check")] = 60,
    seed: Annotated[int, typer.Option()] = 0,
    replays: Annotated[int, typer.Option(min=1, help="independent runs (seeds seed, seed+1, ...; each re-measures "
                                                     "the costs); ratios are reported as mean and 95% interval")] = 1,
    estimator: Annotated[str, typer.Option(help="what the allocators use: gain (marginal value of compute over "
                                                "the cheapest chain) or reward (LightGBM on reward levels); "
                                                "both are fitted and compared")] = "gain",
    reward: Annotated[str, typer.Option(help="request reward: hits (of the top 10 among later ratings >= 4) "
                                             "or ndcg (NDCG@10 of the same relevance)")] = "hits",
    price_floor: Annotated[bool, typer.Option("--price-floor/--no-price-floor",
                                              help="never price compute below what the logged requests say pays "
                                                   "(cross-fitted); the report shows the online controller "
                                                   "both ways")] = True,
) -> None:
    """Replay held-out requests under each budget: static chain, offline λ, online controller, oracle."""
    from models.allocation import ESTIMATORS, plot_reward_vs_compute, summarize_replays

    fractions = _budgets(budgets)
    if reward not in ("hits", "ndcg"):
        raise InvalidArgument(f"--reward must be hits or ndcg, got {reward!r}", field="--reward")
    if estimator not in ESTIMATORS:
        raise InvalidArgument(f"--estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}",
                              field="--estimator")
    if fmt == "synthetic" and reward != "hits":
        raise InvalidArgument("the synthetic world's expected reward is in hits; use --reward hits", field="--reward")
    t0 = time.perf_counter()
    real = None if fmt == "synthetic" else _load(data, fmt, max_users)
    reports, first = [], None
    for run in range(replays):
        run_seed = seed + run
        report, results, exp = _one_run(real, fmt, fractions, run_seed, world_users=world_users, niche_share=niche_share,
                                        max_requests=max_requests, max_held=max_held or max_requests,
                                        requests_per_user=requests_per_user,
                                        calibration_requests=calibration_requests, reward=reward,
                                        estimator=estimator, redis=redis, windows=windows, per_window=per_window,
                                        milp_requests=milp_requests, price_floor=price_floor)
        reports.append(report)
        if first is None:
            first = (report, results, exp)
        # Minutes per replay: keep what is done so far, so a cut-off run still leaves its replays.
        write_json(json_path.with_name(json_path.stem + ".partial.json"), {"replays": reports})
        console.print(f"replay {run + 1}/{replays} (seed {run_seed}) done")
    assert first is not None
    report, results, exp = first
    report = dict(report)
    if replays > 1:
        report["replays"] = reports
        report["summary"] = summarize_replays(reports)
    report["command_seconds"] = time.perf_counter() - t0
    report["state_backend"] = "redis" if redis else "in-process"
    write_json(json_path, report)
    json_path.with_name(json_path.stem + ".partial.json").unlink(missing_ok=True)
    name = "taste world" if fmt == "synthetic" else (data.name if data else "")
    if plot is not None:
        truth = exp.held_expected if exp.held_expected is not None else exp.held_true
        plot_reward_vs_compute(plot, truth, exp.held_pred, exp.costs, results,
                               title=f"{name}: {'expected hits' if exp.held_expected is not None else reward} "
                                     f"versus compute ({report['held_out_requests']} held-out requests)",
                               reward=reward, expected=exp.held_expected is not None)
        console.print(f"wrote {plot}")
    _print_tables(report, reward)


def _one_run(real, fmt: str, fractions: list[float], seed: int, *, world_users: int, niche_share: float,  # type: ignore[no-untyped-def]
             max_requests: int | None, max_held: int | None, requests_per_user: int, calibration_requests: int,
             reward: str, estimator: str, redis: bool, windows: int, per_window: int, milp_requests: int,
             price_floor: bool = True):
    from models.allocation import prepare_experiment, run_evaluation, taste_data

    world = None
    if fmt == "synthetic":
        world, real = taste_data(world_users, seed=seed, niche_share=niche_share)
    exp = prepare_experiment(real, seed=seed, max_logged=max_requests, max_held=max_held,
                             max_requests_per_user=requests_per_user or None,
                             calibration_requests=calibration_requests, reward=reward, estimator=estimator,
                             world=world)
    factory = None
    created: list = []  # Redis budget states of this replay (deleted at the end)
    if redis:
        from core.redis import connect
        from core.settings import get_settings
        from models.allocation import RedisBudgetState, WriteBehindBudgetState

        settings = get_settings()
        client = connect(settings)

        def factory(b: float) -> WriteBehindBudgetState:
            # As in serving: the controller's flushes write behind, no round trip on the request path.
            inner = RedisBudgetState(client, settings.namespace,
                                     f"evaluate-{seed}-{b:g}-{len(created)}-{int(time.time())}")
            inner.clear()
            state = WriteBehindBudgetState(inner)
            created.append((state, inner))
            state.prime(0)   # the replay's first window
            return state

    try:
        report, results = run_evaluation(exp, fractions, state_factory=factory, n_windows=windows,
                                         mean_per_window=per_window, seed=seed, milp_n=milp_requests,
                                         use_price_floor=price_floor)
    finally:
        for state, inner in created:
            state.close()
            inner.clear()   # the replay's budget state is scratch: leave nothing behind in Redis
    report["seed"] = seed
    return report, results, exp


def _print_tables(report: dict, reward: str) -> None:  # type: ignore[type-arg]
    metric = "NDCG@10" if reward == "ndcg" else "hits@10"
    table = Table(title=f"allocation under a compute budget (mean {metric} per request; share of oracle)")
    for col in ("budget", "static", "offline λ", "online", "oracle", "online/oracle", "μ", "ν"):
        table.add_column(col, justify="right")
    per_budget: dict[str, dict[str, float]] = report["budgets"]
    for b, r in per_budget.items():
        table.add_row(b, f"{r['static']:.3f} ({r['static_share_of_oracle']:.0%})",
                      f"{r['offline']:.3f} ({r['offline_share_of_oracle']:.0%})",
                      f"{r['online']:.3f}", f"{r['oracle']:.3f}", f"{r['online_share_of_oracle']:.1%}",
                      f"{r['utilization']:.3f}", f"{r['overuse']:.4f}")
    console.print(table)
    if "expected_oracle" in next(iter(per_budget.values())):
        t = Table(title="expected hits (the truth of the taste world)")
        for col in ("budget", "best static", "online", "expected oracle", "online/static", "online/oracle",
                    "online/oracle with the truth as estimator"):
            t.add_column(col, justify="right")
        truth = report.get("diagnosis_true_estimator", {})
        for b, r in per_budget.items():
            diag = truth.get(b, {}).get("frontier", {}).get("expected_online_over_oracle", float("nan"))
            t.add_row(b, f"{r['expected_best_static']:.3f}", f"{r['expected_online']:.3f}",
                      f"{r['expected_oracle']:.3f}", f"{r['expected_online'] / r['expected_best_static']:.3f}",
                      f"{r['expected_online'] / r['expected_oracle']:.3f}", f"{diag:.3f}")
        console.print(t)
    summary = report.get("summary")
    if summary:
        t = Table(title=f"mean over {summary['replays']} replays [95% interval]")
        t.add_column("budget")
        t.add_column("metric")
        t.add_column("mean [low, high]", justify="right")
        for b, metrics in summary["budgets"].items():
            for k, v in metrics.items():
                t.add_row(b, k, f"{v['mean']:.4f} [{v['low']:.4f}, {v['high']:.4f}]")
        for k, v in summary["overall"].items():
            t.add_row("all", k, f"{v['mean']:.4f} [{v['low']:.4f}, {v['high']:.4f}]")
        console.print(t)
    console.print(f"compute saved at 99% of the full chain's reward: allocator "
                  f"{report['compute_saved_at_99pct_reward']:.1%}, best static chain "
                  f"{report['compute_saved_detail']['static_compute_saved']:.1%}")
    console.print(f"controller overhead: {report['overhead_us_per_request']:.1f} µs/request; reward estimator: "
                  f"{report['estimator_us_per_request']['estimator_us_per_request_single']:.0f} µs/request "
                  f"(one at a time)")


@app.command("bench")
def bench(
    data: DataOpt,
    fmt: FormatOpt = "recbole",
    out: Annotated[Path, typer.Option("--out", help="calibration JSON")] = Path("var/allocation/calibration.json"),
    requests: Annotated[int, typer.Option(min=1, help="real requests timed per instance and size")] = 60,
    max_users: Annotated[int | None, typer.Option(min=10, help="subsample this many users")] = None,
) -> None:
    """Train the cascade and measure every stage instance's cost (fixed µs + µs per item) on this
    machine; write the calibration JSON the allocator uses."""
    from models.recommend import TimeSplit, build_requests, calibrate, train_cascade

    ratings = _load(data, fmt, max_users)
    split = TimeSplit.by_quantiles(ratings)
    cascade = train_cascade(ratings, split)
    reqs = build_requests(ratings, split.t_stage, split.t_replay)
    if not reqs:
        raise InvalidArgument("no requests to time in the data", field="--data")
    cal = calibrate(cascade, reqs, n_requests=requests)
    cal.save(out)
    table = Table(title=f"stage instance costs on {cal.machine} ({cal.requests} requests)")
    for col in ("instance", "stage", "fixed µs", "µs per item"):
        table.add_column(col, justify="right")
    for name, c in cal.instances.items():
        table.add_row(name, c.stage, f"{c.fixed_us:.1f}", f"{c.per_item_us:.3f}")
    console.print(table)
    costs = cal.chain_costs(cascade.chains)
    console.print(f"{len(costs)} chains from {costs.min():.0f} to {costs.max():.0f} µs; wrote {out}")


@app.command("bench-overhead")
def bench_overhead(
    json_path: Annotated[Path, typer.Option("--json", help="write the report here")],
    data: DataOpt,
    fmt: FormatOpt = "recbole",
    requests: Annotated[int, typer.Option(min=100, help="requests timed (cycling through the data's)")] = 2000,
    per_window: Annotated[int, typer.Option(min=10, help="requests per 60 s controller window")] = 600,
    max_users: Annotated[int | None, typer.Option(min=10, help="subsample this many users")] = None,
    logged_requests: Annotated[int, typer.Option(min=50, help="replayed requests the policy learns from")] = 400,
    large_trees: Annotated[int, typer.Option(min=10, help="trees of the large ranker")] = 60,
    calibration_requests: Annotated[int, typer.Option(min=1, help="requests timed per stage instance")] = 10,
    redis: Annotated[bool, typer.Option("--redis/--no-redis", help="also time the controller on a Redis state "
                                        "(MDS_REDIS_URL, a namespace of its own, deleted at the end): "
                                        "write-behind as served, and every flush waiting for Redis as before")] = False,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """What allocation adds to one request, phase by phase (context, estimator, decision with its
    state maintenance), as the server runs it: wall and CPU µs per request, percentiles, load average."""
    import uuid

    import numpy as np

    from core.redis import connect
    from core.settings import get_settings
    from features.store import delete_namespace
    from models.allocation import (
        ControllerConfig,
        LocalBudgetState,
        RedisBudgetState,
        WriteBehindBudgetState,
        fit_policy,
    )
    from models.allocation import bench_overhead as run_bench
    from models.allocation._state import BudgetState
    from models.recommend import build_requests, train_recommender
    from services.recommend import SYNC_EVERY, WINDOW_S

    ratings = _load(data, fmt, max_users)
    t0 = time.perf_counter()
    with console.status("training the cascade and its allocation policy"):
        bundle = train_recommender(ratings, large_trees=large_trees, calibration_requests=calibration_requests,
                                   seed=seed)
        policy = fit_policy(bundle, ratings, max_logged=logged_requests, seed=seed)
    reqs = build_requests(ratings, bundle.split.t_stage, np.iinfo(np.int64).max, max_per_user=3, seed=seed)
    serving = ControllerConfig(window_s=WINDOW_S, sync_in_decide=False, sync_every=SYNC_EVERY)
    states: dict[str, tuple[BudgetState, ControllerConfig]] = {"in-process state": (LocalBudgetState(), serving)}
    namespace, client, behind = None, None, None
    if redis:
        namespace = f"mdsoverheadbench-{uuid.uuid4().hex[:8]}"
        client = connect(get_settings())
        # Before: every flush a round trip in the request's path, at the old sync interval.
        states["redis, each flush waits"] = (RedisBudgetState(client, namespace, "sync"),
                                             ControllerConfig(window_s=WINDOW_S, sync_in_decide=False))
        behind = WriteBehindBudgetState(RedisBudgetState(client, namespace, "write-behind"))
        behind.prime(0)
        states["redis, write-behind (served)"] = (behind, serving)
    try:
        report = run_bench(bundle, policy, reqs, states, n=requests, per_window=per_window)
    finally:
        if behind is not None:
            behind.close()
        if client is not None and namespace is not None:
            report_keys = delete_namespace(client, namespace)
            client.close()
    if namespace is not None:
        report["namespace"], report["keys_deleted"] = namespace, report_keys
    report["command_seconds"] = time.perf_counter() - t0
    write_json(json_path, report)
    _print_overhead(report, requests)
    console.print(f"one threadpool_limits(1) (what the servicer paid twice per request before): "
                  f"{report['threadpool_limits_us_per_call']['mean']:.0f} µs; wrote {json_path}")


def _print_overhead(report: dict, requests: int) -> None:  # type: ignore[type-arg]
    load = report["load_average"]
    table = Table(title=f"allocation overhead per request ({requests} requests, µs; load average "
                        f"{load['min']:.1f}–{load['max']:.1f})")
    for col in ("phase", "wall mean", "wall p50", "wall p99", "CPU mean", "CPU p50", "CPU p99"):
        table.add_column(col, justify="right")
    rows = [(k, v) for k, v in report["phases"].items()] + [(f"decision, {k}", v)
                                                            for k, v in report["decision"].items()]
    for name, r in rows:
        w, c = r["wall_us"], r["cpu_us"]
        table.add_row(name, f"{w['mean']:.1f}", f"{w['p50']:.1f}", f"{w['p99']:.1f}", f"{c['mean']:.1f}",
                      f"{c['p50']:.1f}", f"{c['p99']:.1f}")
    console.print(table)
