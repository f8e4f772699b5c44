"""``mds uplift``: evaluate uplift learners side by side, train and register a model, score files."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import InvalidArgument
from services.cli import _uplift_score
from services.cli._output import write_json
from services.cli._uplift_data import DataSource, data_options, split_list

__all__ = ["app"]

app = typer.Typer(help="Uplift models: evaluate learners, train and register models, batch scoring.",
                  no_args_is_help=True)

_METRICS = ("qini_auc", "uplift_auc", "uplift_at_30", "fit_seconds")
_TRUTH_METRICS = ("spearman", "pehe")


def _check_learner_names(names: list[str], flag: str) -> None:
    from models.uplift.learners import make_learner

    for n in names:
        make_learner(n, field=flag)


def _run_one(console: Console, ds, names: list[str], *, seeds: int, test_size: float, tune_seconds: float | None,
             n_boot: int, value_per_unit: float = 1.0):
    """Evaluate ``names`` on ``ds`` with a progress bar; print the table; return the report."""
    from models.uplift.evaluation import evaluate_learners

    console.print(f"[bold]{ds.name}[/]: {len(ds.frame):,} rows, {ds.frame.shape[1]} feature columns, "
                  f"treated share {ds.treatment.mean():.3f}, outcome rate {ds.outcome.mean():.4f}")
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[step]}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("fitting", total=seeds * len(names), step="")
        report = evaluate_learners(
            ds, names, seeds=seeds, test_size=test_size, tune_seconds=tune_seconds, n_boot=n_boot,
            value_per_unit=value_per_unit, on_step=lambda name, seed: progress.update(task, advance=1, step=f"{name} (split {seed + 1})"),
        )
    truth = ds.true_uplift is not None
    table = Table(title=f"{ds.name}: mean ± std over {seeds} splits (test size {test_size}); "
                        "Qini 95% CI: bootstrap on split 1")
    table.add_column("learner")
    metrics = _METRICS + (("tune_seconds",) if tune_seconds is not None else ()) + (_TRUTH_METRICS if truth else ())
    for m in metrics:
        table.add_column(m, justify="right")
    table.add_column("Qini 95% CI", justify="right")
    for name, result in report.learners.items():
        stats = result.summary()
        ci = report.intervals.get(name, {}).get("qini_auc", [float("nan")] * 2)
        table.add_row(name, *(f"{stats[m][0]:.4f} ± {stats[m][1]:.4f}" if m in stats else "-" for m in metrics),
                      f"[{ci[0]:.4f}, {ci[1]:.4f}]")
    console.print(table)
    if report.profit:
        profit = Table(title=f"profit on split 1's test half (value per unit {value_per_unit:g})")
        for col in ("learner", "profit-maximizing budget", "max profit", "profit treating all"):
            profit.add_column(col, justify="right")
        for name, curve in report.profit.items():
            j = curve.to_json()
            profit.add_row(name, f"{j['best_budget']:,.2f}", f"{j['max_profit']:,.2f}", f"{j['profit_treat_all']:,.2f}")
        console.print(profit)
    return report


def _write_outputs(console: Console, report, json_path: Path | None, plot: Path | None) -> None:
    from models.uplift.plots import plot_calibration, plot_profit_curve, plot_qini_curves

    write_json(json_path, report.to_json())
    png = plot or (json_path.with_suffix(".png") if json_path is not None else None)
    if png is not None:
        console.print(f"wrote {plot_qini_curves(report, png)}")
        console.print(f"wrote {plot_calibration(report, png.with_name(png.stem + '_calibration.png'))}")
        if report.profit:
            name = "default" if "default" in report.profit else next(iter(report.profit))
            curve = report.profit[name]
            path = plot_profit_curve(curve.budgets, curve.profits, curve.best_budget,
                                     f"Profit curve: {report.dataset}, {name} (split 1 test half)",
                                     png.with_name(png.stem + "_profit.png"))
            console.print(f"wrote {path}")


@app.command("evaluate")
@data_options()
def evaluate_cmd(
    source: DataSource,
    seeds: Annotated[int, typer.Option("--seeds", help="stratified train/test splits")] = 5,
    test_size: Annotated[float, typer.Option("--test-size", help="test share of each split")] = 0.5,
    learners: Annotated[str | None, typer.Option(
        "--learners", help="comma-separated learner names (default: 'default' and every MDS learner)")] = None,
    anchors: Annotated[bool, typer.Option(
        "--anchors", help="also fit scikit-uplift's and causalml's learners (pip install 'mds[bench]')")] = False,
    tune: Annotated[bool, typer.Option("--tune", help="tune each MDS learner by cross-validated Qini on "
                                                      "each training half first")] = False,
    tune_seconds: Annotated[float, typer.Option("--tune-seconds", help="time bound of one tuning")] = 60.0,
    suite: Annotated[bool, typer.Option("--suite", help="run the whole suite (Hillstrom, demo world, synthetic); "
                                                        "writes one JSON + PNGs per data set to --out-dir")] = False,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="where --suite writes its files")] = Path("var/uplift/suite"),
    n_boot: Annotated[int, typer.Option("--bootstrap", help="bootstrap resamples for the intervals")] = 100,
    cost_col: Annotated[str | None, typer.Option("--cost-col", help="per-user treatment cost column (profit curve)")] = None,
    cost_per_user: Annotated[float | None, typer.Option("--cost-per-user", help="one treatment cost for every user "
                                                                                "(profit curve)")] = None,
    value_per_unit: Annotated[float, typer.Option("--value-per-unit", help="money one unit of outcome is worth "
                                                                           "(1 for revenue outcomes)")] = 1.0,
    json_path: Annotated[Path | None, typer.Option("--json", help="where to write the JSON summary")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Qini-curve PNG (default: beside --json); the "
                                                             "calibration PNG goes beside it")] = None,
) -> None:
    """Fit every learner on the same stratified splits; print and save mean ± std of each metric."""
    from models.uplift import available_anchors

    named = split_list(learners)
    _check_learner_names(named, "--learners")
    if anchors and not available_anchors():
        raise InvalidArgument("--anchors needs scikit-uplift or causalml: pip install 'mds[bench]'", field="--anchors")
    if seeds < 1:
        raise InvalidArgument("--seeds must be at least 1", field="--seeds")
    if not 0.0 < test_size < 1.0:
        raise InvalidArgument("--test-size must be in (0, 1)", field="--test-size")
    if tune and tune_seconds <= 0:
        raise InvalidArgument("--tune-seconds must be positive", field="--tune-seconds")
    if n_boot < 10:
        raise InvalidArgument("--bootstrap must be at least 10", field="--bootstrap")
    console = Console()
    tuning = tune_seconds if tune else None
    if suite:
        if source.dataset is not None or source.data is not None:
            raise InvalidArgument("--suite runs its own data sets; drop --dataset/--data", field="--suite")
        _run_suite(console, named, anchors, seeds=seeds, test_size=test_size, tune_seconds=tuning, n_boot=n_boot,
                   out_dir=out_dir, demo_users=source.demo_users)
        return
    if cost_col is not None and cost_per_user is not None:
        raise InvalidArgument("give --cost-col or --cost-per-user, not both", field="--cost-per-user")
    if cost_per_user is not None and not (np.isfinite(cost_per_user) and cost_per_user >= 0):
        raise InvalidArgument("--cost-per-user must be a non-negative number", field="--cost-per-user")
    if not (np.isfinite(value_per_unit) and value_per_unit > 0):
        raise InvalidArgument("--value-per-unit must be a positive number", field="--value-per-unit")
    with console.status("loading data"):
        ds = source.load(cost_col)
    if cost_per_user is not None:
        ds = dataclasses.replace(ds, costs=np.full(len(ds.frame), float(cost_per_user)))
    report = _run_one(console, ds, _names_for(ds, named, anchors), seeds=seeds, test_size=test_size,
                      tune_seconds=tuning, n_boot=n_boot, value_per_unit=value_per_unit)
    _write_outputs(console, report, json_path, plot)


def _names_for(ds, named: list[str], anchors: bool) -> list[str]:
    """The learners to run on ``ds``: the named ones (or the defaults), plus the anchors that take its outcome."""
    from models.uplift import available_anchors
    from models.uplift.evaluation import default_learner_names

    names = list(named) or default_learner_names(ds.continuous)
    if anchors:
        names += [a for a in available_anchors(ds.continuous) if a not in names]
    return names


def _run_suite(console: Console, named: list[str], anchors: bool, *, seeds: int, test_size: float, tune_seconds: float | None,
               n_boot: int, out_dir: Path, demo_users: int) -> None:
    """Every suite data set in turn; a summary table of the default learner against the best anchor."""
    import time

    from models.uplift.suite import suite_datasets

    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for name, load in suite_datasets(demo_users=demo_users):
        with console.status(f"loading {name}"):
            ds = load()
        report = _run_one(console, ds, _names_for(ds, named, anchors), seeds=seeds, test_size=test_size,
                          tune_seconds=tune_seconds, n_boot=n_boot)
        _write_outputs(console, report, out_dir / f"{name}.json", None)
        summary = {n: r.summary()["qini_auc"] for n, r in report.learners.items()}
        anchor_qini = {n: v for n, v in summary.items() if n.startswith("anchor:")}
        best_anchor = max(anchor_qini, key=lambda n: anchor_qini[n][0]) if anchor_qini else None
        rows.append({"dataset": name, "default": summary.get("default"), "best_anchor": best_anchor,
                     "best_anchor_qini": anchor_qini.get(best_anchor) if best_anchor else None})
    table = Table(title=f"suite: default learner vs best anchor (Qini AUC mean ± std, {seeds} splits)")
    for col in ("data set", "default", "best anchor", "anchor Qini", "default ≥ anchor − 1 std", "ratio"):
        table.add_column(col, justify="right")
    for row in rows:
        d, a = row["default"], row["best_anchor_qini"]
        if d is None or a is None:
            table.add_row(str(row["dataset"]), "-" if d is None else f"{d[0]:.4f} ± {d[1]:.4f}", "-", "-", "-", "-")
            continue
        ok = d[0] >= a[0] - a[1]
        ratio = d[0] / a[0] if a[0] > 0 else float("nan")
        row["meets_target"] = bool(ok)
        table.add_row(str(row["dataset"]), f"{d[0]:.4f} ± {d[1]:.4f}", str(row["best_anchor"]),
                      f"{a[0]:.4f} ± {a[1]:.4f}", "yes" if ok else "NO", f"{ratio:.2f}x")
    console.print(table)
    elapsed = time.perf_counter() - started
    write_json(out_dir / "suite.json", {"seeds": seeds, "seconds": elapsed, "rows": rows})
    console.print(f"the suite took {elapsed:.0f} s")


@app.command("train")
@data_options()
def train_cmd(
    name: Annotated[str, typer.Option("--name", help="registry name of the model, e.g. coupon")],
    source: DataSource,
    learner: Annotated[str, typer.Option("--learner", help="learner name (see evaluate)")] = "default",
    seed: Annotated[int, typer.Option("--seed", help="random_state of the learner")] = 0,
    tune: Annotated[bool, typer.Option("--tune", help="choose hyperparameters by cross-validated Qini on the "
                                                      "training rows first")] = False,
    tune_seconds: Annotated[float, typer.Option("--tune-seconds", help="time bound of the tuning")] = 60.0,
    arms: Annotated[bool, typer.Option("--arms", help="several treatments: one uplift model per value of "
                                                      "--treatment-col against --control-value")] = False,
    holdout: Annotated[float, typer.Option("--holdout", help="share held out to report metrics (0 = none)")] = 0.2,
) -> None:
    """Fit an encoder + learner pipeline and save it as the next version of ``--name`` in the registry."""
    from core.settings import Settings
    from features.catalog import configured_catalog
    from models.registry import ModelRegistry
    from models.uplift.learners import LEARNERS
    from models.uplift.training import train_pipeline

    if learner != "default" and learner not in LEARNERS:
        raise InvalidArgument(f"unknown learner {learner!r}; choose from {sorted(LEARNERS)} or default",
                              field="--learner")
    if tune and tune_seconds <= 0:
        raise InvalidArgument("--tune-seconds must be positive", field="--tune-seconds")
    registry_settings = Settings()
    registry = ModelRegistry.from_settings(registry_settings)
    registry.check_name(name, field="--name")
    if not 0.0 <= holdout < 1.0:
        raise InvalidArgument("--holdout must be in [0, 1)", field="--holdout")
    console = Console()
    if arms:
        _train_arms(console, registry, name, source, learner, seed, holdout)
        return
    with console.status("loading data"):
        ds = source.load()
    # A data set that names its catalog (the demo world's) is encoded with it; columns that are all
    # features of the configured catalog (MDS_CATALOG) are the team's own: encode with the catalog's
    # vocabularies so the model reads exactly what the online store serves.
    store_catalog = ds.catalog or configured_catalog(registry_settings)
    catalog = store_catalog if set(ds.frame.columns) <= set(store_catalog.features) else None
    with console.status(f"fitting {learner} on {len(ds.frame):,} rows" + (" (tuning first)" if tune else "")):
        trained = train_pipeline(ds, learner, seed=seed, holdout=holdout, catalog=catalog,
                                 tune_seconds=tune_seconds if tune else None)
    learner = trained.learner
    version = registry.save(name, trained.pipeline, kind=f"uplift/{learner}", catalog=catalog,
                            metrics=trained.metrics, notes={"dataset": ds.name, "rows": len(ds.frame)})
    _print_saved(console, name, version, f"{learner}, {len(trained.pipeline.features)} features", trained.metrics,
                 registry.root)


def _print_saved(console: Console, name: str, version: int, what: str, metrics: dict[str, float],
                 root: Path) -> None:
    """The registered version's holdout metrics (counts as integers) and where it was saved."""
    table = Table(title=f"{name} v{version} ({what})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, f"{int(value):,}" if float(value).is_integer() else f"{value:.4f}")
    console.print(table)
    console.print(f"saved {name} v{version} to {root}")


def _arms_frame(source: DataSource):
    """``(name, features frame, arm labels, outcome, treatment column, control)`` for several treatments."""
    import pandas as pd

    from core.paths import hillstrom_csv
    from models.uplift.evaluation import HILLSTROM_FEATURES, read_table

    source.check_one_source()
    dataset, data, outcome_col = source.dataset, source.data, source.outcome_col
    if dataset == "hillstrom":
        df = pd.read_csv(hillstrom_csv())
        treatment_col, control_value = "segment", source.control_value or "No E-Mail"
        outcome_col = outcome_col or "visit"
        cols = list(HILLSTROM_FEATURES)
        name = f"hillstrom_arms_{outcome_col}"
    elif dataset is not None:
        raise InvalidArgument(f"--dataset must be hillstrom for several treatments, not {dataset!r}",
                              field="--dataset")
    else:
        if data is None:
            raise InvalidArgument("give --dataset hillstrom or --data FILE", field="--data")
        df = read_table(data)
        source.require("--treatment-col", "--control-value", "--outcome-col")
        treatment_col, control_value = str(source.treatment_col), str(source.control_value)
        cols = split_list(source.features) or [c for c in df.columns if c not in (treatment_col, outcome_col)]
        name = data.stem
    for col, flag in ((treatment_col, "--treatment-col"), (outcome_col, "--outcome-col"),
                      *((c, "--features") for c in cols)):
        if col not in df.columns:
            raise InvalidArgument(f"column {col!r} ({flag}) is not in the data", field=flag)
    if df[outcome_col].isna().any():
        raise InvalidArgument(f"outcome column {outcome_col!r} has missing values", field="--outcome-col")
    outcome = pd.to_numeric(df[outcome_col], errors="coerce")
    if outcome.isna().any():
        raise InvalidArgument(f"outcome column {outcome_col!r} is not numeric", field="--outcome-col")
    return (name, df[cols], df[treatment_col].astype(str).to_numpy(), outcome.to_numpy(dtype=float),
            str(treatment_col), str(control_value))


def _train_arms(console: Console, registry, name: str, source: DataSource, learner: str, seed: int,
                holdout: float) -> None:
    from models.uplift.learners import DEFAULT_LEARNER
    from models.uplift.training import train_arms_pipeline

    data_name, frame, arm, y, column, control = _arms_frame(source)
    if learner == "default":
        learner = DEFAULT_LEARNER
    with console.status(f"fitting {learner} per arm on {len(frame):,} rows"):
        trained = train_arms_pipeline(frame, arm, y, control=control, learner=learner, seed=seed, holdout=holdout)
    version = registry.save(name, trained.pipeline, kind=f"uplift-arms/{learner}", metrics=trained.metrics,
                            notes={"dataset": data_name, "rows": len(frame), "arm_column": column,
                                   "control": control, "arms": trained.pipeline.arms})
    _print_saved(console, name, version, f"{learner} per arm: {', '.join(trained.pipeline.arms or [])}",
                 trained.metrics, registry.root)


@app.command("arms")
@data_options(include=("dataset", "data", "treatment_col", "control_value", "outcome_col", "features"))
def arms_cmd(
    source: DataSource,
    learner: Annotated[str, typer.Option("--learner", help="uplift learner fitted per arm")] = "default",
    seeds: Annotated[int, typer.Option("--seeds", help="stratified train/test splits")] = 3,
    test_size: Annotated[float, typer.Option("--test-size", help="test share of each split")] = 0.5,
    json_path: Annotated[Path | None, typer.Option("--json", help="where to write the JSON summary")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="policy-value PNG (default: beside --json)")] = None,
) -> None:
    """Several treatments: per-arm uplift metrics, each user's best arm (or none), and the value of
    choosing the arm per user against the best single arm (IPW on the test halves).

    ``--dataset hillstrom`` uses both e-mails against No E-Mail (``--outcome-col`` visit, conversion or spend).
    """
    from models.uplift import evaluate_arms
    from models.uplift.plots import plot_policy_values

    if seeds < 1:
        raise InvalidArgument("--seeds must be at least 1", field="--seeds")
    if not 0.0 < test_size < 1.0:
        raise InvalidArgument("--test-size must be in (0, 1)", field="--test-size")
    name, frame, arm, y, treatment_col, control_value = _arms_frame(source)
    console = Console()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task(f"{name}: fitting per-arm {learner}", total=seeds)
        report = evaluate_arms(frame, arm, y, control=control_value, learner=learner, seeds=seeds,
                               test_size=test_size, name=name, arm_field=treatment_col,
                               on_step=lambda _: progress.update(task, advance=1))
    summary: dict[str, Any] = report.to_json()
    table = Table(title=f"{name}: per-arm uplift vs {report.control!r} (mean ± std over {seeds} splits)")
    for col in ("arm", "qini_auc", "uplift_auc", "uplift_at_30", "chosen share"):
        table.add_column(col, justify="right")
    for a, stats in summary["per_arm"].items():
        share = summary["chosen_share"][a]
        table.add_row(a, *(f"{stats[m][0]:.4f} ± {stats[m][1]:.4f}" for m in ("qini_auc", "uplift_auc", "uplift_at_30")),
                      f"{share[0]:.3f}")
    console.print(table)
    policies = Table(title="policy value: mean outcome per user (IPW on the test halves)")
    policies.add_column("policy")
    policies.add_column("value", justify="right")
    for key, (mean, std) in summary["policy_value"].items():
        policies.add_row(key, f"{mean:.5f} ± {std:.5f}")
    console.print(policies)
    write_json(json_path, summary)
    png = plot or (json_path.with_suffix(".png") if json_path is not None else None)
    if png is not None:
        console.print(f"wrote {plot_policy_values(summary, png)}")


_uplift_score.register(app)
