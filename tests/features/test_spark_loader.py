"""The Spark engine (local mode): same checks, same key layout and codec, same resume as the local loader."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _mds_cli import run_mds, start_mds

from core.errors import InvalidArgument
from features.loader import LoadRejected, bulk_load
from features.store import open_store

pytestmark = pytest.mark.slow
PARTITION_BYTES = 30_000  # with 100-row row groups: several partitions from a 1,000-row table


@pytest.fixture(scope="module")
def spark():
    from features.spark_loader import local_spark

    session = local_spark("local[2]", partition_bytes=PARTITION_BYTES)
    yield session
    session.stop()


@pytest.fixture
def bad_table(demo_users, tmp_path):
    users = demo_users[0].iloc[:1000].reset_index(drop=True).copy()
    users.loc[3, "age"] = 200
    users.loc[600, "gender"] = "other"
    users.loc[700, "user_id"] = users.loc[10, "user_id"]
    users.at[850, "interests"] = ["music", "knitting"]
    path = tmp_path / "users.parquet"
    pq.write_table(pa.Table.from_pandas(users, preserve_index=False), path, row_group_size=100)
    return users, path


def _spark_load(store, path, spark, **options):
    return bulk_load(store, "user", path, engine="spark", spark=spark, partition_bytes=PARTITION_BYTES,
                     progress=False, **options)


def test_spark_and_local_agree_on_reports_stored_values_and_rejected_rows(settings, catalog, spark, bad_table,
                                                                          tmp_path):
    users, path = bad_table
    local_store = open_store(settings, catalog)
    spark_store = open_store(settings.model_copy(update={"namespace": settings.namespace + "-spark"}), catalog)
    try:
        with pytest.raises(LoadRejected) as local_fail:
            bulk_load(local_store, "user", path, progress=False)
        with pytest.raises(LoadRejected) as spark_fail:
            _spark_load(spark_store, path, spark)
        assert spark_fail.value.report.problems == local_fail.value.report.problems
        assert spark_fail.value.report.problems[("age", "out of range")].rows == [4]
        assert not list(spark_store.client.scan_iter(match=f"{spark_store.version_prefix}user:*"))

        local = bulk_load(local_store, "user", path, on_bad_row="skip", rejected_path=tmp_path / "local.csv",
                          chunk_rows=300, progress=False)
        remote = _spark_load(spark_store, path, spark, on_bad_row="skip", rejected_path=tmp_path / "spark.csv")
        assert (remote.written, remote.rejected) == (local.written, local.rejected) == (995, 5)
        assert (tmp_path / "spark.csv").read_text() == (tmp_path / "local.csv").read_text()
        keys = users.user_id.drop_duplicates().tolist()
        pd.testing.assert_frame_equal(spark_store.read("user", keys).to_pandas(),
                                      local_store.read("user", keys).to_pandas())
        # same key layout: one key per entity under the catalog fingerprint
        spark_keys = sorted(spark_store.client.scan_iter(match=f"{spark_store.version_prefix}user:*"))
        assert [k.rsplit(b":", 1)[1].decode() for k in spark_keys] == sorted(
            set(users.user_id) - {users.user_id[3], users.user_id[600], users.user_id[10], users.user_id[850]})
    finally:
        spark_store.clear()


def test_a_rerun_redoes_only_the_unfinished_partitions(settings, catalog, spark, bad_table, tmp_path,
                                                      monkeypatch):
    users, path = bad_table
    store = open_store(settings, catalog)
    rejected = tmp_path / "rejected.csv"
    # A run killed after its partitions wrote their rejected parts keeps them: skip the final clean-up.
    with monkeypatch.context() as patched:
        patched.setattr("features.spark_loader.shutil.rmtree", lambda *args, **kwargs: None)
        first = _spark_load(store, path, spark, on_bad_row="skip", rejected_path=rejected)
    assert not first.resumed and first.written == 995
    (checkpoint,) = list(store.client.scan_iter(match=f"{store.version_prefix}_load:*"))
    parts = {k.decode(): v.decode() for k, v in store.client.hgetall(checkpoint).items() if k.startswith(b"p:")}
    assert len([p for p in parts.values() if p != "0,0"]) >= 3, "the table should span several partitions"
    # Pretend the run died before one non-empty partition finished and before anything reached Redis.
    unfinished, counts = next((p, v) for p, v in parts.items() if v != "0,0")
    store.client.hdel(checkpoint, unfinished, "finished")
    entity_keys = list(store.client.scan_iter(match=f"{store.version_prefix}user:*"))
    store.client.unlink(*entity_keys)

    again = _spark_load(store, path, spark, on_bad_row="skip", rejected_path=rejected)
    assert again.resumed and again.written == int(counts.split(",")[0])
    assert len(list(store.client.scan_iter(match=f"{store.version_prefix}user:*"))) == again.written
    listed = pd.read_csv(rejected, dtype=str, keep_default_na=False)
    assert listed["_row"].tolist() == ["4", "11", "601", "701", "851"]  # still each bad row once
    assert _spark_load(store, path, spark, on_bad_row="skip", rejected_path=rejected).written == 0


def test_spark_refuses_a_csv_before_starting_a_session(store, demo_users, tmp_path):
    path = tmp_path / "users.csv"
    demo_users[0].iloc[:5].to_csv(path, index=False)
    with pytest.raises(InvalidArgument, match="reads Parquet") as caught:
        bulk_load(store, "user", path, engine="spark", progress=False)
    assert caught.value.field == "--engine"


def _partitions_done(store) -> int:
    keys = list(store.client.scan_iter(match=f"{store.version_prefix}_load:*", count=10_000))
    return sum(1 for k in store.client.hkeys(keys[0]) if k.startswith(b"p:")) if keys else 0


def test_a_sigkilled_spark_cli_load_resumes_partition_by_partition(settings, catalog, tmp_path):
    """kill -9 of the whole job (driver, JVM, Python workers) mid-load; the re-run finishes the rest."""
    import os
    import signal
    import sys
    import time

    from features.demo_world import generate_users

    users, _ = generate_users(catalog, 12_000, seed=5)
    users.loc[9_000, "age"] = 5  # one bad row, in a late partition
    path = tmp_path / "users.parquet"
    pq.write_table(pa.Table.from_pandas(users, preserve_index=False), path, row_group_size=300)
    rejected = tmp_path / "rejected.csv"
    # Spark's Python workers import this tree: they get the test's module path.
    env = {"PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "250"}
    command = ("features", "load", "--input", str(path), "--engine", "spark", "--partition-mb", "0.03",
               "--chunk-rows", "300", "--on-bad-row", "skip", "--rejected", str(rejected))
    store = open_store(settings, catalog)
    job = start_mds(settings, *command, start_new_session=True, **env)
    deadline = time.monotonic() + 240
    while _partitions_done(store) < 3 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    done = _partitions_done(store)
    assert job.returncode == -signal.SIGKILL and done >= 3
    keys = store.client.scan_iter(match=f"{store.version_prefix}_load:*", count=10_000)
    partitions = len([k for k in store.client.hkeys(next(keys)) if k.startswith(b"p:")])
    assert partitions == done and not rejected.exists()

    finished = run_mds(settings, *command, timeout=400, **env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "resumed after an interrupted run" in finished.stdout, finished.stdout
    written_again = int(finished.stdout.split("loaded ")[1].split(" rows")[0].replace(",", ""))
    assert written_again < 12_000 - 1  # the finished partitions were not loaded again
    good = users.drop(index=[9_000])
    for start in range(0, len(good), 1000):
        part = good.iloc[start:start + 1000]
        batch = store.read("user", part.user_id.tolist(), ["age"])
        assert batch.found.all() and batch.values["age"].tolist() == part["age"].tolist()
    assert pd.read_csv(rejected, dtype=str)["_row"].tolist() == ["9001"]
