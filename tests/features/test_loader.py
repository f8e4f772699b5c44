"""Bulk loads: chunked, checkpointed, and a killed load resumes without loss or duplication."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from _mds_cli import run_mds, start_mds

from core.errors import InvalidArgument
from features.loader import bulk_load
from features.store import RedisOnlineStore, open_store


class _Killed(RuntimeError):
    pass


def test_killed_load_resumes_after_the_last_finished_chunk(settings, catalog, demo_users, tmp_path, monkeypatch):
    users, _ = demo_users
    path = tmp_path / "users.parquet"
    users.to_parquet(path, index=False)
    store = open_store(settings, catalog)

    written_chunks: list[int] = []
    original = RedisOnlineStore.write_frame

    def dying_write(self, entity, frame):
        if len(written_chunks) == 3:
            raise _Killed("killed mid-load")
        written_chunks.append(len(frame))
        return original(self, entity, frame)

    monkeypatch.setattr(RedisOnlineStore, "write_frame", dying_write)
    with pytest.raises(_Killed):
        bulk_load(store, "user", path, chunk_rows=300, progress=False)
    assert written_chunks == [300, 300, 300]
    assert store.read("user", list(users.user_id[:900])).found.all()
    assert not store.read("user", list(users.user_id[900:1000])).found.any()

    monkeypatch.setattr(RedisOnlineStore, "write_frame", original)
    resumed = bulk_load(store, "user", path, chunk_rows=300, progress=False).written
    assert resumed == len(users) - 900  # only the unfinished chunks were written again
    every = store.read("user", list(users.user_id[:1000]), ["age"])
    assert every.found.all() and every.values["age"].tolist() == users["age"].iloc[:1000].tolist()
    assert bulk_load(store, "user", path, chunk_rows=300, progress=False).written == 0  # a finished load is a no-op


def test_bulk_loads_wait_longer_for_redis_than_online_reads(settings):
    from features.loader import BATCH_REDIS_TIMEOUT_S, batch_settings

    assert settings.redis_timeout_s < BATCH_REDIS_TIMEOUT_S
    assert batch_settings(settings).redis_timeout_s == BATCH_REDIS_TIMEOUT_S
    patient = settings.model_copy(update={"redis_timeout_s": 60.0})
    assert batch_settings(patient).redis_timeout_s == 60.0  # never shortened


def test_frames_load_and_bad_sources_are_rejected(settings, catalog, demo_users, tmp_path):
    users, _ = demo_users
    store = open_store(settings, catalog)
    assert bulk_load(store, "user", users.iloc[:250], chunk_rows=100, progress=False).written == 250
    with pytest.raises(InvalidArgument, match="no such file"):
        bulk_load(store, "user", tmp_path / "missing.parquet", progress=False)
    with pytest.raises(InvalidArgument):
        bulk_load(store, "user", users, chunk_rows=0, progress=False)


def _with_bad_rows(users, bad_positions):
    """A copy of ``users`` whose ``age`` is out of range at ``bad_positions`` (0-based)."""
    out = users.copy()
    out.loc[out.index[bad_positions], "age"] = 999
    return out


def test_skip_writes_the_good_rows_and_lists_each_bad_row_once(store, demo_users, tmp_path):
    users = _with_bad_rows(demo_users[0].iloc[:500].reset_index(drop=True), [2, 250])
    users.loc[400, "user_id"] = users.loc[401, "user_id"]  # both rows of a duplicated key are left out
    path = tmp_path / "users.parquet"
    users.to_parquet(path, index=False)
    rejected = tmp_path / "rejected.csv"
    result = bulk_load(store, "user", path, chunk_rows=100, on_bad_row="skip", rejected_path=rejected,
                       progress=False)
    assert (result.written, result.rejected, result.rejected_path) == (496, 4, rejected)
    listed = pd.read_csv(rejected, dtype=str, keep_default_na=False)
    assert listed["_row"].tolist() == ["3", "251", "401", "402"]
    assert listed["_reason"].tolist() == ["age: out of range"] * 2 + ["user_id: duplicate key"] * 2
    assert listed["age"].tolist()[:2] == ["999", "999"]
    assert listed.columns.tolist()[2:] == users.columns.tolist()  # the original columns follow
    assert listed["interests"].iloc[0] == "|".join(users["interests"].iloc[2])
    good = users.drop(index=[2, 250, 400, 401])
    batch = store.read("user", good.user_id.tolist(), ["age"])
    assert batch.found.all() and batch.values["age"].tolist() == good["age"].tolist()
    assert not store.read("user", [users.user_id[2], users.user_id[400]], ["age"]).found.any()
    # "already loaded" must not outlive the data: the checkpoint expires with the shortest group TTL
    (checkpoint,) = list(store.client.scan_iter(match=f"{store.version_prefix}_load:*"))
    shortest = min(g.ttl_seconds for g in store.catalog.groups_of("user"))
    assert 0 < store.client.ttl(checkpoint) <= shortest


def _checkpoint(store):
    keys = list(store.client.scan_iter(match=f"{store.version_prefix}_load:*", count=10_000))
    return {k.decode(): int(v) for k, v in store.client.hgetall(keys[0]).items()} if keys else {}


@pytest.mark.slow
def test_a_sigkilled_cli_load_resumes_without_loss_or_duplicates(settings, catalog, tmp_path):
    from features.demo_world import generate_users

    users, _ = generate_users(catalog, 20_000, seed=3)
    bad = [5, 7_777, 15_000]
    users = _with_bad_rows(users, bad)
    path = tmp_path / "users.parquet"
    users.to_parquet(path, index=False)
    rejected = tmp_path / "rejected.csv"
    command = ("features", "load", "--input", str(path), "--chunk-rows", "50", "--on-bad-row", "skip",
               "--rejected", str(rejected))
    store = open_store(settings, catalog)
    process = start_mds(settings, *command, stderr=subprocess.PIPE, COLUMNS="250")
    deadline = time.monotonic() + 120
    while _checkpoint(store).get("chunks", 0) < 160 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # past the first bad row (chunk 0) and the second (chunk 155)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()[-2000:] if process.stderr else ""
    done = _checkpoint(store)["chunks"]
    assert 160 <= done < 400, "the load was not killed midway"
    assert not rejected.exists()  # the rejected file is published only when the load is done

    finished = run_mds(settings, *command, timeout=300, COLUMNS="250")
    assert finished.returncode == 0, finished.stderr
    assert "resumed after an interrupted run" in finished.stdout
    written_again = int(finished.stdout.split("loaded ")[1].split(" rows")[0].replace(",", ""))
    assert written_again <= 20_000 - done * 50  # finished chunks were not written again
    listed = pd.read_csv(rejected, dtype=str, keep_default_na=False)
    assert listed["_row"].tolist() == [str(i + 1) for i in bad]  # each bad row exactly once
    good = users.drop(index=bad)
    for start in range(0, len(good), 1000):
        part = good.iloc[start:start + 1000]
        batch = store.read("user", part.user_id.tolist(), ["age", "city"])
        assert batch.found.all()
        assert batch.values["age"].tolist() == part["age"].tolist()
    assert not store.read("user", users.user_id.iloc[bad].tolist(), ["age"]).found.any()
