"""Platform commands: ``mds serve``, ``mds seed``, ``mds features ...``."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import InvalidArgument
from core.settings import Settings
from services.cli._options import catalog_option
from services.cli._output import write_json

if TYPE_CHECKING:
    from services.server import MDSServer

__all__ = ["register"]

console = Console()
features_app = typer.Typer(help="The feature catalog and the Redis online store.", no_args_is_help=True)


def _settings(**overrides: object) -> Settings:
    return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})


def serve(
    services: Annotated[str, typer.Option(help="comma-separated services to host (default: all)")] = "",
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="gRPC port")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Prometheus /metrics port")] = None,
    seed_demo: Annotated[bool, typer.Option("--seed-demo", help="seed the demo world first if Redis lacks it")] = False,
    users: Annotated[int, typer.Option(help="demo users when seeding")] = 100_000,
) -> None:
    """Start the gRPC services (all of them on one port by default)."""
    from services.registry import SERVICES
    from services.server import MDSServer, serve_forever

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = _settings(host=host, port=port, metrics_port=metrics_port)
    names = [s.strip() for s in services.split(",") if s.strip()] or list(SERVICES)
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise InvalidArgument(f"--services: unknown {unknown}; choose from {', '.join(SERVICES)}", field="--services")
    if seed_demo:
        _ensure_demo(settings, users)
    server = MDSServer(settings, names)
    asyncio.run(serve_forever(server, on_started=lambda: _print_banner(server)))


def _ensure_demo(settings: Settings, users: int) -> None:
    from features.catalog import configured_catalog
    from features.demo_world import demo_seeded, is_demo_catalog, seed

    catalog = configured_catalog(settings)
    if not is_demo_catalog(catalog):  # demo users exist only for the demo catalog; the server serves this one
        raise InvalidArgument(f"--seed-demo seeds the demo world, whose users exist only for the demo catalog; "
                              f"the configured catalog (MDS_CATALOG) is {catalog.name!r}", field="--seed-demo")
    # Only a finished seed counts: a killed one left users in Redis but no completion marker.
    record = demo_seeded(settings, catalog)
    if record is not None:
        console.print(f"[green]demo world already in Redis[/] ({record['users']:,} users, catalog {catalog.fingerprint})")
    else:
        console.print(f"seeding the demo world: {users:,} users")
        seed(settings, users=users)
    from services.registry import demo_preparers

    for name, prepare in demo_preparers().items():
        console.print(f"preparing the demo {name} model")
        prepare(settings)


async def _print_banner(server: MDSServer) -> None:
    from services.registry import example_call

    address = server.address
    console.print(f"\n[bold green]MDS is serving on {address}[/] "
                  f"(metrics: http://{server.settings.host}:{server.metrics_port}/metrics)")
    data = await server.example_data()  # the served catalog's entity, real keys and models: no demo ids
    for name in server.services:
        example = example_call(name, data)
        if example:
            method, body = example
            console.print(f"  [bold]{name}[/]: grpcurl -plaintext -d '{body}' {address} {method}", soft_wrap=True)
    console.print("Stop with Ctrl-C (SIGTERM also shuts down gracefully).\n")


def seed_command(
    users: Annotated[int, typer.Option(min=1, help="number of synthetic users")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same world)")] = 0,
) -> None:
    """Generate the synthetic demo world, write its Parquet snapshot and load it into Redis."""
    from features.demo_world import seed as run_seed

    result = run_seed(_settings(), users=users, seed=seed)
    resumed = " (resumed a killed seed)" if result.resumed else ""
    console.print(f"wrote {result.users_path} and {result.truth_path}; loaded {result.loaded:,} users into Redis"
                  f"{resumed}")


@features_app.command("catalog")
def catalog_command(entity: Annotated[str, typer.Option(help="only this entity")] = "") -> None:
    """Print the configured feature catalog (MDS_CATALOG; default the demo catalog)."""
    from features.catalog import configured_catalog

    catalog = configured_catalog(_settings())
    table = Table(title=f"catalog {catalog.name} ({catalog.fingerprint})")
    for col in ("feature", "entity", "dtype", "group", "ttl", "domain"):
        table.add_column(col)
    for f in (catalog.features_of(entity) if entity else catalog.features.values()):
        domain = ", ".join(f.values) if f.values else (f"[{f.range[0]:g}, {f.range[1]:g}]" if f.range else "")
        table.add_row(f.name, f.entity, f.dtype.value, f.group, f"{f.ttl_seconds}s", domain[:60])
    console.print(table)


@features_app.command("load")
def load_command(
    input_path: Annotated[Path, typer.Option("--input", help="table to load: .parquet file or folder, or .csv")],
    key_col: Annotated[str | None, typer.Option("--key-col", help="the table's key column (default: the "
                                                "entity's key in the catalog, e.g. user_id)")] = None,
    entity: Annotated[str | None, typer.Option(help="entity of the rows (default: the catalog's user "
                                               "entity: 'user', or its only entity)")] = None,
    on_bad_row: Annotated[str, typer.Option("--on-bad-row", help="fail: load nothing if any row is bad; "
                                            "skip: load the good rows, list the bad ones in --rejected")] = "fail",
    rejected: Annotated[Path | None, typer.Option("--rejected", help="CSV of the rows a skip load left out "
                                                  "(default: <input>.rejected.csv beside the input)")] = None,
    ignore_columns: Annotated[str, typer.Option("--ignore-columns",
                                                help="comma-separated input columns to leave out")] = "",
    engine: Annotated[str, typer.Option(help="local, or spark (partitions in parallel)")] = "local",
    master: Annotated[str, typer.Option(help="Spark master for --engine spark")] = "local[2]",
    partition_mb: Annotated[float, typer.Option("--partition-mb", min=0.01,
                                                help="most Parquet bytes per Spark task (--engine spark)")] = 8.0,
    chunk_rows: Annotated[int, typer.Option(min=1, help="rows per checked and checkpointed chunk")] = 5_000,
) -> None:
    """Check a table against the catalog and bulk-load it into Redis (a re-run resumes a killed load)."""
    from features.catalog import configured_catalog
    from features.loader import BAD_ROW_POLICIES, ENGINES, batch_settings, bulk_load
    from features.population import population_entity
    from features.store import open_store

    if on_bad_row not in BAD_ROW_POLICIES:
        raise InvalidArgument(f"--on-bad-row: choose {' or '.join(BAD_ROW_POLICIES)}", field="--on-bad-row")
    if engine not in ENGINES:
        raise InvalidArgument(f"--engine: choose {' or '.join(ENGINES)}", field="--engine")
    if rejected is not None and on_bad_row != "skip":
        raise InvalidArgument("--rejected only applies with --on-bad-row skip", field="--rejected")
    if on_bad_row == "skip" and rejected is None:
        rejected = input_path.with_name(f"{input_path.stem}.rejected.csv")
    settings = batch_settings(_settings())
    spark_options = ({"master": master, "partition_bytes": int(partition_mb * 2**20)} if engine == "spark"
                     else {})
    catalog = configured_catalog(settings)
    result = bulk_load(open_store(settings, catalog), entity or population_entity(catalog), input_path,
                       chunk_rows=chunk_rows, key_column=key_col, on_bad_row=on_bad_row,  # type: ignore[arg-type]
                       rejected_path=rejected, ignore_columns=[c.strip() for c in ignore_columns.split(",") if c.strip()],
                       engine=engine, **spark_options)  # type: ignore[arg-type]
    if result.resumed and not result.written and not result.rejected:
        console.print("nothing to do: this table is already loaded")
        return
    console.print(f"loaded {result.written:,} rows into Redis in {result.seconds:.1f} s "
                  f"({result.rows_per_s:,.0f} rows/s, engine {result.engine})"
                  + (" — resumed after an interrupted run" if result.resumed else ""))
    if result.rejected:
        console.print(f"[yellow]{result.rejected:,} bad rows left out[/], listed in {result.rejected_path}")
        console.print(result.report.render(), highlight=False, markup=False)


@features_app.command("get")
def get_command(
    keys: Annotated[list[str], typer.Argument(help="entity keys")],
    features: Annotated[str, typer.Option(help="comma-separated features (default: all)")] = "",
    entity: Annotated[str | None, typer.Option(help="entity name (default: the catalog's user entity)")] = None,
) -> None:
    """Read features of some keys straight from Redis and print them as JSON."""
    from features.catalog import configured_catalog
    from features.population import population_entity
    from features.store import open_store

    names = [f for f in features.split(",") if f] or None
    settings = _settings()
    catalog = configured_catalog(settings)
    batch = open_store(settings, catalog).read(entity or population_entity(catalog), keys, names)
    rows = {k: (batch.row(i) if batch.found[i] else None) for i, k in enumerate(batch.keys)}
    console.print_json(json.dumps(rows, default=str))


@features_app.command("bench")
def bench_command(
    users: Annotated[int, typer.Option(min=100, help="users written for the benchmark")] = 10_000,
    features: Annotated[int, typer.Option(min=1, help="features per read")] = 40,
    batch: Annotated[int, typer.Option(min=1, help="users per read")] = 100,
    reads: Annotated[int, typer.Option(min=10, help="timed reads per layout")] = 2_000,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the results here")] = None,
    catalog_path: Annotated[Path | None, typer.Option(
        "--catalog", help="catalog YAML to benchmark (default: the configured MDS_CATALOG)")] = None,
    redis_mode: Annotated[str | None, typer.Option(
        "--redis-mode", help="single or cluster (MDS_REDIS_URL then names any cluster node); default MDS_REDIS_MODE")
    ] = None,
) -> None:
    """Time a batched read three ways on the same Redis: ours, the Feast-style hash layout, and the floor."""
    from features.bench import run_bench

    if redis_mode not in (None, "single", "cluster"):
        raise InvalidArgument(f"--redis-mode must be single or cluster; got {redis_mode!r}", field="--redis-mode")
    settings = _settings(redis_mode=redis_mode)
    catalog = catalog_option(catalog_path, settings)
    result = run_bench(settings, users=users, n_features=features, batch=batch, reads=reads, catalog=catalog)
    table = Table(title=f"catalog {catalog.name}: {batch} users x {features} features, {reads} reads each")
    for col in ("layout", "p50 ms", "p99 ms", "rows/s"):
        table.add_column(col, justify="right")
    for name in ("project", "feast_style", "packed_mget_floor"):
        r = result[name]
        table.add_row(name, f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}", f"{r['rows_per_s']:,.0f}")
    console.print(table)
    console.print(f"ours vs Feast-style: {result['ratio_vs_feast_style']:.2f}x faster (p50); "
                  f"ours / floor: {result['ratio_vs_floor']:.2f}x")
    write_json(json_path, result)


@features_app.command("bench-load")
def bench_load_command(
    users: Annotated[int, typer.Option(min=1, help="rows of the generated table")] = 1_000_000,
    features: Annotated[int, typer.Option(min=1, max=640, help="feature columns (every dtype)")] = 40,
    engine: Annotated[str, typer.Option(help="local or spark")] = "local",
    master: Annotated[str, typer.Option(help="Spark master for --engine spark")] = "local[2]",
    input_format: Annotated[str, typer.Option("--format", help="parquet or csv (local only)")] = "parquet",
    chunk_rows: Annotated[int, typer.Option(min=1, help="rows per chunk / Arrow batch")] = 5_000,
    on_bad_row: Annotated[str, typer.Option("--on-bad-row", help="fail (check all, then write) or skip "
                                            "(check as it writes)")] = "fail",
    json_path: Annotated[Path | None, typer.Option("--json", help="write the results here")] = None,
) -> None:
    """Time a checked bulk load of a generated table into Redis: rows/s, local or Spark."""
    from features.load_bench import run_load_bench

    result = run_load_bench(_settings(), users=users, n_features=features, engine=engine, master=master,
                            input_format=input_format, chunk_rows=chunk_rows, on_bad_row=on_bad_row)
    table = Table(title=f"load of {users:,} users x {features} features "
                        f"({input_format}, engine {engine}, --on-bad-row {on_bad_row})")
    for col in ("load s", "of it checking s", "rows/s", "rows/CPU-s", "input MB", "spark start s"):
        table.add_column(col, justify="right")
    start = result.get("spark_session_start_s")
    table.add_row(f"{result['load_s']:.1f}", f"{result['check_s']:.1f}", f"{result['rows_per_s']:,.0f}",
                  f"{result['rows_per_cpu_s']:,.0f}", f"{result['input_mb']:.0f}",
                  f"{start:.1f}" if start is not None else "-")
    console.print(f"load average {result['load_average']:.1f} on {result['cpus']} CPUs while measuring")
    console.print(table)
    write_json(json_path, result)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("seed")(seed_command)
    app.add_typer(features_app, name="features")
