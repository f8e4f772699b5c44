"""Faults of issue #14 over real processes and sockets: a SIGKILLed seed and load, half a TLS pair,
a malformed Redis URL, SIGTERM with calls in flight, and health that follows Redis and the models."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pandas as pd
import pytest
import redis
from _mds_cli import cli_environment, mds_in_process, run_mds, start_mds
from _redis_node import free_port, start_redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sklearn.linear_model import LogisticRegression

from core.errors import InvalidArgument
from core.settings import Settings
from features.catalog import Catalog, demo_catalog
from features.demo_world import demo_seeded, seed
from features.demo_world.seeding import demo_dir
from features.loader import load_id_of
from features.store import open_store
from mds.experiments.v1 import experiments_pb2 as xpb
from mds.experiments.v1 import experiments_pb2_grpc as xpb_grpc
from mds.uplift.v1 import uplift_pb2, uplift_pb2_grpc
from models.registry import ModelRegistry
from services.server import BackgroundServer, MDSServer

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], within_s: float = 120) -> None:
    """SIGKILL ``proc`` as soon as ``ready()``; fail if it finished first (nothing was interrupted)."""
    deadline = time.monotonic() + within_s
    while not ready():
        assert proc.poll() is None, "the process finished before it could be killed"
        assert time.monotonic() < deadline, "the process never got far enough"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def _checkpoints(client: redis.Redis, settings: Settings) -> dict[bytes, int]:
    """Chunks written per load checkpoint (a Redis hash per load)."""
    return {k: int(client.hget(k, "chunks") or 0)  # type: ignore[arg-type]
            for k in client.scan_iter(match=f"{settings.namespace}:*:_load:*", count=10_000)}


def _chunks_done(client: redis.Redis, settings: Settings, catalog: Catalog, source: Path) -> int:
    """Chunks the load of ``source`` has checkpointed (its checkpoint hashes: one per option set)."""
    if not source.is_file():
        return 0
    keys = client.scan_iter(match=f"{settings.namespace}:{catalog.fingerprint}:_load:{load_id_of(source)}:*",
                            count=10_000)
    return max([int(client.hget(k, "chunks") or 0) for k in keys] or [0])  # type: ignore[arg-type]


# -- a killed seed is not a finished seed; a re-run resumes and cleans up ----------------------------

def test_killed_seed_is_not_taken_as_finished_and_a_rerun_resumes(settings: Settings, catalog: Catalog) -> None:
    users = 40_000
    client = redis.Redis.from_url(settings.redis_url or "")
    proc = start_mds(settings, "seed", "--users", str(users), "--seed", "3")
    snapshot_file = demo_dir(settings) / "users.parquet"
    _kill_when(proc, lambda: _chunks_done(client, settings, catalog, snapshot_file) >= 1)
    done_chunks = _chunks_done(client, settings, catalog, snapshot_file)
    assert done_chunks * 5_000 < users
    assert demo_seeded(settings, catalog) is None  # users are in Redis, but the seed did not finish

    result = seed(settings, users=users, seed=3, catalog=catalog, progress=False)
    assert result.resumed
    assert result.loaded <= users - done_chunks * 5_000  # only what the killed run had not written
    assert demo_seeded(settings, catalog) == {"users": users, "seed": 3,
                                              "load_id": demo_seeded(settings, catalog)["load_id"]}
    assert _checkpoints(client, settings) == {}  # no checkpoint left behind
    snapshot = pd.read_parquet(demo_dir(settings) / "users.parquet")
    batch = open_store(settings, catalog).read("user", list(snapshot.user_id.iloc[-1000:]), ["age"])
    assert batch.found.all()
    assert batch.values["age"].tolist() == snapshot.age.iloc[-1000:].tolist()

    # A seed with other arguments starts over and leaves no checkpoint of the old one.
    client.set(f"{settings.namespace}:{catalog.fingerprint}:_demo:pending",
               '{"users": 7, "seed": 1, "load_id": "stale"}')
    client.hset(f"{settings.namespace}:{catalog.fingerprint}:_load:stale:0123456789", "chunks", 1)
    again = seed(settings, users=3_000, seed=4, catalog=catalog, progress=False)
    assert not again.resumed and again.loaded == 3_000
    assert _checkpoints(client, settings) == {}
    assert demo_seeded(settings, catalog)["users"] == 3_000


def test_serve_seed_demo_reseeds_after_a_killed_seed(settings: Settings, catalog: Catalog,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    client = redis.Redis.from_url(settings.redis_url or "")
    proc = start_mds(settings, "seed", "--users", "30000")
    _kill_when(proc, lambda: _chunks_done(client, settings, catalog, demo_dir(settings) / "users.parquet") >= 1)
    served: list[str] = []

    async def serve_nothing(server: MDSServer, on_started: object = None) -> None:
        served.extend(server.services)  # this test is about the seed: no port is bound

    monkeypatch.setattr("services.server.serve_forever", serve_nothing)
    monkeypatch.setattr("services.registry.demo_preparers", lambda: {})  # nor the demo models
    with cli_environment(settings, monkeypatch):
        code, out, err = mds_in_process(["serve", "--seed-demo", "--users", "30000", "--services", "experiments"],
                                        monkeypatch, capsys)
    assert code == 0, err
    assert "seeding the demo world: 30,000 users" in out  # the killed seed does not count as seeded
    assert served == ["experiments"]
    assert demo_seeded(settings, catalog)["users"] == 30_000
    last = open_store(settings, catalog).read("user", ["u0029999"], ["age"])
    assert last.found.all()


# -- a killed bulk load resumes with nothing lost ----------------------------------------------------

def test_killed_features_load_resumes_after_the_last_chunk(settings: Settings, catalog: Catalog,
                                                           demo_users, tmp_path: Path) -> None:
    users, _ = demo_users
    frame = pd.concat([users.assign(user_id=users.user_id + f"-{i}") for i in range(10)], ignore_index=True)
    source = tmp_path / "users.parquet"
    frame.to_parquet(source, index=False)
    client = redis.Redis.from_url(settings.redis_url or "")
    proc = start_mds(settings, "features", "load", "--input", str(source), "--chunk-rows", "500")
    _kill_when(proc, lambda: _chunks_done(client, settings, catalog, source) >= 2)
    done = _chunks_done(client, settings, catalog, source)
    rerun = run_mds(settings, "features", "load", "--input", str(source), "--chunk-rows", "500", timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    match = re.search(r"loaded ([\d,]+) rows", rerun.stdout)
    assert match, rerun.stdout
    written = int(match.group(1).replace(",", ""))
    assert written == len(frame) - done * 500
    batch = open_store(settings, catalog).read("user", list(frame.user_id.iloc[::20]), ["age", "city"])
    assert batch.found.all()
    assert batch.values["age"].tolist() == frame.age.iloc[::20].tolist()


# -- configuration that must refuse to start ----------------------------------------------------------

def test_half_a_tls_pair_refuses_to_start(settings: Settings, tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("not used: the server must refuse before reading it")
    with pytest.raises(InvalidArgument, match="MDS_TLS_KEY_FILE"):
        BackgroundServer(settings.model_copy(update={"tls_cert_file": cert}), ["features"])
    with pytest.raises(InvalidArgument, match="MDS_TLS_CERT_FILE"):
        BackgroundServer(settings.model_copy(update={"tls_key_file": cert}), ["features"])
    run = run_mds(settings, "serve", "--services", "features", "--port", "0", "--metrics-port", "0", timeout=60,
                  MDS_TLS_CERT_FILE=str(cert))
    assert run.returncode == 2
    assert "MDS_TLS_KEY_FILE" in run.stderr and "Traceback" not in run.stderr
    assert "serving on" not in run.stdout


@pytest.mark.parametrize("url", ["redis//127.0.0.1:6379", "redis://127.0.0.1:notaport/0", "http://u:pw@h/0"])
def test_malformed_redis_url_is_one_line_exit_2(settings: Settings, url: str) -> None:
    run = run_mds(settings, "features", "get", "u0000001", timeout=60, MDS_REDIS_URL=url)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0 and "MDS_REDIS_URL" in run.stderr
    assert "pw" not in run.stderr  # the password is masked


# -- SIGTERM with calls in flight ---------------------------------------------------------------------

def test_sigterm_lets_calls_in_flight_finish(settings: Settings) -> None:
    proc = start_mds(settings, "serve", "--services", "experiments", "--port", "0", "--metrics-port", "0",
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, MDS_GRACE_PERIOD_S="20")
    try:
        address = None
        deadline = time.time() + 60
        while time.time() < deadline and address is None:
            match = re.search(r"serving on (\S+:\d+)", proc.stdout.readline())  # type: ignore[union-attr]
            address = match.group(1) if match else None
        assert address
        arms = [xpb.ArmSummary(arm=f"a{i}", users=1000, metrics=[  # 8 x 32 comparisons: about a second each
            xpb.MetricSummary(metric=f"m{j}", sum=100.0 + i, sum_squares=100.0 + i) for j in range(32)])
            for i in range(9)]
        with grpc.insecure_channel(address) as channel:
            stub = xpb_grpc.ExperimentServiceStub(channel)
            grpc.channel_ready_future(channel).result(timeout=10)
            calls = [stub.Analyze.future(xpb.AnalyzeRequest(control_arm="a0", arms=arms), timeout=60)
                     for _ in range(4)]
            time.sleep(0.3)  # the calls are on the server, analysing
            assert not any(c.done() for c in calls), "the calls finished before SIGTERM; make them heavier"
            proc.send_signal(signal.SIGTERM)
            results = [c.result() for c in calls]
        assert all(len(r.comparisons) == 8 * 32 for r in results)
        assert proc.wait(30) == 0
    finally:
        proc.kill()


# -- health follows Redis and the models; errors show no server paths ---------------------------------

def _health(stub: health_pb2_grpc.HealthStub, service: str) -> int:
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def _wait_health(stub: health_pb2_grpc.HealthStub, service: str, status: int, within_s: float = 10) -> None:
    deadline = time.monotonic() + within_s
    while _health(stub, service) != status:
        assert time.monotonic() < deadline, f"{service} never became {status}"
        time.sleep(0.1)


@pytest.fixture
def own_redis(settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, Callable[[], None], Callable[[], None]]]:
    port = free_port()
    procs = [start_redis(port, tmp_path)]

    def stop() -> None:
        procs[-1].kill()
        procs[-1].wait(5)

    def start() -> None:
        procs.append(start_redis(port, tmp_path))

    yield settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0", "redis_timeout_s": 0.3}), stop, start
    for p in procs:
        p.kill()


def test_health_is_not_serving_while_redis_is_down_and_recovers(own_redis) -> None:
    own, stop_redis, start_redis = own_redis
    with BackgroundServer(own, ["features", "experiments"], demo_catalog()) as server, \
            grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        features, experiments = "mds.features.v1.FeatureService", "mds.experiments.v1.ExperimentService"
        assert _health(health, features) == SERVING and _health(health, "") == SERVING
        stop_redis()
        _wait_health(health, features, NOT_SERVING)
        assert _health(health, "") == NOT_SERVING
        assert _health(health, experiments) == SERVING  # needs no Redis
        start_redis()
        _wait_health(health, features, SERVING)
        assert _health(health, "") == SERVING


def test_uplift_health_follows_a_loadable_model_and_errors_hide_paths(settings: Settings,
                                                                      grpc_server: Callable[..., str]) -> None:
    registry = ModelRegistry.from_settings(settings)
    with grpc.insecure_channel(grpc_server(["uplift"])) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        uplift = uplift_pb2_grpc.UpliftServiceStub(channel)
        service = "mds.uplift.v1.UpliftService"
        assert _health(health, service) == NOT_SERVING  # no model at all

        model = LogisticRegression().fit([[0.0], [1.0], [0.0], [1.0]], [0, 1, 0, 1])
        registry.save("coupon", model)
        payload = next((settings.models_dir / "coupon").rglob("model.joblib"))
        payload.write_bytes(payload.read_bytes()[:-20] + b"x" * 20)  # corrupt: no version loads
        listed = uplift.ListModels(uplift_pb2.ListModelsRequest(), timeout=10).models
        assert listed[0].name == "coupon" and listed[0].serving_version == 0
        assert "corrupt" in listed[0].last_error and str(settings.data_dir) not in listed[0].last_error
        assert _health(health, service) == NOT_SERVING

        with pytest.raises(grpc.RpcError) as info:
            uplift.GetModel(uplift_pb2.GetModelRequest(name="nosuchmodel"), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert str(settings.data_dir.parent) not in info.value.details()
        with pytest.raises(grpc.RpcError) as info:
            uplift.Score(uplift_pb2.ScoreRequest(model="coupon", user_ids=["u1"]), timeout=5)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert str(settings.data_dir.parent) not in info.value.details()

        registry.save("coupon", model)  # a good version 2: the service recovers without a restart
        _wait_health(health, service, SERVING, within_s=20)
