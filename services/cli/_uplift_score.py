"""The serving half of the uplift CLI: ``mds uplift score``, ``bench-serve``, ``models`` and ``reload``.

Mounted by ``services/cli/uplift.py`` with one line: ``_uplift_score.register(app)`` (adds these
commands to the ``uplift`` group).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import InvalidArgument
from core.figures import save_figure
from core.settings import Settings
from services.cli._output import write_json

__all__ = ["bench_serve", "models", "register", "reload", "score"]

console = Console()


def score(
    model: Annotated[str, typer.Option("--model", help="registered model name, e.g. coupon")],
    input_path: Annotated[Path, typer.Option("--input", help="Parquet file of users: an id column plus the model's features")],
    output: Annotated[Path, typer.Option("--output", help="Parquet output (id, uplift); a directory with --engine spark")],
    version: Annotated[int, typer.Option("--version", min=0, help="model version (0 = latest)")] = 0,
    engine: Annotated[str, typer.Option("--engine", help="local (streaming) or spark (mapInPandas)")] = "local",
    batch_rows: Annotated[int, typer.Option("--batch-rows", help="rows per streamed batch / Arrow batch")] = 50_000,
    id_column: Annotated[str | None, typer.Option("--id-column", help="the id column copied to the output "
                                                  "(default: the catalog's user key, e.g. user_id)")] = None,
    spark_master: Annotated[str, typer.Option("--spark-master", help="Spark master for --engine spark")] = "local[2]",
    bench: Annotated[bool, typer.Option("--bench", help="also time the model's bare predict on the first batch")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the run's numbers here")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG of rows/s (with --bench: next to bare predict)")] = None,
) -> None:
    """Score a Parquet file of users with a registered uplift model, in bounded memory.

    The output appears only when the whole job succeeded (written to a hidden .partial first).
    """
    from features.catalog import configured_catalog
    from features.population import population_entity
    from models.registry import ModelRegistry
    from models.uplift.scoring import predict_throughput, score_parquet, score_parquet_spark

    if engine not in ("local", "spark"):
        raise InvalidArgument(f"--engine must be local or spark, not {engine!r}", field="--engine")
    if batch_rows <= 0:
        raise InvalidArgument("--batch-rows must be positive", field="--batch-rows")
    settings = Settings()
    registry = ModelRegistry.from_settings(settings)
    # The deployment's catalog: the one the online store and the servers use.
    catalog = configured_catalog(settings)
    id_column = id_column or catalog.entity(population_entity(catalog)).key
    registry.check_name(model, field="--model")
    # A model trained on catalog features is checked against the running catalog; one trained on a
    # plain file (e.g. Hillstrom, no fingerprint) only needs its columns in the input.
    check_against = catalog if registry.manifest(model, version or None).catalog_fingerprint else None
    if engine == "local":
        loaded = registry.load(model, version or None, catalog=check_against)
        manifest = loaded.manifest
        result = score_parquet(loaded.model, input_path, output, id_column=id_column, batch_rows=batch_rows,
                               metadata={"mds.model": manifest.name, "mds.model_version": str(manifest.version)})
    else:
        manifest, payload = registry.payload(model, version or None)
        if check_against is not None:
            registry.check_compatible(manifest, check_against)
        result = score_parquet_spark(payload, manifest.payload_sha256, manifest.features, input_path, output,
                                     id_column=id_column, master=spark_master, batch_rows=batch_rows,
                                     progress=True)
        loaded = None
    report: dict[str, object] = {"model": manifest.name, "version": manifest.version, **result.to_dict()}
    table = Table(title=f"{manifest.name} v{manifest.version} → {output}")
    for col in ("what", "rows", "seconds", "rows/s"):
        table.add_column(col, justify="right")
    table.add_row(f"{result.engine} scoring (read + predict + write)", f"{result.rows:,}",
                  f"{result.seconds:.2f}", f"{result.rows_per_s:,.0f}")
    if result.predict_seconds > 0:
        table.add_row("  of which model.predict", f"{result.rows:,}", f"{result.predict_seconds:.2f}",
                      f"{result.rows / result.predict_seconds:,.0f}")
    if bench:
        if loaded is None:
            loaded = registry.load(model, manifest.version, catalog=check_against)
        bare = predict_throughput(loaded.model, input_path, id_column=id_column,
                                  rows=min(batch_rows, max(result.rows, 1)))
        report["bare_predict"] = bare
        report["scoring_vs_bare_predict"] = result.rows_per_s / bare["rows_per_s"]
        table.add_row("bare model.predict (in memory)", f"{int(bare['rows']):,}", f"{bare['seconds']:.2f}",
                      f"{bare['rows_per_s']:,.0f}")
    import resource

    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    report["input_mb"] = input_path.stat().st_size / 2**20
    console.print(table)
    console.print(f"peak memory {report['peak_rss_mb']:.0f} MiB for a {report['input_mb']:.0f} MiB input")
    if plot is not None:
        console.print(f"wrote {_throughput_plot(report, plot)}")
    write_json(json_path, report)


def _throughput_plot(report: dict[str, object], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = {f"{report['engine']} score\n(read+predict+write)": float(report["rows_per_s"])}  # type: ignore[arg-type]
    predict_seconds = float(report.get("predict_seconds") or 0.0)  # type: ignore[arg-type]
    if predict_seconds > 0:
        bars["model.predict\ninside the run"] = float(report["rows"]) / predict_seconds  # type: ignore[arg-type]
    bare = report.get("bare_predict")
    if isinstance(bare, dict):
        bars["bare model.predict\n(in memory)"] = float(bare["rows_per_s"])
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.bar(list(bars), list(bars.values()), color=["tab:blue", "tab:cyan", "tab:gray"][: len(bars)])
    for i, v in enumerate(bars.values()):
        ax.text(i, v, f"{v:,.0f}", ha="center", va="bottom")
    ax.set_ylim(0, max(bars.values()) * 1.15)
    ax.set_ylabel("rows / second")
    ax.set_title(f"{report['model']} v{report['version']}: {int(report['rows']):,} rows")  # type: ignore[call-overload]
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def bench_serve(
    model: Annotated[str, typer.Option("--model", help="registered model (coupon is trained if absent)")] = "coupon",
    users: Annotated[int, typer.Option("--users", min=1000, help="population seeded into a throw-away namespace")] = 10_000,
    batch: Annotated[int, typer.Option("--batch", min=1, help="user ids per Score request")] = 100,
    requests: Annotated[int, typer.Option("--requests", min=10, help="timed Score requests")] = 2_000,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="untimed requests first")] = 200,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the results here")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG of the latency distribution")] = None,
    compare_code: Annotated[Path | None, typer.Option(
        "--compare-code", help="another version's source tree (a checkout, or `git archive REV | tar -x`): "
                               "serve the model from it too, alternating every request between the two")] = None,
) -> None:
    """Latency of UpliftService over real gRPC: a server process, a seeded population, p50/p99."""
    from services.uplift.bench import latency_plot, run_serve_bench

    if compare_code is not None and not (compare_code / "services" / "cli" / "__main__.py").is_file():
        raise InvalidArgument(f"--compare-code: {compare_code} is not an MDS source tree (no services/cli)",
                              field="--compare-code")
    result = run_serve_bench(Settings(), model=model, users=users, batch=batch, requests=requests, warmup=warmup,
                             compare_code=compare_code.resolve() if compare_code is not None else None)
    table = Table(title=f"UpliftService, {batch} users/request, model {result['model']} v{result['version']}")
    for col in ("what", "p50 ms", "p90 ms", "p99 ms", "mean ms"):
        table.add_column(col, justify="right")
    stages = result["stages_in_process"]
    rows = [("Score (gRPC)", result["score"]), ("SelectTop (gRPC)", result["select_top"]),
            *((f"  {name.replace('_', ' ')} (in-process)", stages[name]) for name in ("redis_read", "encode", "predict"))]
    compared = result.get("compared")
    if compared is not None:
        rows += [(f"Score (gRPC), {compared['code']}", compared["score"]),
                 (f"SelectTop (gRPC), {compared['code']}", compared["select_top"])]
    for name, s in rows:
        table.add_row(name, f"{s['p50_ms']:.2f}", f"{s['p90_ms']:.2f}", f"{s['p99_ms']:.2f}", f"{s['mean_ms']:.2f}")
    console.print(table)
    if compared is not None:
        console.print(f"server CPU per Score request, {compared['code']}: "
                      f"{compared['server_cpu_ms_per_score_request']:.2f} ms (requests alternated between the two)")
    cpu = stages["cpu_ms_per_request"]
    console.print("in-process CPU per request: " + ", ".join(f"{k.replace('_', ' ')} {v:.2f} ms" for k, v in cpu.items()))
    console.print(f"server CPU per Score request: {result['server_cpu_ms_per_score_request']:.2f} ms; "
                  f"machine load average during the run: {result['load_average_1m']['before']:.1f} → "
                  f"{result['load_average_1m']['after']:.1f} on {result['cpu_count']} CPUs")
    verdict = "meets" if result["score"]["p99_ms"] < 15 else "misses"
    console.print(f"Score p99 {result['score']['p99_ms']:.2f} ms {verdict} the 15 ms target "
                  f"({result['cpu_count']} CPUs)")
    if plot is not None:
        console.print(f"wrote {latency_plot(result, plot)}")
    if compared is not None:
        compared.pop("score_latencies_ms")
    write_json(json_path, {k: v for k, v in result.items() if k != "score_latencies_ms"})


def _address(address: str | None) -> str:
    settings = Settings()
    return address or f"{settings.host}:{settings.port}"


def models(
    address: Annotated[str | None, typer.Option("--address", help="server host:port (default: MDS_HOST:MDS_PORT)")] = None,
    token: Annotated[str | None, typer.Option("--token", help="bearer token when the server requires one")] = None,
) -> None:
    """List the models a running server can serve: versions, the serving one, why a version was refused."""
    from services.client import MDSClient

    with MDSClient(_address(address), token=token) as client:
        listed = client.uplift.list_models().models
    table = Table(title=f"uplift models at {_address(address)}")
    for col in ("model", "versions", "serving", "last error"):
        table.add_column(col)
    for m in listed:
        table.add_row(m.name, ", ".join(map(str, m.versions)), str(m.serving_version or "not loaded"), m.last_error)
    console.print(table)


def reload(
    name: Annotated[str, typer.Option("--name", help="model name, e.g. coupon")],
    version: Annotated[int, typer.Option("--version", min=0, help="version to serve (0 = newest)")] = 0,
    address: Annotated[str | None, typer.Option("--address", help="server host:port (default: MDS_HOST:MDS_PORT)")] = None,
    token: Annotated[str | None, typer.Option("--token", help="bearer token when the server requires one")] = None,
) -> None:
    """Make a running server serve a model version; a bad artifact is refused and the old one keeps serving."""
    import grpc

    from services.client import MDSClient

    with MDSClient(_address(address), token=token) as client:
        try:
            outcome = client.uplift.reload(name, version)
        except grpc.RpcError as exc:
            console.print(f"[bold red]refused:[/] {exc.details()}")
            raise typer.Exit(1) from None
    console.print(f"{name}: serving version {outcome.serving_version} (was {outcome.previous_version or 'none'})")


def register(app: typer.Typer) -> None:
    """Add ``score``, ``bench-serve``, ``models`` and ``reload`` to the ``mds uplift`` group."""
    app.command("score")(score)
    app.command("bench-serve")(bench_serve)
    app.command("models")(models)
    app.command("reload")(reload)
