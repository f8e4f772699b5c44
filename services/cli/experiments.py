"""``mds experiments``: analyze an A/B test from a CSV or Parquet file of any size."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import InvalidArgument
from services.cli._output import write_json

if TYPE_CHECKING:
    from models.experiments import ExperimentResult

__all__ = ["app"]

app = typer.Typer(help="A/B experiment analysis: lifts, CUPED, SRM, sequential and Bayesian read-outs.",
                  no_args_is_help=True)


def _split_list(raw: str | None) -> list[str]:
    return [v.strip() for v in (raw or "").split(",") if v.strip()]


def _parse_split(raw: str | None) -> dict[str, float] | None:
    if not raw:
        return None
    out: dict[str, float] = {}
    for part in _split_list(raw):
        arm, sep, weight = part.rpartition("=")
        try:
            out[arm] = float(weight)
        except ValueError:
            sep = ""
        if not sep or not arm:
            raise InvalidArgument(f"--split entry {part!r} must look like ARM=WEIGHT", field="--split")
    return out


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "—"
    return f"{100 * x:+.2f}%" if pct else f"{x:.4g}"


def _p(x: float) -> str:
    return "<1e-4" if x < 1e-4 else f"{x:.4f}"


def _print_report(console: Console, result: ExperimentResult, rows: int) -> None:
    arms = Table(title=f"Arms ({rows:,} rows)", show_lines=False)
    arms.add_column("arm")
    arms.add_column("users", justify="right")
    for m in result.metrics:
        arms.add_column(m, justify="right")
    for arm in [result.control, *result.treatments]:
        label = f"{arm} (control)" if arm == result.control else arm
        arms.add_row(label, f"{result.counts[arm]:,}", *(f"{result.means[arm][m]:.5g}" for m in result.metrics))
    console.print(arms)
    alpha = result.settings.alpha
    lifts = Table(title=f"Lift vs {result.control} (Welch/z, {1 - alpha:.0%} CI)")
    for col in ("arm", "metric", "lift", "CI", "p", "relative", "relative CI"):
        lifts.add_column(col, justify="left" if col in {"arm", "metric"} else "right")
    extra = Table(title="CUPED, multiple testing, always-valid and Bayesian (relative-lift) read-outs")
    for col in ("arm", "metric", "CUPED lift", "CUPED CI", "var. red.", "p Holm", "q BH", "always-valid CI",
                "P(beat)"):
        extra.add_column(col, justify="left" if col in {"arm", "metric"} else "right")
    for c in result.comparisons:
        a = c.absolute
        better = a.estimate < 0 if c.metric in result.settings.lower_is_better else a.estimate > 0
        style = ("green" if better else "red") if c.p_holm < alpha else None
        lifts.add_row(
            c.arm, c.metric, _fmt(a.estimate), f"[{_fmt(a.ci_low)}, {_fmt(a.ci_high)}]", _p(a.p_value),
            _fmt(c.relative.estimate if c.relative else None, pct=True),
            f"[{_fmt(c.relative.ci_low, True)}, {_fmt(c.relative.ci_high, True)}]" if c.relative else "—",
            style=style)
        extra.add_row(
            c.arm, c.metric, _fmt(c.cuped.estimate if c.cuped else None),
            f"[{_fmt(c.cuped.ci_low)}, {_fmt(c.cuped.ci_high)}]" if c.cuped else "—",
            f"{100 * c.variance_reduction:.2f}%" if c.variance_reduction is not None else "—",
            _p(c.p_holm), _p(c.p_bh), f"[{_fmt(c.sequential_ci[0])}, {_fmt(c.sequential_ci[1])}]",
            f"{100 * c.chance_to_beat_control:.1f}%", style=style)
    console.print(lifts)
    console.print(extra)
    srm = result.srm
    verdict = "[green]OK[/]" if srm.ok else "[bold red]MISMATCH — do not trust the lifts[/]"
    console.print(f"Sample ratio check: chi2={srm.chi2:.3f}, p={srm.p_value:.4g}, largest share deviation "
                  f"{100 * srm.max_relative_deviation:.2f}% → {verdict}")


def _segment_table(arm: str, segments: str, by_metric: dict[str, Any]) -> Table:
    table = Table(title=f"{arm}: effect per {segments}")
    for col in ("metric", segments, "users", "ATE", "95% CI", "p"):
        table.add_column(col, justify="right" if col in {"users", "ATE", "95% CI", "p"} else "left")
    for m, effects in by_metric.items():
        for e in effects:
            table.add_row(m, e.segment, f"{e.count:,}", _fmt(e.ate), f"[{_fmt(e.ci_low)}, {_fmt(e.ci_high)}]",
                          _p(e.p_value))
    return table


def _policy_table(policy: dict[str, Any]) -> Table:
    table = Table(title=f"Policy value: {policy['metric']} per user if only the selected users got {policy['arm']!r}")
    for col in ("policy", "treated", "value", "95% CI", "gain vs none", "gain 95% CI"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for v in policy["values"]:
        table.add_row(v.policy, f"{100 * v.treated_share:.0f}%", _fmt(v.value), f"[{_fmt(v.ci_low)}, {_fmt(v.ci_high)}]",
                      _fmt(v.gain), f"[{_fmt(v.gain_ci_low)}, {_fmt(v.gain_ci_high)}]")
    return table


@app.command("analyze")
def analyze_cmd(
    data: Annotated[Path, typer.Option("--data", help="CSV or Parquet file, one row per user")],
    arm_col: Annotated[str, typer.Option("--arm-col", help="column holding each user's arm")],
    control: Annotated[str, typer.Option("--control", help="value of --arm-col that marks the control arm")],
    metrics: Annotated[str, typer.Option("--metrics", help="comma-separated metric columns; NUM/DEN for ratios")],
    json_path: Annotated[Path, typer.Option("--json", help="where to write the JSON report")],
    covariate: Annotated[str | None, typer.Option("--covariate", help="pre-period column for CUPED")] = None,
    segments: Annotated[str | None, typer.Option("--segments", help="column to break effects down by")] = None,
    treatments: Annotated[str | None, typer.Option("--treatments", help="comma-separated arms (default all)")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG of lifts (default: beside --json)")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="two-sided level")] = 0.05,
    test: Annotated[str, typer.Option("--test", help="welch or z")] = "welch",
    split: Annotated[str | None, typer.Option("--split", help="designed split, e.g. 'A=1,B=1,C=2'")] = None,
    prior_sd: Annotated[float | None, typer.Option("--prior-sd", help="sd of a normal prior on the relative lift "
                                                   "(e.g. 0.3); default flat")] = None,
    lower_is_better: Annotated[str | None, typer.Option("--lower-is-better",
                                                        help="comma-separated metrics where lower wins")] = None,
    policy_score: Annotated[str | None, typer.Option("--policy-score", help="score column of a targeting policy")] = None,
    policy_arm: Annotated[str | None, typer.Option("--policy-arm", help="arm the policy would send")] = None,
    policy_top: Annotated[float, typer.Option("--policy-top", help="share of users the policy treats")] = 0.3,
    policy_metric: Annotated[str | None, typer.Option("--policy-metric", help="outcome of the policy value "
                                                      "(default: the first metric)")] = None,
    batch_rows: Annotated[int, typer.Option("--batch-rows", help="rows per streamed batch")] = 250_000,
) -> None:
    """Analyze an experiment: every treatment arm against control on every metric."""
    # Imported here so `mds --help` and the other command groups do not pay for scipy/pandas.
    from pydantic import ValidationError

    from models.experiments import (
        AnalysisSettings,
        analyze,
        parse_metrics,
        plot_lifts,
        policy_values,
        report_json,
        score_quantile,
        segment_effects_from_stats,
        summarize_file,
    )

    console = Console()
    plain, ratios = parse_metrics(_split_list(metrics))
    unknown = [m for m in _split_list(lower_is_better) if m not in plain and m not in ratios]
    if unknown:
        raise InvalidArgument(f"--lower-is-better names metric(s) not in --metrics: {', '.join(unknown)}",
                              field="--lower-is-better")
    try:
        settings = AnalysisSettings.model_validate({
            "alpha": alpha, "test": test, "designed_split": _parse_split(split), "prior_sd": prior_sd,
            "lower_is_better": frozenset(_split_list(lower_is_better))})
    except ValidationError as exc:
        loc = str(exc.errors()[0]["loc"][0]) if exc.errors() else "settings"
        flag = {"designed_split": "--split"}.get(loc, "--" + loc.replace("_", "-"))
        raise InvalidArgument(f"{flag}: {exc.errors()[0]['msg']}", field=flag) from exc
    if not 0 < policy_top <= 1:
        raise InvalidArgument("--policy-top must lie in (0, 1]", field="--policy-top")
    threshold = score_quantile(data, policy_score, policy_top) if policy_score else None
    with Progress(TextColumn("[bold]reading {task.fields[name]}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("read", total=None, name=data.name)
        summary = summarize_file(data, arm_col, plain, covariate, ratios, segments, policy_score, threshold,
                                 batch_rows=batch_rows, on_batch=lambda n: progress.advance(task, n))
    try:
        result = analyze(summary.stats, control, settings, _split_list(treatments) or None)
    except InvalidArgument as exc:  # the library names its arguments; the CLI names its flags
        flags = {"control": "--control", "treatments": "--treatments", "arm": "--arm-col", "designed_split": "--split"}
        flag = flags.get(exc.field or "", "--metrics")
        raise InvalidArgument(exc.message, field=flag) from exc
    seg_out = {}
    if segments:
        try:
            seg_out = {arm: {m: segment_effects_from_stats(summary.by_segment, control, arm, m, alpha, settings.test,
                                                           field=segments) for m in plain}
                       for arm in result.treatments}
        except InvalidArgument as exc:
            raise InvalidArgument(exc.message, field="--segments") from exc
    policy_out = None
    if policy_score:
        arm = policy_arm or result.treatments[0]
        if arm not in result.treatments:
            raise InvalidArgument(f"--policy-arm {arm!r} is not a treatment arm of this analysis", field="--policy-arm")
        metric = policy_metric or (plain[0] if plain else "")
        if metric not in plain:
            raise InvalidArgument(f"--policy-metric {metric!r} must be one of the plain --metrics ({', '.join(plain)})",
                                  field="--policy-metric")
        values = policy_values(summary.by_selection, control, arm, metric, alpha,
                               name=f"treat top {policy_top:.0%} by {policy_score}")
        policy_out = {"score": policy_score, "arm": arm, "metric": metric, "top_fraction": policy_top,
                      "threshold": threshold, "values": values}

    # Everything is computed before anything is printed: a bad flag fails with no half-written report.
    _print_report(console, result, summary.rows)
    for arm, by_metric in seg_out.items():
        console.print(_segment_table(arm, segments or "", by_metric))
    if policy_out is not None:
        console.print(_policy_table(policy_out))
    report = report_json(result, seg_out, policy_out)
    report["rows"] = summary.rows
    report["data"] = str(data)
    write_json(json_path, report)
    png = plot_lifts(result, plot or json_path.with_suffix(".png"), title=f"{data.name}: lift vs {control}")
    console.print(f"wrote {png}")


@app.command("bench")
def bench_cmd(
    rows: Annotated[int, typer.Option("--rows", help="synthetic users to write and analyze")] = 5_000_000,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    json_path: Annotated[Path, typer.Option("--json", help="where to write the timings")] = Path(
        "var/bench/experiments.json"),
    workdir: Annotated[Path, typer.Option("--workdir", help="where the synthetic file is written")] = Path("var/bench"),
    batch_rows: Annotated[int, typer.Option("--batch-rows", help="rows per streamed batch")] = 250_000,
    keep: Annotated[bool, typer.Option("--keep/--no-keep", help="keep the synthetic file")] = False,
) -> None:
    """Time one streamed pass (summaries + segments) and the analysis on a synthetic file of --rows users."""
    import resource
    import time

    from models.experiments import analyze, summarize_file, write_synthetic

    if rows < 100:
        raise InvalidArgument("--rows must be at least 100", field="--rows")
    if fmt not in {"parquet", "csv"}:
        raise InvalidArgument("--format must be parquet or csv", field="--format")
    console = Console()
    path = workdir / f"experiments_bench_{rows}.{fmt}"
    t0 = time.perf_counter()
    with console.status(f"writing {rows:,} synthetic users to {path}"):
        write_synthetic(path, rows)
    write_s = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    with Progress(TextColumn("[bold]streaming"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} rows"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("read", total=rows)
        summary = summarize_file(path, "arm", ["visit", "spend"], "pre_spend", {"spend/visit": ("spend", "visit")},
                                 segment_col="region", batch_rows=batch_rows,
                                 on_batch=lambda n: progress.advance(task, n))
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = analyze(summary.stats, "control")
    analyze_s = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    file_mib = path.stat().st_size / 2**20
    out = {"rows": rows, "format": fmt, "file_mib": round(file_mib, 1), "batch_rows": batch_rows,
           "write_s": round(write_s, 3), "stream_summarize_s": round(read_s, 3), "analyze_s": round(analyze_s, 4),
           "rows_per_s": round(rows / read_s), "peak_rss_mib_before_read": round(rss_before, 1),
           "peak_rss_mib": round(peak_mib, 1),
           "email_visit_lift": result.comparison("email", "visit").absolute.estimate}
    table = Table(title=f"experiments bench: {rows:,} rows, {fmt}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in out.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
    if not keep:
        path.unlink()
    write_json(json_path, out)
