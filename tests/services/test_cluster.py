"""MDS on a real Redis Cluster: three local masters (``redis-server --cluster-enabled yes``) joined by
``redis-cli --cluster create``. Reads, writes, the store contract, a killed load that resumes, and a
master killed mid-traffic: its slots answer UNAVAILABLE within the deadline, the other masters keep
serving, and everything recovers once it returns."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pandas as pd
import pytest
import redis
from _mds_cli import run_mds, start_mds
from _redis_node import start_redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from redis.crc import key_slot

from core.errors import StoreUnavailable
from core.redis import connect, is_cluster
from core.settings import Settings
from features.catalog import Catalog
from features.store import open_store
from features.store.checks import check_online_store
from features.store.redis_store import CLUSTER_BUCKETS
from mds.features.v1 import features_pb2, features_pb2_grpc
from services.server import BackgroundServer

REDIS_SERVER, REDIS_CLI = shutil.which("redis-server"), shutil.which("redis-cli")
pytestmark = pytest.mark.skipif(not (REDIS_SERVER and REDIS_CLI), reason="needs redis-server and redis-cli")


def _free_cluster_port() -> int:
    """A port p with p and its cluster bus port p + 10000 both free."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


@dataclass
class LocalCluster:
    workdir: Path
    ports: list[int]
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, port: int) -> None:
        node_dir = self.workdir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        self.procs[port] = start_redis(port, node_dir, "--cluster-enabled", "yes", "--cluster-config-file",
                                       "nodes.conf", "--cluster-node-timeout", "1000",
                                       "--cluster-require-full-coverage", "no", executable=str(REDIS_SERVER))

    def kill(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGKILL)
        self.procs[port].wait(5)

    def wait_ok(self, within_s: float = 30) -> None:
        """Every node reports cluster_state:ok and knows all three masters."""
        deadline = time.monotonic() + within_s
        while True:
            try:
                infos = [redis.Redis(port=p).execute_command("CLUSTER", "INFO") for p in self.ports]
                if all(b"cluster_state:ok" in i and b"cluster_known_nodes:3" in i for i in infos):
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not become ok")
            time.sleep(0.1)

    def port_of(self, key: str) -> int:
        """The port of the master holding ``key``'s slot."""
        slot = key_slot(key.encode())
        for start, end, master, *_ in redis.Redis(port=self.ports[0]).execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise LookupError(slot)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path_factory.mktemp("cluster"), [])
    try:
        while len(local.ports) < 3:
            port = _free_cluster_port()
            if port not in local.ports:
                local.ports.append(port)
        for port in local.ports:
            local.start(port)
        subprocess.run([str(REDIS_CLI), "--cluster", "create", *[f"127.0.0.1:{p}" for p in local.ports],
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        local.wait_ok()
        yield local
    finally:
        local.stop_all()


@pytest.fixture
def cluster_settings(settings: Settings, cluster: LocalCluster) -> Iterator[Settings]:
    # 48 buckets: every master surely holds some (with the default 12, one may hold none ~2% of the
    # time, and these tests need keys on each master).
    own = settings.model_copy(update={"redis_url": cluster.url, "redis_mode": "cluster", "redis_timeout_s": 0.3,
                                      "redis_cluster_buckets": 48})
    yield own
    cluster.wait_ok()
    store_client = connect(own)
    keys = list(store_client.scan_iter(match=f"{own.namespace}:*", count=1000))
    for key in keys:
        store_client.delete(key)
    store_client.close()


def _users(demo_users: tuple[pd.DataFrame, pd.DataFrame], n: int) -> pd.DataFrame:
    return demo_users[0].iloc[:n].reset_index(drop=True)


def test_store_reads_and_writes_across_every_master(cluster_settings: Settings, cluster: LocalCluster,
                                                    catalog: Catalog, demo_users) -> None:
    store = open_store(cluster_settings, catalog)
    assert is_cluster(store.client)
    users = _users(demo_users, 600)
    store.write_frame("user", users)
    for start in range(0, 600, 100):  # 100 users x every feature, as a read of the servers does
        batch = store.read("user", list(users.user_id[start:start + 100]))
        assert batch.found.all()
        assert batch.values["age"].tolist() == users.age[start:start + 100].tolist()
        assert batch.column("city").tolist() == users.city[start:start + 100].tolist()
    holders = {cluster.port_of(store.key("user", k).decode()) for k in users.user_id}
    assert holders == set(cluster.ports)  # keys spread over all three masters
    slots = {key_slot(store.key("user", k)) for k in users.user_id[:100]}
    assert len(slots) <= 48  # a 100-user read is one MGET per bucket, not per user
    assert store.clear() == 600
    assert not store.read("user", list(users.user_id[:100])).found.any()


@pytest.mark.parametrize("buckets", [1, CLUSTER_BUCKETS])
def test_store_contract_holds_on_a_cluster(cluster_settings: Settings, buckets: int) -> None:
    from features.store import RedisOnlineStore

    check_online_store(lambda c: RedisOnlineStore(connect(cluster_settings), c, cluster_settings.namespace,
                                                  cluster_buckets=buckets))


def test_killed_load_resumes_on_a_cluster(cluster_settings: Settings, catalog: Catalog, demo_users,
                                          tmp_path: Path) -> None:
    users = _users(demo_users, 2000)
    frame = pd.concat([users.assign(user_id=users.user_id + f"-{i}") for i in range(5)], ignore_index=True)
    source = tmp_path / "users.parquet"
    frame.to_parquet(source, index=False)
    command = ("features", "load", "--input", str(source), "--chunk-rows", "500")
    client = connect(cluster_settings)

    def done() -> int:
        keys = client.scan_iter(match=f"{cluster_settings.namespace}:*_load:*", count=10_000)
        return max([int(client.hget(k, "chunks") or 0) for k in keys] or [0])  # a load's checkpoint is a hash

    proc = start_mds(cluster_settings, *command)
    deadline = time.monotonic() + 120
    while done() < 2:
        assert proc.poll() is None, "the load finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    finished = done()
    rerun = run_mds(cluster_settings, *command, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"loaded {len(frame) - finished * 500:,} rows" in rerun.stdout
    store = open_store(cluster_settings, catalog)
    sample = frame.iloc[::10]
    batch = store.read("user", list(sample.user_id), ["age"])
    assert batch.found.all() and batch.values["age"].tolist() == sample.age.tolist()


def _get(stub: features_pb2_grpc.FeatureServiceStub, keys: list[str]) -> features_pb2.GetFeaturesResponse:
    return stub.GetFeatures(features_pb2.GetFeaturesRequest(entity="user", keys=keys, features=["age"]), timeout=3)


def test_a_master_killed_mid_traffic(cluster_settings: Settings, cluster: LocalCluster, catalog: Catalog,
                                     demo_users) -> None:
    store = open_store(cluster_settings, catalog)
    users = _users(demo_users, 300)
    store.write_frame("user", users)
    victim = cluster.ports[1]
    by_port = {p: [k for k in users.user_id if cluster.port_of(store.key("user", k).decode()) == p]
               for p in cluster.ports}
    dead_keys, live_keys = by_port[victim][:20], [k for p in cluster.ports if p != victim for k in by_port[p][:20]]
    with BackgroundServer(cluster_settings, ["features"], catalog) as server, \
            grpc.insecure_channel(server.address) as channel:
        stub = features_pb2_grpc.FeatureServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        assert all(_get(stub, dead_keys + live_keys).found)

        cluster.kill(victim)
        started = time.perf_counter()
        with pytest.raises(grpc.RpcError) as info:
            _get(stub, dead_keys)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert time.perf_counter() - started < 3  # inside the deadline
        for _ in range(5):  # the other masters keep serving, call after call
            response = _get(stub, live_keys)
            assert all(response.found)
            assert list(response.columns[0].int_values.values) == \
                users.set_index("user_id").loc[live_keys, "age"].tolist()

        cluster.start(victim)  # same port and node id (nodes.conf), empty data
        cluster.wait_ok()
        store.write_frame("user", users)
        deadline = time.monotonic() + 20
        while True:
            try:
                if all(_get(stub, dead_keys + live_keys).found):
                    break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE
            assert time.monotonic() < deadline, "reads never recovered"
            time.sleep(0.2)
        deadline = time.monotonic() + 20
        while health.Check(health_pb2.HealthCheckRequest(service="mds.features.v1.FeatureService"),
                           timeout=3).status != health_pb2.HealthCheckResponse.SERVING:
            assert time.monotonic() < deadline, "health never returned to SERVING"
            time.sleep(0.2)


def test_allocation_state_and_segments_on_a_cluster(cluster_settings: Settings) -> None:
    import asyncio

    from core.redis import connect_async
    from models.allocation._state import RedisBudgetState
    from models.targeting.audience import AsyncSegmentStore

    state = RedisBudgetState(connect(cluster_settings), cluster_settings.namespace)  # type: ignore[arg-type]
    state.set_budget(500.0, 1000.0)
    snap = state.flush(7, 12.5, 3, {0: 2, 1: 1})
    snap = state.flush(7, 7.5, 2, {1: 4})
    assert (snap.budget, snap.spend, snap.requests, snap.requests_per_window) == (500.0, 20.0, 5, 1000.0)
    assert state.traffic() == {0: 2, 1: 5}

    async def segments() -> tuple[int, set[str]]:
        client = connect_async(cluster_settings)
        store = AsyncSegmentStore(client, cluster_settings.namespace)  # type: ignore[arg-type]
        await store.save("young-moms", "(age#Less Than#30)", [f"u{i:07d}" for i in range(250)], engine="duckdb",
                         source="users.parquet")
        await store.save("young-moms", "(age#Less Than#25)", ["u0000001", "u0000002"], engine="duckdb",
                         source="users.parquet")
        got = await store.get("young-moms")
        members = await store.members("young-moms")
        await client.aclose()
        return got.count, members

    count, members = asyncio.run(segments())
    assert count == 2 and members == {"u0000001", "u0000002"}


def test_cluster_mode_without_a_url_is_a_clear_error(settings: Settings) -> None:
    from core.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="MDS_REDIS_URL"):
        connect(settings.model_copy(update={"redis_url": None, "redis_mode": "cluster"}))


def test_unreachable_cluster_is_store_unavailable(settings: Settings, catalog: Catalog) -> None:
    port = _free_cluster_port()
    own = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0", "redis_mode": "cluster"})
    with pytest.raises(StoreUnavailable):
        open_store(own, catalog).read("user", ["u1"], ["age"])
