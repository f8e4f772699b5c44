"""Bulk loads: chunked, checkpointed, and a killed load resumes without loss or duplication."""

from __future__ import annotations

import pytest

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


def test_frames_load_and_bad_sources_are_rejected(settings, catalog, demo_users, tmp_path):
    users, _ = demo_users
    store = open_store(settings, catalog)
    assert bulk_load(store, "user", users.iloc[:250], chunk_rows=100, progress=False).written == 250
    with pytest.raises(InvalidArgument, match="no such file"):
        bulk_load(store, "user", tmp_path / "missing.parquet", progress=False)
    with pytest.raises(InvalidArgument):
        bulk_load(store, "user", users, chunk_rows=0, progress=False)
