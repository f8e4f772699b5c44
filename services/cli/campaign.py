"""``mds campaign``: plan, launch, export, record outcomes, read out, learn, replay on Hillstrom, bench."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from core.errors import InvalidArgument
from core.figures import save_figure
from services.cli._output import write_json

if TYPE_CHECKING:
    from models.campaign import CampaignBook, CampaignPlan, Readout

__all__ = ["app"]

app = typer.Typer(help="Campaigns: a demand → a budgeted, uplift-ranked audience with a holdout → outcomes → "
                       "read-out → a better model.", no_args_is_help=True)
console = Console()


def _book() -> CampaignBook:
    from core.settings import get_settings
    from features.catalog import configured_catalog
    from models.campaign import CampaignBook

    settings = get_settings()
    return CampaignBook.open(settings, configured_catalog(settings))


def _print_plan(plan: CampaignPlan) -> None:
    table = Table(title=f"campaign {plan.campaign_id} ({plan.status})", show_header=False)
    budget = f"{plan.max_users:,} users" if plan.max_users else f"cost {plan.max_cost:,.2f}"
    for key, value in (("audience", plan.logic), ("demand", plan.demand or "—"),
                       ("model", f"{plan.model} v{plan.model_version}"), ("budget", budget),
                       ("eligible", f"{plan.eligible_count:,} ({plan.unscored_count:,} without cached features)"),
                       ("treated", f"{plan.treated_count:,} (cost {plan.total_cost:,.2f})"),
                       ("holdout", f"{plan.holdout_count:,} ({plan.holdout_share:.0%}; twin {plan.twin_count:,})"),
                       ("expected incremental", f"{plan.expected_incremental:,.1f} "
                                                f"[{plan.expected_ci_low:,.1f}, {plan.expected_ci_high:,.1f}]")):
        table.add_row(key, str(value))
    console.print(table)


@app.command()
def plan(
    model: Annotated[str, typer.Option(help="registered uplift model")],
    holdout_share: Annotated[float, typer.Option(help="share of the eligible audience held out, (0, 0.5]")],
    demand: Annotated[str, typer.Option(help="who is eligible, in plain English")] = "",
    logic: Annotated[str, typer.Option(help="who is eligible, in the logic language")] = "",
    max_users: Annotated[int | None, typer.Option(help="budget: users to treat")] = None,
    max_cost: Annotated[float | None, typer.Option(help="budget: total cost")] = None,
    cost_per_user: Annotated[float, typer.Option(help="cost of a user without a cost feature")] = 1.0,
    cost_feature: Annotated[str, typer.Option(help="numeric feature holding each user's cost")] = "",
    model_version: Annotated[int, typer.Option(help="0 = newest")] = 0,
    seed: int = 0,
    name: str = "",
    launch: Annotated[bool, typer.Option(help="launch right away")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the plan summary here")] = None,
) -> None:
    """Plan a campaign (stored as a draft unless --launch)."""
    from models.campaign import Budget, PlanSpec

    if (max_users is None) == (max_cost is None):
        raise InvalidArgument("give exactly one budget: --max-users or --max-cost", field="--max-users")
    try:
        budget = Budget(max_users=max_users, max_cost=max_cost, cost_per_user=cost_per_user)
        spec = PlanSpec(model=model, budget=budget, holdout_share=holdout_share, seed=seed, demand=demand,
                        logic=logic, model_version=model_version, cost_feature=cost_feature, name=name)
        book = _book()
        result, _ = book.plan(spec)
    except InvalidArgument as exc:  # name the flag, not the request field
        raise InvalidArgument(exc.message, field=f"--{(exc.field or 'model').split('.')[0].replace('_', '-')}") \
            from exc
    if launch:
        result = book.launch(result.campaign_id)
    _print_plan(result)
    write_json(json_out, result.to_json())


@app.command()
def launch(campaign_id: str) -> None:
    """Freeze a plan; outcomes are accepted from now on."""
    _print_plan(_book().launch(campaign_id))


@app.command()
def get(campaign_id: str) -> None:
    _print_plan(_book().get(campaign_id))


@app.command("list")
def list_campaigns(limit: int = 50) -> None:
    plans, total = _book().list(limit)
    table = Table(title=f"{total} campaign(s), newest first")
    for col in ("id", "status", "created", "model", "treated", "holdout", "expected incr."):
        table.add_column(col)
    for p in plans:
        table.add_row(p.campaign_id, p.status, p.created_at, f"{p.model} v{p.model_version}", f"{p.treated_count:,}",
                      f"{p.holdout_count:,}", f"{p.expected_incremental:,.1f}")
    console.print(table)


@app.command()
def export(campaign_id: str, out: Annotated[Path, typer.Option(help="Parquet file to write")],
           include_holdout: bool = False) -> None:
    """The delivery list as Parquet: treated users best first (holdout on request, marked)."""
    frame = _book().export(campaign_id, include_holdout=include_holdout)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, index=False)
    console.print(f"wrote {len(frame):,} rows to {out}")


def _read_outcomes(path: Path) -> list[Any]:
    import pandas as pd

    from models.campaign import Outcome

    if not path.is_file():
        raise InvalidArgument(f"no such file: {path}", field="--input")
    frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    for col in ("user_id", "group", "outcome"):
        if col not in frame.columns:
            raise InvalidArgument(f"column {col!r} is missing; the file needs user_id, group, outcome[, value]",
                                  field=col)
    value = frame["value"] if "value" in frame.columns else pd.Series(0.0, index=frame.index)
    out = []
    for col, series in (("outcome", frame["outcome"]), ("value", value)):
        bad = pd.to_numeric(series, errors="coerce").isna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise InvalidArgument(f"column {col!r}, row {row + 2}: {series.iloc[row]!r} is not a number", field=col)
    for user, group, outcome, v in zip(frame["user_id"].astype(str), frame["group"].astype(str),
                                       pd.to_numeric(frame["outcome"]), pd.to_numeric(value), strict=True):
        out.append(Outcome(user, group, float(outcome), float(v)))
    return out


@app.command()
def outcomes(campaign_id: str,
             input: Annotated[Path, typer.Option("--input", help="CSV/Parquet: user_id, group, outcome[, value]")],
             ) -> None:
    """Record outcomes (idempotent: a user recorded again replaces the earlier record)."""
    records = _read_outcomes(input)
    try:
        summary = _book().record(campaign_id, records, field="row")
    except InvalidArgument as exc:  # outcomes[i].group → the column, with the file's line number
        field = exc.field or ""
        if field.startswith("row["):
            index, column = field[4:].split("].")
            raise InvalidArgument(f"{exc.message} (line {int(index) + 2})", field=column) from exc
        raise
    console.print(f"received {summary.received:,}: recorded {summary.recorded:,} (replaced {summary.replaced:,}), "
                  f"{summary.outside:,} outside the campaign"
                  + (f" (e.g. {', '.join(summary.outside_sample[:5])})" if summary.outside else "")
                  + (f", {summary.group_mismatches:,} in the other arm than planned" if summary.group_mismatches
                     else ""))


def _print_readout(r: Readout) -> None:
    console.print(f"[bold]{r.message}[/]")
    console.print(f"outcomes: {r.treated_outcomes:,}/{r.planned_treated:,} treated, {r.twin_outcomes:,}/"
                  f"{r.planned_twin:,} holdout twin, {r.baseline_outcomes:,} other holdout, "
                  f"{r.outside_outcomes:,} outside")
    if r.srm_p_value is not None:
        console.print(f"SRM p = {r.srm_p_value:.3g} ({'OK' if r.srm_ok else '[red]MISMATCH[/]'})")
    for x in r.lifts:
        console.print(f"{x.metric}: {x.treated_mean:.4g} vs {x.holdout_mean:.4g}, lift {x.estimate:+.4g} "
                      f"[{x.ci_low:+.4g}, {x.ci_high:+.4g}], p {x.p_value:.3g}, always-valid p "
                      f"{x.always_valid_p_value:.3g}")
    if r.realized_incremental is not None and r.realized_ci is not None:
        console.print(f"incremental outcome: realized {r.realized_incremental:,.1f} [{r.realized_ci[0]:,.1f}, "
                      f"{r.realized_ci[1]:,.1f}] vs predicted {r.predicted_incremental:,.1f} "
                      f"[{r.predicted_ci[0]:,.1f}, {r.predicted_ci[1]:,.1f}]")
    if r.bins:
        table = Table(title="lift by predicted-uplift decile of the targeted users")
        for col in ("decile", "treated", "holdout", "predicted", "realized", "CI"):
            table.add_column(col, justify="right")
        for b in r.bins:
            table.add_row(str(b.bin + 1), f"{b.treated:,}", f"{b.holdout:,}", f"{b.predicted_uplift:.4f}",
                          "—" if b.lift is None else f"{b.lift:+.4f}",
                          "—" if b.ci_low is None else f"[{b.ci_low:+.4f}, {b.ci_high:+.4f}]")
        console.print(table)
    for w in r.warnings:
        console.print(f"[yellow]warning:[/] {w}")


@app.command()
def readout(campaign_id: str, alpha: float = 0.05,
            report: Annotated[Path | None, typer.Option(help="write the PNG report here")] = None,
            json_out: Annotated[Path | None, typer.Option("--json")] = None) -> None:
    """Treated vs holdout lift, realized vs predicted, lift by decile, SRM."""
    from models.campaign import readout_png

    r = _book().readout(campaign_id, alpha=alpha)
    _print_readout(r)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_bytes(readout_png(r))
        console.print(f"wrote {report}")
    write_json(json_out, r.to_json())


@app.command()
def learn(campaign_id: str, model: str = "", seed: int = 0,
          json_out: Annotated[Path | None, typer.Option("--json")] = None) -> None:
    """Retrain with the read-out's decile effects as bag labels; registers a new model version."""
    result = _book().learn(campaign_id, model=model, seed=seed)
    console.print(result.summary)
    write_json(json_out, result.to_json())


