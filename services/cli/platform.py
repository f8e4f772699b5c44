"""Platform commands: ``mds serve``, ``mds seed``, ``mds features ...``."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import InvalidArgument
from core.settings import Settings

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
    from features.catalog import demo_catalog
    from features.demo_world import demo_seeded, seed

    catalog = demo_catalog()
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


def _print_banner(server: object) -> None:
    from services.registry import example_call

    address = server.address  # type: ignore[attr-defined]
    console.print(f"\n[bold green]MDS is serving on {address}[/] "
                  f"(metrics: http://{server.settings.host}:{server.metrics_port}/metrics)")  # type: ignore[attr-defined]
    for name in server.services:  # type: ignore[attr-defined]
        example = example_call(name)
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
    """Print the feature catalog."""
    from features.catalog import demo_catalog

    catalog = demo_catalog()
    table = Table(title=f"catalog {catalog.name} ({catalog.fingerprint})")
    for col in ("feature", "entity", "dtype", "group", "ttl", "domain"):
        table.add_column(col)
    for f in (catalog.features_of(entity) if entity else catalog.features.values()):
        domain = ", ".join(f.values) if f.values else (f"[{f.range[0]:g}, {f.range[1]:g}]" if f.range else "")
        table.add_row(f.name, f.entity, f.dtype.value, f.group, f"{f.ttl_seconds}s", domain[:60])
    console.print(table)


@features_app.command("load")
def load_command(
    input_path: Annotated[Path, typer.Option("--input", help="Parquet file with the entity key column")],
    entity: Annotated[str, typer.Option(help="entity name")] = "user",
    chunk_rows: Annotated[int, typer.Option(min=1, help="rows per checkpointed chunk")] = 5_000,
) -> None:
    """Bulk-load a Parquet file into Redis (restartable: a re-run resumes after the last finished chunk)."""
    from features.catalog import demo_catalog
    from features.loader import bulk_load
    from features.store import open_store

    written = bulk_load(open_store(_settings(), demo_catalog()), entity, input_path, chunk_rows=chunk_rows)
    console.print(f"loaded {written:,} rows into Redis" if written else "nothing to do: this file is already loaded")


@features_app.command("get")
def get_command(
    keys: Annotated[list[str], typer.Argument(help="entity keys")],
    features: Annotated[str, typer.Option(help="comma-separated features (default: all)")] = "",
    entity: Annotated[str, typer.Option(help="entity name")] = "user",
) -> None:
    """Read features of some keys straight from Redis and print them as JSON."""
    from features.catalog import demo_catalog
    from features.store import open_store

    names = [f for f in features.split(",") if f] or None
    batch = open_store(_settings(), demo_catalog()).read(entity, keys, names)
    rows = {k: (batch.row(i) if batch.found[i] else None) for i, k in enumerate(batch.keys)}
    console.print_json(json.dumps(rows, default=str))


@features_app.command("bench")
def bench_command(
    users: Annotated[int, typer.Option(min=100, help="users written for the benchmark")] = 10_000,
    features: Annotated[int, typer.Option(min=1, help="features per read")] = 40,
    batch: Annotated[int, typer.Option(min=1, help="users per read")] = 100,
    reads: Annotated[int, typer.Option(min=10, help="timed reads per layout")] = 2_000,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the results here")] = None,
    redis_mode: Annotated[str | None, typer.Option(
        "--redis-mode", help="single or cluster (MDS_REDIS_URL then names any cluster node); default MDS_REDIS_MODE")
    ] = None,
) -> None:
    """Time a batched read three ways on the same Redis: ours, the Feast-style hash layout, and the floor."""
    from features.bench import run_bench

    if redis_mode not in (None, "single", "cluster"):
        raise InvalidArgument(f"--redis-mode must be single or cluster; got {redis_mode!r}", field="--redis-mode")
    result = run_bench(_settings(redis_mode=redis_mode), users=users, n_features=features, batch=batch, reads=reads)
    table = Table(title=f"{batch} users x {features} features, {reads} reads each")
    for col in ("layout", "p50 ms", "p99 ms", "rows/s"):
        table.add_column(col, justify="right")
    for name in ("project", "feast_style", "packed_mget_floor"):
        r = result[name]
        table.add_row(name, f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}", f"{r['rows_per_s']:,.0f}")
    console.print(table)
    console.print(f"ours vs Feast-style: {result['ratio_vs_feast_style']:.2f}x faster (p50); "
                  f"ours / floor: {result['ratio_vs_floor']:.2f}x")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2))
        console.print(f"wrote {json_path}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("seed")(seed_command)
    app.add_typer(features_app, name="features")
