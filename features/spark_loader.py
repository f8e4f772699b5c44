"""``engine="spark"``: the same checked load, with Spark scanning Parquet partitions in parallel.

Spark reads the table (a Parquet file or folder, anything ``spark.read.parquet`` reads) and hands each
partition to a Python worker through ``mapInPandas``. Every worker runs the local loader's own pieces —
:class:`features.tables.ChunkValidator` for the checks, the store's ``write_commands`` for the key
layout and codec — and writes its partition's good rows through one Redis pipeline (flushed every
2,000 entities), then marks the partition done in the load's checkpoint. Row numbers come from
Parquet's ``_metadata.row_index`` plus the row counts of the files before it, so reports and rejected
rows name the same rows as the local engine.

* Duplicate keys: one ``groupBy(key).count()`` over the whole table before anything is written.
* ``fail``: a first Spark job checks every partition and returns partial reports, merged on the
  driver; a bad row anywhere rejects the load and nothing is written.
* ``skip``: each partition writes its bad rows to its own CSV part; the driver concatenates the parts
  in row order into the rejected-rows file when every partition is done.
* Resume: the checkpoint hash holds ``p:<partition id>`` = rows written, rows rejected. A re-run with
  the same table and options skips finished partitions (partition ids are stable for a given table,
  ``master`` and ``partition_bytes``); an unfinished partition is rewritten whole (idempotent SETs).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import pyarrow.parquet as pq
import redis

from core.errors import InvalidArgument
from core.redis import is_cluster
from core.spark import local_spark as core_local_spark
from features.catalog import Catalog
from features.loader import LoadRejected, LoadResult, prepare_load
from features.store import RedisOnlineStore
from features.store.redis_store import WRITE_CHUNK
from features.store.unavailable import redis_unavailable
from features.tables import (
    ROW_COLUMN,
    ChunkValidator,
    Problem,
    RejectedRows,
    TablePlan,
    TableReport,
    normalize_keys,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["local_spark", "spark_load"]

_ROW_INDEX = "__mds_row_index"
_FILE_PATH = "__mds_file_path"
_PARTITION_BYTES = 8 * 1024 * 1024  # several tasks per core even for a table of ~100 MB


def local_spark(master: str = "local[2]", *, progress: bool = False, partition_bytes: int = _PARTITION_BYTES,
                batch_rows: int = 5_000) -> SparkSession:
    """The loader's local session: small input splits so every core gets several tasks."""
    return core_local_spark(master, app="mds-features-load", progress=progress, batch_rows=batch_rows,
                            partition_bytes=partition_bytes)


@dataclass(frozen=True)
class _StoreSpec:
    """A picklable description of the driver's store: its Redis connection, catalog and namespace."""

    connection_class: type
    connection_kwargs: dict[str, Any]
    catalog: Catalog
    namespace: str

    @classmethod
    def of(cls, store: RedisOnlineStore) -> _StoreSpec:
        assert isinstance(store.client, redis.Redis), "spark_load refuses a cluster client first"
        pool = store.client.connection_pool
        # Plain settings only (host, port, path, password, TLS files, timeouts): helper objects hold locks.
        kwargs = {k: v for k, v in pool.connection_kwargs.items()
                  if isinstance(v, str | int | float | bool | bytes | type(None)) and not k.startswith("orig_")}
        return cls(pool.connection_class, kwargs, store.catalog, store.namespace)

    def open(self) -> RedisOnlineStore:
        pool = redis.ConnectionPool(connection_class=self.connection_class, **self.connection_kwargs)
        return RedisOnlineStore(redis.Redis(connection_pool=pool), self.catalog, self.namespace)


def _file_offsets(files: list[Path]) -> dict[str, int]:
    """Resolved file path → 0-based number of its first row in the whole table (files in sorted order)."""
    offsets: dict[str, int] = {}
    total = 0
    for path in files:
        offsets[str(path.resolve())] = total
        total += pq.ParquetFile(path).metadata.num_rows
    return offsets