@app.command()
def simulate(
    dataset: Annotated[str, typer.Option(help="only 'hillstrom'")] = "hillstrom",
    rounds: int = 3,
    email: Annotated[str, typer.Option(help="the campaign's e-mail: womens, mens or any")] = "womens",
    target_share: float = 0.3,
    holdout_share: float = 0.2,
    train_share: float = 0.3,
    seed: int = 0,
    bootstrap: int = 1000,
    training: Annotated[str, typer.Option(help="rows a round adds: balanced, region or all")] = "balanced",
    bags: Annotated[bool, typer.Option(help="read-out decile effects as bag labels when learning")] = True,
    early_stopping: Annotated[bool | None, typer.Option(
        "--early-stopping/--no-early-stopping", help="the bag-regularized learner's early stopping; "
                                                     "unset: the learner's default")] = None,
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
    plot: Annotated[Path | None, typer.Option(help="PNG of the per-round ratios")] = None,
    reports: Annotated[Path | None, typer.Option(help="folder for each round's read-out PNG")] = None,
) -> None:
    """Replay plan → deliver → read out → learn on a real randomized experiment."""
    import tempfile

    from rich.progress import Progress

    from models.campaign import ReplayConfig, check_holdout_share, simulate_hillstrom
    from models.registry import ModelRegistry

    if dataset != "hillstrom":
        raise InvalidArgument(f"unknown dataset {dataset!r}; only 'hillstrom' is available", field="--dataset")
    try:
        check_holdout_share(holdout_share)
    except InvalidArgument as exc:
        raise InvalidArgument(exc.message, field="--holdout-share") from exc
    config = ReplayConfig(rounds=rounds, email=email, target_share=target_share, holdout_share=holdout_share,
                          train_share=train_share, seed=seed, bootstrap=bootstrap, training=training,
                          use_bags=bags, early_stopping=early_stopping)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console) as progress:
        task = progress.add_task("rounds", total=rounds)
        result = simulate_hillstrom(config, ModelRegistry(tmp), on_round=lambda _: progress.advance(task),
                                    on_readout=None if reports is None else lambda r, x: _save_report(reports, r, x))
    table = Table(title=f"Hillstrom replay ({email} e-mail, outcome visit): uplift-targeted {target_share:.0%} vs "
                        f"a random {target_share:.0%}")
    for col in ("round", "v", "targeted", "random", "ratio", "95% CI", "predicted", "1st model", "SRM"):
        table.add_column(col, justify="right")
    for r in result.rounds:
        table.add_row(str(r.round), str(r.model_version), f"{r.targeted_incremental:.1f}",
                      f"{r.random_incremental:.1f}", f"{r.ratio:.3f}", f"[{r.ratio_ci[0]:.3f}, {r.ratio_ci[1]:.3f}]",
                      f"{r.predicted_incremental:.1f}", f"{r.ratio_first_model:.3f}",
                      "OK" if r.readout_srm_ok else "MISMATCH")
    console.print(table)
    lo, hi = result.ratio_mean_ci
    console.print(f"ratio_mean {result.ratio_mean:.3f} [{lo:.3f}, {hi:.3f}] (first model kept throughout: "
                  f"{result.to_json()['ratio_first_model_mean']:.3f}); {time.perf_counter() - started:.1f} s")
    out = result.to_json()
    out["seconds"] = time.perf_counter() - started
    write_json(json_out, out)
    if plot is not None:
        _plot_rounds(result.to_json(), plot)
        console.print(f"wrote {plot}")


