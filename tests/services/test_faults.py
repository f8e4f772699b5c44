"""Faults over real sockets: Redis dies mid-run and comes back; TLS; SIGTERM on the real CLI."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest
import redis
from _mds_cli import start_mds
from _redis_node import free_port, start_redis

from core.errors import StoreUnavailable
from core.settings import Settings
from features.catalog import demo_catalog
from features.store import open_store
from services.client import MDSClient
from services.server import BackgroundServer


def test_redis_down_gives_unavailable_within_deadline_then_recovers(settings: Settings, demo_users, tmp_path):
    port = free_port()
    proc = start_redis(port, tmp_path)
    own = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0", "redis_timeout_s": 0.3})
    users, _ = demo_users
    own_catalog = demo_catalog()
    open_store(own, own_catalog).write_frame("user", users.iloc[:20])
    keys = list(users.user_id[:5])
    try:
        with BackgroundServer(own, ["features"], own_catalog) as server, MDSClient(server.address, timeout_s=3) as c:
            assert c.features.get(keys, ["age"])["age"].notna().all()
            proc.terminate()
            proc.wait(5)
            started = time.perf_counter()
            with pytest.raises(grpc.RpcError) as info:
                c.features.get_raw(keys, ["age"])
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert time.perf_counter() - started < 3  # answered inside the client's deadline
            proc = start_redis(port, tmp_path)  # same port, empty data: repopulate and read again
            open_store(own, own_catalog).write_frame("user", users.iloc[:20])
            recovered = c.features.get(keys, ["age"])
            assert recovered["age"].tolist() == users["age"].iloc[:5].tolist()
    finally:
        proc.kill()


def test_tls_round_trip(settings: Settings, tmp_path: Path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    secure = settings.model_copy(update={"tls_cert_file": cert, "tls_key_file": key, "host": "localhost"})
    with BackgroundServer(secure, ["features"]) as server:
        with MDSClient(server.address, root_certificates=cert.read_bytes()) as client:
            assert client.features.catalog().fingerprint
        with MDSClient(server.address, timeout_s=2) as plaintext, pytest.raises(grpc.RpcError):
            plaintext.features.catalog()


def test_cli_serve_shuts_down_gracefully_on_sigterm(settings: Settings):
    proc = start_mds(settings, "serve", "--services", "features", "--port", "0", "--metrics-port", "0",
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        address = None
        deadline = time.time() + 60
        lines = []
        while time.time() < deadline and address is None:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            match = re.search(r"serving on (\S+:\d+)", line)
            if match:
                address = match.group(1)
        assert address, "".join(lines)
        with MDSClient(address) as client:
            assert client.features.catalog().fingerprint
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        proc.kill()


def test_redis_url_with_acl_user_and_password(settings: Settings, demo_users, tmp_path):
    port = free_port()
    proc = start_redis(port, tmp_path)
    try:
        admin = redis.Redis(port=port)
        admin.execute_command("ACL", "SETUSER", "mds", "on", ">s3cret", "~*", "+@all")
        admin.execute_command("ACL", "SETUSER", "default", "off")
        users, _ = demo_users
        authed = settings.model_copy(update={"redis_url": f"redis://mds:s3cret@127.0.0.1:{port}/0"})
        store = open_store(authed, demo_catalog())
        store.write_frame("user", users.iloc[:3])
        assert store.read("user", list(users.user_id[:3]), ["age"]).found.all()
        wrong = settings.model_copy(update={"redis_url": f"redis://mds:nope@127.0.0.1:{port}/0"})
        with pytest.raises(StoreUnavailable, match="invalid username-password"):
            open_store(wrong, demo_catalog()).read("user", ["u1"], ["age"])
    finally:
        proc.kill()