def _local_path(uri: str) -> str:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(uri)
    return str(Path(unquote(parts.path)).resolve()) if parts.scheme in ("", "file") else uri


def _first_rows(batch: pd.DataFrame, offsets: dict[str, int]) -> pd.Series:
    """1-based table row number of every row of a Spark batch."""
    starts = batch[_FILE_PATH].map(lambda uri: offsets[_local_path(uri)])
    return starts + batch[_ROW_INDEX] + 1


def _contiguous_runs(rows: pd.Series) -> Iterator[tuple[int, int, int]]:
    """(start position, end position, first row number) of each run of consecutive row numbers."""
    values = rows.to_numpy()
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[i - 1] + 1:
            yield start, i, int(values[start])
            start = i


def _checked_runs(batch: pd.DataFrame, offsets: dict[str, int], validator: ChunkValidator,
                  columns: list[str]) -> Iterator[tuple[pd.DataFrame, Any, int]]:
    """Validate a Spark batch run by run of consecutive rows, so row numbers stay exact."""
    numbers = _first_rows(batch, offsets)
    order = numbers.argsort(kind="stable")
    batch, numbers = batch.iloc[order].reset_index(drop=True), numbers.iloc[order].reset_index(drop=True)
    for start, end, first_row in _contiguous_runs(numbers):
        raw = batch.iloc[start:end][columns].reset_index(drop=True)
        yield raw, validator.check(raw, first_row), first_row