def _save_report(folder: Path, round_number: int, readout: Readout) -> None:
    from models.campaign import readout_png

    folder.mkdir(parents=True, exist_ok=True)
    title = f"Hillstrom replay, round {round_number}: treated vs holdout twin (revealed outcomes, visit)"
    (folder / f"round{round_number}.png").write_bytes(readout_png(readout, title))


def _plot_rounds(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = data["rounds"]
    x = [r["round"] for r in rounds]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ratio = [r["ratio"] for r in rounds]
    ax.errorbar(x, ratio, yerr=[[v - r["ratio_ci"][0] for v, r in zip(ratio, rounds, strict=True)],
                                [r["ratio_ci"][1] - v for v, r in zip(ratio, rounds, strict=True)]],
                fmt="o-", capsize=4, label="learning model")
    ax.plot(x, [r["ratio_first_model"] for r in rounds], "s--", label="first model kept")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axhline(1.3, color="tab:red", lw=0.8, ls=":", label="target 1.3x")
    ax.set_xticks(x)
    ax.set_xlabel("round")
    ax.set_ylabel("incremental visits: targeted / random")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


@app.command()
def bench(users: int = 100_000, repeats: int = 5,
          json_out: Annotated[Path | None, typer.Option("--json")] = None) -> None:
    """Time a Plan over a whole seeded demo world (throw-away Redis namespace; needs the demo catalog)."""
    from core.settings import get_settings
    from features.catalog import configured_catalog
    from models.campaign import bench_plan

    if users < 100:
        raise InvalidArgument("--users must be at least 100", field="--users")
    if repeats < 1:
        raise InvalidArgument("--repeats must be at least 1", field="--repeats")
    settings = get_settings()
    result = bench_plan(settings, configured_catalog(settings), users=users, repeats=repeats)
    data = result.to_json()
    console.print(f"Plan over {result.eligible:,} eligible users ({result.treated:,} treated, {result.holdout:,} "
                  f"held out): p50 {data['plan_p50_s']:.3f} s, max {data['plan_max_s']:.3f} s over {repeats} runs; "
                  f"CPU {data['cpu_p50_s']:.3f} s per plan (p50, all threads)")
    console.print("stages: " + ", ".join(f"{k} {v:.3f} s" for k, v in result.stages.items())
                  + f"; load average {result.load_average[0]:.2f}")
    write_json(json_out, data)
