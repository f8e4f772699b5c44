"""``mds uplift``: evaluate uplift learners side by side, train and register a model, score files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import InvalidArgument
from services.cli import _uplift_score

__all__ = ["app"]

app = typer.Typer(help="Uplift models: evaluate learners, train and register models, batch scoring.",
                  no_args_is_help=True)

_METRICS = ("qini_auc", "uplift_auc", "uplift_at_30", "fit_seconds")
_TRUTH_METRICS = ("spearman", "pehe")


def _split_list(raw: str | None) -> list[str]:
    return [v.strip() for v in (raw or "").split(",") if v.strip()]


def _load_dataset(dataset: str | None, data: Path | None, treatment_col: str | None, treatment_value: str | None,
                  control_value: str | None, outcome_col: str | None, features: str | None, demo_users: int,
                  demo_seed: int):
    """The data set named by ``--dataset`` or described by ``--data`` and the column flags."""
    from models.uplift.evaluation import demo_dataset, file_dataset, hillstrom_dataset

    if dataset is not None and data is not None:
        raise InvalidArgument("give either --dataset or --data, not both", field="--dataset")
    if dataset is not None:
        if dataset == "hillstrom":
            return hillstrom_dataset()
        if dataset == "demo":
            return demo_dataset(demo_users, demo_seed)
        raise InvalidArgument(f"--dataset must be hillstrom or demo, not {dataset!r}", field="--dataset")
    if data is None:
        raise InvalidArgument("give --dataset hillstrom|demo or --data FILE", field="--data")
    for value, flag in ((treatment_col, "--treatment-col"), (treatment_value, "--treatment-value"),
                        (control_value, "--control-value"), (outcome_col, "--outcome-col")):
        if value is None:
            raise InvalidArgument(f"{flag} is required with --data", field=flag)
    return file_dataset(data, treatment_col=str(treatment_col), treatment_value=str(treatment_value),
                        control_value=str(control_value), outcome_col=str(outcome_col),
                        features=_split_list(features) or None)


DatasetOpt = Annotated[str | None, typer.Option("--dataset", help="preset: hillstrom or demo")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="CSV or Parquet file, one row per user")]
TreatmentColOpt = Annotated[str | None, typer.Option("--treatment-col", help="column holding the arm")]
TreatmentValueOpt = Annotated[str | None, typer.Option("--treatment-value", help="value marking treated rows")]
ControlValueOpt = Annotated[str | None, typer.Option("--control-value", help="value marking control rows")]
OutcomeOpt = Annotated[str | None, typer.Option("--outcome-col", help="binary 0/1 outcome column")]
FeaturesOpt = Annotated[str | None, typer.Option("--features", help="comma-separated feature columns (default: all others)")]
DemoUsersOpt = Annotated[int, typer.Option("--demo-users", help="population size of --dataset demo")]
DemoSeedOpt = Annotated[int, typer.Option("--demo-seed", help="population seed of --dataset demo")]


@app.command("evaluate")
def evaluate_cmd(
    dataset: DatasetOpt = None,
    data: DataOpt = None,
    treatment_col: TreatmentColOpt = None,
    treatment_value: TreatmentValueOpt = None,
    control_value: ControlValueOpt = None,
    outcome_col: OutcomeOpt = None,
    features: FeaturesOpt = None,
    seeds: Annotated[int, typer.Option("--seeds", help="stratified train/test splits")] = 5,
    test_size: Annotated[float, typer.Option("--test-size", help="test share of each split")] = 0.5,
    learners: Annotated[str | None, typer.Option("--learners", help="comma-separated learner names (default all)")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="where to write the JSON summary")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Qini-curve PNG (default: beside --json)")] = None,
    demo_users: DemoUsersOpt = 20_000,
    demo_seed: DemoSeedOpt = 0,
) -> None:
    """Fit every learner on the same stratified splits; print and save mean ± std of each metric."""
    from models.uplift.evaluation import evaluate_learners
    from models.uplift.learners import LEARNERS
    from models.uplift.plots import plot_qini_curves

    names = _split_list(learners) or list(LEARNERS)
    unknown = [n for n in names if n not in LEARNERS]
    if unknown:
        raise InvalidArgument(f"unknown learner {unknown[0]!r}; choose from {sorted(LEARNERS)}", field="--learners")
    if seeds < 1:
        raise InvalidArgument("--seeds must be at least 1", field="--seeds")
    if not 0.0 < test_size < 1.0:
        raise InvalidArgument("--test-size must be in (0, 1)", field="--test-size")
    console = Console()
    with console.status("loading data"):
        ds = _load_dataset(dataset, data, treatment_col, treatment_value, control_value, outcome_col, features,
                           demo_users, demo_seed)
    console.print(f"[bold]{ds.name}[/]: {len(ds.frame):,} rows, {ds.frame.shape[1]} feature columns, "
                  f"treated share {ds.treatment.mean():.3f}, outcome rate {ds.outcome.mean():.4f}")
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[step]}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("fitting", total=seeds * len(names), step="")
        report = evaluate_learners(
            ds, names, seeds=seeds, test_size=test_size,
            on_step=lambda name, seed: progress.update(task, advance=1, step=f"{name} (split {seed + 1})"),
        )
    truth = ds.true_uplift is not None
    table = Table(title=f"{ds.name}: mean ± std over {seeds} splits (test size {test_size})")
    table.add_column("learner")
    metrics = _METRICS + (_TRUTH_METRICS if truth else ())
    for m in metrics:
        table.add_column(m, justify="right")
    summary = report.to_json()
    for name, result in report.learners.items():
        stats = result.summary()
        table.add_row(name, *(f"{stats[m][0]:.4f} ± {stats[m][1]:.4f}" for m in metrics))
    console.print(table)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(summary, indent=2))
        console.print(f"wrote {json_path}")
    png = plot or (json_path.with_suffix(".png") if json_path is not None else None)
    if png is not None:
        console.print(f"wrote {plot_qini_curves(report, png)}")


@app.command("train")
def train_cmd(
    name: Annotated[str, typer.Option("--name", help="registry name of the model, e.g. coupon")],
    dataset: DatasetOpt = None,
    data: DataOpt = None,
    treatment_col: TreatmentColOpt = None,
    treatment_value: TreatmentValueOpt = None,
    control_value: ControlValueOpt = None,
    outcome_col: OutcomeOpt = None,
    features: FeaturesOpt = None,
    learner: Annotated[str, typer.Option("--learner", help="learner name (see evaluate)")] = "bag_regularized",
    seed: Annotated[int, typer.Option("--seed", help="random_state of the learner")] = 0,
    holdout: Annotated[float, typer.Option("--holdout", help="share held out to report metrics (0 = none)")] = 0.2,
    demo_users: DemoUsersOpt = 20_000,
    demo_seed: DemoSeedOpt = 0,
) -> None:
    """Fit an encoder + learner pipeline and save it as the next version of ``--name`` in the registry."""
    from core.settings import Settings
    from features.catalog import demo_catalog
    from models.registry import ModelRegistry
    from models.uplift.learners import LEARNERS
    from models.uplift.training import train_pipeline

    if learner not in LEARNERS:
        raise InvalidArgument(f"unknown learner {learner!r}; choose from {sorted(LEARNERS)}", field="--learner")
    registry = ModelRegistry.from_settings(Settings())
    registry.check_name(name, field="--name")
    if not 0.0 <= holdout < 1.0:
        raise InvalidArgument("--holdout must be in [0, 1)", field="--holdout")
    console = Console()
    with console.status("loading data"):
        ds = _load_dataset(dataset, data, treatment_col, treatment_value, control_value, outcome_col, features,
                           demo_users, demo_seed)
    # The demo world's columns are catalog features: encode with the catalog's vocabularies so the
    # model reads exactly what the online store serves.
    catalog = demo_catalog() if ds.name == "demo" else None
    with console.status(f"fitting {learner} on {len(ds.frame):,} rows"):
        trained = train_pipeline(ds, learner, seed=seed, holdout=holdout, catalog=catalog)
    version = registry.save(name, trained.pipeline, kind=f"uplift/{learner}", catalog=catalog,
                            metrics=trained.metrics, notes={"dataset": ds.name, "rows": len(ds.frame)})
    table = Table(title=f"{name} v{version} ({learner}, {len(trained.pipeline.features)} features)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in trained.metrics.items():
        table.add_row(key, f"{int(value):,}" if float(value).is_integer() else f"{value:.4f}")
    console.print(table)
    console.print(f"saved {name} v{version} to {registry.root}")


_uplift_score.register(app)
