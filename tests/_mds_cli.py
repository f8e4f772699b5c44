"""Running the real ``mds`` command from tests: in a subprocess (exit codes, stderr, a fresh interpreter; run
to the end, or started for a test that kills it) or in-process (fast, through the same ``services.cli.main``
entry point); and what a benchmark left behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis

from core.settings import Settings, get_settings

__all__ = ["cli_environment", "keys_left", "mds_environ", "mds_in_process", "run_mds", "start_mds"]


def mds_environ(settings: Settings, **env: str) -> dict[str, str]:
    """The environment of a real ``mds`` subprocess: this one plus ``settings``' Redis (URL, mode, cluster
    buckets), namespace and data directory, unbuffered output and 200 columns; ``env`` on top."""
    return {**os.environ, "MDS_REDIS_URL": settings.redis_url or "", "MDS_REDIS_MODE": settings.redis_mode,
            "MDS_REDIS_CLUSTER_BUCKETS": str(settings.redis_cluster_buckets), "MDS_NAMESPACE": settings.namespace,
            "MDS_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **env}


def run_mds(settings: Settings, *args: str, timeout: int = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m services.cli ARGS`` run to the end on ``settings`` (see :func:`mds_environ`; ``env`` on top)."""
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=mds_environ(settings, **env),
                          capture_output=True, text=True, timeout=timeout)


def start_mds(settings: Settings, *args: str, stdout: int = subprocess.DEVNULL, stderr: int = subprocess.DEVNULL,
              start_new_session: bool = False, **env: str) -> subprocess.Popen[str]:
    """``python -m services.cli ARGS`` started and not waited for, for tests that kill it or read its output as
    it comes (text); same environment as :func:`run_mds`."""
    return subprocess.Popen([sys.executable, "-m", "services.cli", *args], env=mds_environ(settings, **env),
                            stdout=stdout, stderr=stderr, text=True, start_new_session=start_new_session)


@contextlib.contextmanager
def cli_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Inside it, in-process ``mds`` calls read ``settings``' Redis, namespace and data directory (the
    environment is ``monkeypatch``'s, undone after the test); the settings cache is cleared on entry and
    on exit."""
    monkeypatch.setenv("MDS_REDIS_URL", settings.redis_url or "")
    monkeypatch.setenv("MDS_NAMESPACE", settings.namespace)
    monkeypatch.setenv("MDS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def mds_in_process(args: list[str], monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``mds ARGS`` run in this process (settings from the environment)."""
    from services.cli import main

    monkeypatch.setattr(sys, "argv", ["mds", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def keys_left(settings: Settings, namespace: str) -> list[bytes]:
    """Keys still under ``namespace`` (a benchmark's own, reported in its JSON) in ``settings``' Redis."""
    client = redis.Redis.from_url(settings.redis_url or "")
    try:
        return list(client.scan_iter(match=f"{namespace}:*", count=1000))
    finally:
        client.close()