def _check_partitions(offsets: dict[str, int], validator: ChunkValidator, columns: list[str]
                      ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def check(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        report = TableReport(validator.source)
        for batch in batches:
            for _, checked, _ in _checked_runs(batch, offsets, validator, columns):
                report.merge(checked.report)
        yield pd.DataFrame({"report": [_report_json(report)]})
    return check


def _report_json(report: TableReport) -> str:
    return json.dumps({"rows_checked": report.rows_checked, "rows_rejected": report.rows_rejected,
                       "problems": [[p.column, p.problem.value, p.detail, p.count, p.rows, p.samples]
                                    for p in report.problems.values()]})


def _report_from_json(source: str, text: str) -> TableReport:
    data = json.loads(text)
    report = TableReport(source, data["rows_checked"], data["rows_rejected"])
    for column, kind, detail, count, rows, samples in data["problems"]:
        entry = report.problem(column, Problem(kind), detail)
        entry.count, entry.rows, entry.samples = count, rows, samples
    return report


def _merged(source: str, partials: Iterable[str]) -> TableReport:
    """The partitions' reports merged in row order, so each problem lists its first rows."""
    def first_row(report: TableReport) -> int:
        return min((min(p.rows, default=0) for p in report.problems.values()), default=0)

    merged = TableReport(source)
    for part in sorted((_report_from_json(source, p) for p in partials), key=first_row):
        merged.merge(part)
    for problem in merged.problems.values():
        problem.rows.sort()
    return merged


def _load_partitions(spec: _StoreSpec, entity: str, checkpoint: str, checkpoint_ttl_s: int,
                     offsets: dict[str, int], validator: ChunkValidator, columns: list[str],
                     all_columns: list[str], parts_dir: str | None
                     ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def load(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import TaskContext

        partition = TaskContext.get().partitionId()  # type: ignore[union-attr]
        worker = spec.open()
        field = f"p:{partition}"
        if worker.client.hexists(checkpoint, field):  # finished by an earlier run
            for _ in batches:
                pass
            return
        rejected_part = (RejectedRows(Path(parts_dir) / f"part-{partition:05d}.csv", all_columns, "spark")
                         if parts_dir else None)
        if rejected_part is not None:
            rejected_part.start(0)  # a re-done partition rewrites its part from scratch
        pipe = worker.client.pipeline(transaction=False)  # the partition's one pipeline
        pending = written = rejected = 0
        report = TableReport(validator.source)
        for batch in batches:
            for raw, checked, first_row in _checked_runs(batch, offsets, validator, all_columns):
                report.merge(checked.report)
                if checked.bad.any():
                    rejected += int(checked.bad.sum())
                    if rejected_part is not None:
                        rejected_part.append(raw, checked.bad.nonzero()[0], checked.reasons, first_row)
                good = checked.good()
                if not len(good):
                    continue
                for commands in worker.write_commands(entity, good):
                    for name, args in commands:
                        pipe.execute_command(name, *args)
                    pending += len(commands)
                    if pending >= WRITE_CHUNK:
                        pipe.execute()
                        pending = 0
                written += len(good)
        pipe.hset(checkpoint, field, f"{written},{rejected}")
        pipe.expire(checkpoint, checkpoint_ttl_s)
        pipe.execute()
        if rejected_part is not None and rejected_part.partial.exists():
            rejected_part.partial.replace(rejected_part.target)
        worker.client.close()
        yield pd.DataFrame({"partition": [partition], "written": [written], "rejected": [rejected],
                            "report": [_report_json(report)]})
    return load


def _duplicate_keys(df: DataFrame, key: str) -> set[str]:
    from pyspark.sql import functions as F  # noqa: N812

    dtype = dict(df.dtypes)[key]
    column = F.trim(F.col(key)) if dtype == "string" else F.col(key)
    counted = df.select(column.alias("k")).where(F.col("k").isNotNull() & (F.col("k") != ""))
    rows = cast(pd.DataFrame, counted.groupBy("k").count().where(F.col("count") > 1).select("k").toPandas())
    return {k for k in normalize_keys(rows["k"]) if k is not None}


def _publish_rejected(parts_dir: Path, target: Path) -> int:
    """Concatenate the partitions' rejected parts in row order into ``target``; return the row count."""
    parts = sorted(parts_dir.glob("part-*.csv"))
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts]
    frames = [f for f in frames if len(f)]
    if not frames:
        return 0
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.iloc[rows[ROW_COLUMN].astype(int).argsort(kind="stable")]
    partial = target.with_name(f".{target.name}.spark.partial")
    rows.to_csv(partial, index=False)
    os.replace(partial, target)
    return len(rows)


def _mark(client: Any, checkpoint: str, flag: str, ttl_s: int) -> None:
    with redis_unavailable("saving the load's checkpoint"):
        pipe = client.pipeline(transaction=False)
        pipe.hset(checkpoint, flag, 1)
        pipe.expire(checkpoint, ttl_s)
        pipe.execute()


def spark_load(store: RedisOnlineStore, entity: str, source: Path | str | pd.DataFrame, *, chunk_rows: int = 5_000,
               key_column: str | None = None, on_bad_row: str = "fail", rejected_path: Path | None = None,
               ignore_columns: Iterable[str] = (), load_id: str | None = None, progress: bool = True,
               master: str = "local[2]", partition_bytes: int = _PARTITION_BYTES,
               spark: SparkSession | None = None) -> LoadResult:
    """Check and load a Parquet table with Spark (see the module docstring). ``spark`` reuses a session."""
    if isinstance(source, pd.DataFrame) or Path(source).suffix.lower() == ".csv":
        raise InvalidArgument("--engine spark reads Parquet (a file or a folder of files); "
                              "load a CSV or a DataFrame with --engine local", field="--engine")
    if is_cluster(store.client):
        raise InvalidArgument("--engine spark does not load into a Redis Cluster yet (MDS_REDIS_MODE=cluster); "
                              "use --engine local", field="--engine")
    started = time.perf_counter()
    if spark is not None:
        master = spark.sparkContext.master or master  # partition ids depend on it: it is part of the checkpoint key
    load = prepare_load(store, entity, source, engine=f"spark|{master}|{partition_bytes}", chunk_rows=chunk_rows,
                        key_column=key_column, on_bad_row=on_bad_row, ignore_columns=ignore_columns,
                        load_id=load_id, read_keys=False)
    plan: TablePlan = load.plan
    client = store.client
    with redis_unavailable("reading the load's checkpoint"):
        state = {k.decode(): v.decode()  # type: ignore[union-attr]
                 for k, v in client.hgetall(load.checkpoint).items()}  # type: ignore[union-attr]
    target = Path(rejected_path) if on_bad_row == "skip" and rejected_path is not None else None
    if state.get("finished"):
        return LoadResult(load.table.name, "spark", load.total_rows, 0, 0, True, time.perf_counter() - started,
                          TableReport(load.table.name), target if target is not None and target.exists() else None)
    if target is not None:
        RejectedRows(target, load.table.columns, "spark")  # checks the path before a slow JVM start
    files = load.table.files
    offsets = _file_offsets(files)
    own_session = spark is None
    session = spark or local_spark(master, progress=progress, partition_bytes=partition_bytes, batch_rows=chunk_rows)
    parts_dir = target.with_name(f".{target.name}.{load.checkpoint.rsplit(':', 1)[-1]}.parts") if target else None
    # Partition ids must be stable across re-runs: pin the split size even on a caller's session.
    session.conf.set("spark.sql.files.maxPartitionBytes", str(partition_bytes))
    try:
        table = session.read.parquet(*[str(p.resolve()) for p in files])
        columns = load.table.columns if target is not None else plan.read_columns
        from pyspark.sql import functions as F  # noqa: N812

        scan = table.select(*[F.col(f"`{c}`") for c in columns], F.col("_metadata.row_index").alias(_ROW_INDEX),
                            F.col("_metadata.file_path").alias(_FILE_PATH))
        duplicates = set() if plan.row_number_keys else _duplicate_keys(table, plan.key_column)
        validator = ChunkValidator(plan, duplicates, source=load.table.name)
        if on_bad_row == "fail" and not state.get("checked"):
            partials = cast(pd.DataFrame, scan.mapInPandas(_check_partitions(offsets, validator, plan.read_columns),
                                                           schema="report string").toPandas())["report"]
            report = _merged(load.table.name, partials)
            if not report.ok:
                raise LoadRejected(report)
            _mark(client, load.checkpoint, "checked", load.checkpoint_ttl_s)
        checked_at = time.perf_counter()
        if parts_dir is not None:
            parts_dir.mkdir(exist_ok=True)
        loader = _load_partitions(_StoreSpec.of(store), entity, load.checkpoint, load.checkpoint_ttl_s, offsets,
                                  validator, plan.read_columns, columns, str(parts_dir) if parts_dir else None)
        this_run = cast(pd.DataFrame, scan.mapInPandas(
            loader, schema="partition int, written long, rejected long, report string").toPandas())
    finally:
        if own_session:
            session.stop()
    with redis_unavailable("reading the load's checkpoint"):
        finished: dict[str, str] = {k.decode(): v.decode()  # type: ignore[union-attr]
                                    for k, v in client.hgetall(load.checkpoint).items()}  # type: ignore[union-attr]
    rejected_total = sum(int(v.split(",")[1]) for k, v in finished.items() if k.startswith("p:"))
    published = None
    if target is not None and parts_dir is not None:
        if rejected_total and _publish_rejected(parts_dir, target):
            published = target
        shutil.rmtree(parts_dir, ignore_errors=True)
    _mark(client, load.checkpoint, "finished", load.checkpoint_ttl_s)
    report = _merged(load.table.name, this_run["report"])
    written, rejected = int(this_run["written"].sum()), int(this_run["rejected"].sum())
    resumed = len(this_run) < sum(1 for k in finished if k.startswith("p:"))
    return LoadResult(load.table.name, "spark", load.total_rows, written, rejected, resumed,
                      time.perf_counter() - started, report, published, checked_at - started)
