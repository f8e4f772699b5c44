"""``mds bench load``: a bounded load generator against a running MDS server (loopback only).

``--concurrency`` workers on one asyncio event loop each keep one call in flight for ``--seconds``;
every call has a deadline. The result is throughput, latency percentiles and errors by status code,
printed and written as JSON. Only loopback targets are accepted: this is a tool for measuring your
own server, not for loading someone else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import grpc
import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from core.errors import FailedPrecondition, InvalidArgument
from core.settings import Settings
from services.cli._output import write_json
from services.registry import ExampleData

__all__ = ["KEYED_RPCS", "LoadResult", "RPCS", "app", "check_loopback", "configured_requests", "run_load"]

app = typer.Typer(help="Benchmarks against a running server.", no_args_is_help=True)
console = Console()

MAX_CONCURRENCY = 256
MAX_SECONDS = 600.0

PARSE_DEMANDS = 5  # demands Parse draws from, generated in the configured catalog's own words


@dataclass
class LoadResult:
    rpc: str
    target: str
    concurrency: int
    seconds: float
    calls: int
    errors: int
    errors_by_code: dict[str, int]
    throughput_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    batch: int
    settings: dict[str, Any] = field(default_factory=dict)


def check_loopback(target: str) -> str:
    """``target`` (host:port) when its host resolves only to loopback addresses; else InvalidArgument."""
    host, sep, port = str(target).rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise InvalidArgument(f"--target {target!r} is not host:port", field="--target")
    host = host.strip("[]")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, int(port), proto=socket.IPPROTO_TCP)}
    except socket.gaierror as exc:
        raise InvalidArgument(f"--target host {host!r} does not resolve: {exc}", field="--target") from None
    remote = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if remote:
        raise InvalidArgument(f"--target {target!r} resolves to {', '.join(remote)}, not loopback; the load "
                              "generator only runs against a server on this machine", field="--target")
    return target


def configured_requests(settings: Settings, limit: int) -> ExampleData:
    """What the requests name, from the configured catalog: its population entity, the first ``limit``
    keys of the configured population (else ``limit`` keys found in the feature store), the registered
    models (``ExampleData.logic()`` gives CheckEligibility a condition on the catalog's own features)."""
    from features.catalog import configured_catalog
    from features.population import load_population, population_entity
    from features.store import open_store
    from models.registry import ModelRegistry

    catalog = configured_catalog(settings)
    entity = population_entity(catalog)
    population = load_population(settings, catalog, check_keys=False)
    if population is not None:
        keys = population.head_keys(limit)
    else:
        store = open_store(settings, catalog)
        keys = store.entity_keys(entity, limit)
        store.client.close()
    if not keys:
        raise FailedPrecondition(f"no {entity} keys to request: set MDS_POPULATION, run `mds seed`, or load "
                                 f"features with `mds features load` first")
    return ExampleData(catalog, entity, keys, ModelRegistry.from_settings(settings).list_models())


def _request_factory(rpc: str, *, entity: str, keys: Sequence[str], batch: int, features: list[str], model: str,
                     logic: str, demands: Sequence[str]
                     ) -> tuple[str, Callable[[random.Random], Any], Callable[[bytes], Any]]:
    """(method path, request builder, response decoder) of one benchmarked RPC."""
    from mds.experiments.v1 import experiments_pb2 as xpb
    from mds.features.v1 import features_pb2
    from mds.targeting.v1 import targeting_pb2
    from mds.uplift.v1 import uplift_pb2

    def draw(rng: random.Random, n: int = batch) -> list[str]:
        return rng.sample(keys, n)

    if rpc == "GetFeatures":
        return ("/mds.features.v1.FeatureService/GetFeatures",
                lambda rng: features_pb2.GetFeaturesRequest(entity=entity, keys=draw(rng), features=features),
                features_pb2.GetFeaturesResponse.FromString)
    if rpc == "Score":
        return ("/mds.uplift.v1.UpliftService/Score",
                lambda rng: uplift_pb2.ScoreRequest(model=model, user_ids=draw(rng)),
                uplift_pb2.ScoreResponse.FromString)
    if rpc == "SelectTop":
        return ("/mds.uplift.v1.UpliftService/SelectTop",
                lambda rng: uplift_pb2.SelectTopRequest(model=model, user_ids=draw(rng),
                                                        max_users=max(1, batch // 10)),
                uplift_pb2.SelectTopResponse.FromString)
    if rpc == "Parse":
        return ("/mds.targeting.v1.TargetingService/Parse",
                lambda rng: targeting_pb2.ParseRequest(demand=rng.choice(demands)),
                targeting_pb2.ParseResponse.FromString)
    if rpc == "CheckEligibility":
        return ("/mds.targeting.v1.TargetingService/CheckEligibility",
                lambda rng: targeting_pb2.CheckEligibilityRequest(logic=logic, user_id=draw(rng, 1)[0]),
                targeting_pb2.CheckEligibilityResponse.FromString)
    if rpc == "Analyze":
        def analyze(rng: random.Random) -> Any:
            arms = [xpb.ArmSummary(arm=arm, users=10_000, metrics=[
                xpb.MetricSummary(metric="conversion", sum=float(s), sum_squares=float(s))])
                for arm, s in (("control", 1000 + rng.randrange(50)), ("email", 1100 + rng.randrange(50)))]
            return xpb.AnalyzeRequest(control_arm="control", arms=arms)
        return "/mds.experiments.v1.ExperimentService/Analyze", analyze, xpb.AnalyzeResponse.FromString
    raise InvalidArgument(f"--rpc {rpc!r} is not one of {', '.join(RPCS)}", field="--rpc")


RPCS = ("GetFeatures", "Score", "SelectTop", "Parse", "CheckEligibility", "Analyze")
KEYED_RPCS = frozenset({"GetFeatures", "Score", "SelectTop", "CheckEligibility"})


async def _catalog_features(channel: grpc.aio.Channel, entity: str, n: int,
                            metadata: tuple[tuple[str, str], ...]) -> list[str]:
    from mds.features.v1 import features_pb2, features_pb2_grpc

    stub = features_pb2_grpc.FeatureServiceStub(channel)
    catalog = await stub.GetCatalog(features_pb2.GetCatalogRequest(entity=entity), timeout=10, metadata=metadata)
    return [f.name for f in catalog.features][:n]


async def _run(rpc: str, target: str, concurrency: int, seconds: float, *, entity: str, keys: Sequence[str],
               batch: int, n_features: int, model: str, logic: str, demands: Sequence[str], token: str | None,
               timeout_s: float, progress: bool, seed: int) -> LoadResult:
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    async with grpc.aio.insecure_channel(target) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=10)
        features = await _catalog_features(channel, entity, n_features, metadata) if rpc == "GetFeatures" else []
        method, build, decode = _request_factory(rpc, entity=entity, keys=keys, batch=batch, features=features,
                                                 model=model, logic=logic, demands=demands)
        call = channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=decode)
        # One untimed call with a long deadline first: a cold server loads its parser or model lazily.
        warm_started = time.perf_counter()
        with contextlib.suppress(grpc.aio.AioRpcError):  # the timed calls will count whatever this was
            await call(build(random.Random(seed)), timeout=max(60.0, timeout_s), metadata=metadata)
        warmup_ms = (time.perf_counter() - warm_started) * 1000
        latencies: list[float] = []
        codes: Counter[str] = Counter()
        started = time.perf_counter()
        stop_at = started + seconds

        async def worker(index: int) -> None:
            rng = random.Random(seed * 1_000 + index)
            while time.perf_counter() < stop_at:
                request = build(rng)
                t0 = time.perf_counter()
                try:
                    await call(request, timeout=timeout_s, metadata=metadata)
                except grpc.aio.AioRpcError as exc:
                    codes[exc.code().name] += 1
                else:
                    latencies.append(time.perf_counter() - t0)

        columns = [TextColumn(f"[bold]{rpc} x{concurrency}"), BarColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[calls]} calls, {task.fields[errors]} errors")]
        with Progress(*columns, disable=not progress, transient=True) as bar:
            task = bar.add_task(rpc, total=seconds, calls=0, errors=0)
            workers = asyncio.gather(*(worker(i) for i in range(concurrency)))
            while not workers.done():
                await asyncio.wait([workers], timeout=0.25)
                bar.update(task, completed=min(seconds, time.perf_counter() - started), calls=len(latencies),
                           errors=sum(codes.values()))
            await workers
        elapsed = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000 if latencies else np.asarray([np.nan])
    errors = sum(codes.values())
    return LoadResult(
        rpc=rpc, target=target, concurrency=concurrency, seconds=round(elapsed, 3), calls=len(latencies) + errors,
        errors=errors, errors_by_code=dict(codes), throughput_per_s=round(len(latencies) / elapsed, 2),
        p50_ms=round(float(np.percentile(ms, 50)), 3), p90_ms=round(float(np.percentile(ms, 90)), 3),
        p99_ms=round(float(np.percentile(ms, 99)), 3), max_ms=round(float(np.max(ms)), 3), batch=batch,
        settings={"warmup_ms": round(warmup_ms, 1), "entity": entity if rpc in KEYED_RPCS else None,
                  "keys": len(keys) if rpc in KEYED_RPCS else None,
                  "features": n_features if rpc == "GetFeatures" else None,
                  "model": model if rpc in ("Score", "SelectTop") else None, "timeout_s": timeout_s})


def run_load(rpc: str, target: str, concurrency: int, seconds: float, *, entity: str = "",
             keys: Sequence[str] = (), batch: int = 100, n_features: int = 40, model: str = "", logic: str = "",
             demands: Sequence[str] = (), token: str | None = None, timeout_s: float = 5.0,
             progress: bool = False, seed: int = 0) -> LoadResult:
    """Drive ``rpc`` on ``target`` with ``concurrency`` calls in flight for ``seconds``; bounded and loopback only.

    Keyed RPCs draw ``batch`` of ``keys`` (of ``entity``) per call; Score and SelectTop name ``model``,
    CheckEligibility checks ``logic``, Parse draws one of ``demands``. :func:`configured_requests` finds
    real keys, models and logic for the configured catalog, ``models.targeting.corpus.example_demands``
    its demands."""
    if rpc not in RPCS:
        raise InvalidArgument(f"--rpc {rpc!r} is not one of {', '.join(RPCS)}", field="--rpc")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidArgument(f"--concurrency must be 1..{MAX_CONCURRENCY}; got {concurrency}", field="--concurrency")
    if not 0 < seconds <= MAX_SECONDS:
        raise InvalidArgument(f"--seconds must be in (0, {MAX_SECONDS:g}]; got {seconds:g}", field="--seconds")
    if rpc in ("Score", "SelectTop") and not model:
        raise InvalidArgument(f"--model: {rpc} needs a registered uplift model", field="--model")
    if rpc == "CheckEligibility" and not logic:
        raise InvalidArgument("CheckEligibility needs a logic to check", field="logic")
    if rpc == "Parse" and not demands:
        raise InvalidArgument("Parse needs demands to send", field="demands")
    if rpc in KEYED_RPCS and not 1 <= batch <= len(keys):
        raise InvalidArgument(f"--batch must be 1..the keys to draw from ({len(keys)}); got {batch}", field="--batch")
    check_loopback(target)
    return asyncio.run(_run(rpc, target, concurrency, seconds, entity=entity, keys=list(keys), batch=batch,
                            n_features=n_features, model=model, logic=logic, demands=list(demands), token=token,
                            timeout_s=timeout_s, progress=progress, seed=seed))


@app.command("load")
def load_command(
    rpc: Annotated[str, typer.Option(help=f"the RPC to drive: {', '.join(RPCS)}")],
    target: Annotated[str, typer.Option(help="host:port of a running server (loopback only)")] = "127.0.0.1:50051",
    concurrency: Annotated[int, typer.Option(help="calls kept in flight")] = 1,
    seconds: Annotated[float, typer.Option(help="how long to run")] = 10.0,
    users: Annotated[int, typer.Option(help="draw keys from the first N of the configured population "
                                            "(MDS_POPULATION or the demo snapshot), else N keys found in the "
                                            "feature store")] = 100_000,
    batch: Annotated[int, typer.Option(help="user ids per GetFeatures / Score / SelectTop call")] = 100,
    features: Annotated[int, typer.Option(help="features per GetFeatures call (the catalog's first N)")] = 40,
    model: Annotated[str, typer.Option(help="uplift model for Score / SelectTop (default: the first "
                                            "registered one)")] = "",
    token: Annotated[str | None, typer.Option(help="bearer token, when the server requires one")] = None,
    timeout_s: Annotated[float, typer.Option(help="deadline of every call")] = 5.0,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the result here")] = None,
) -> None:
    """Drive one RPC of a running server at a fixed concurrency; report throughput, p50/p99 and errors."""
    from core.settings import get_settings

    if users < 1:
        raise InvalidArgument(f"--users must be at least 1; got {users}", field="--users")
    entity, keys, logic, demands = "", [], "", []
    if rpc in KEYED_RPCS:
        data = configured_requests(get_settings(), users)
        entity, keys, logic = data.entity, data.keys, data.logic()
        model = model or (data.models[0] if data.models else "")
    elif rpc == "Parse":
        from features.catalog import configured_catalog
        from models.targeting.corpus import example_demands

        demands = example_demands(configured_catalog(get_settings()), PARSE_DEMANDS)
    result = run_load(rpc, target, concurrency, seconds, entity=entity, keys=keys, batch=batch, n_features=features,
                      model=model, logic=logic, demands=demands, token=token, timeout_s=timeout_s,
                      progress=True)
    console.print(f"{result.rpc} x{result.concurrency} for {result.seconds:.1f} s: {result.calls:,} calls, "
                  f"{result.throughput_per_s:,.1f}/s, p50 {result.p50_ms:.2f} ms, p90 {result.p90_ms:.2f} ms, "
                  f"p99 {result.p99_ms:.2f} ms, max {result.max_ms:.2f} ms, errors {result.errors}"
                  + (f" {result.errors_by_code}" if result.errors else ""))
    write_json(json_path, asdict(result))


@app.command("hostile")
def hostile_command(
    target: Annotated[str, typer.Option(help="host:port of a running server (loopback only)")] = "127.0.0.1:50051",
    seconds: Annotated[float, typer.Option(help="how long to run")] = 10.0,
    concurrency: Annotated[int, typer.Option(help="hostile calls kept in flight")] = 2,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the result here")] = None,
) -> None:
    """Send issue #14's hostile requests while a health probe measures stalls; report codes and probe latency."""
    from services.cli.hostile import run_hostile

    if not 0 < seconds <= MAX_SECONDS:
        raise InvalidArgument(f"--seconds must be in (0, {MAX_SECONDS:g}]; got {seconds:g}", field="--seconds")
    if not 1 <= concurrency <= 16:
        raise InvalidArgument(f"--concurrency must be 1..16; got {concurrency}", field="--concurrency")
    result = run_hostile(check_loopback(target), seconds, concurrency)
    for label, codes in result.codes_by_request.items():
        console.print(f"  {label}: {codes}")
    console.print(f"{result.hostile_calls:,} hostile calls, {result.internal_or_unknown} INTERNAL/UNKNOWN; health probe "
                  f"p50 {result.probe_p50_ms:.2f} ms, p99 {result.probe_p99_ms:.2f} ms, max {result.probe_max_ms:.2f} ms, "
                  f"{result.probes_over_100ms} of {result.probe_calls:,} over 100 ms")
    write_json(json_path, asdict(result))
