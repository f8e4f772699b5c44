"""Bulk loads of real tables (Parquet, CSV, pandas) into the online store: checked, chunked, restartable.

Every load first matches the table's columns to the catalog (:func:`features.tables.plan_table`) and
reads the whole key column once, so duplicate and missing keys are known before anything is written.
Then, by ``on_bad_row``:

* ``fail`` (the default) checks every chunk first and raises :class:`LoadRejected` with the full
  report if any row is bad; nothing is written. Only a clean table reaches Redis.
* ``skip`` checks and writes chunk by chunk: the good rows of a chunk are written, its bad rows go to
  the rejected-rows file (original columns, row number, reason).

Every chunk is written with idempotent ``SET``s and then checkpointed in Redis (a hash under
``{namespace}:{fingerprint}:_load:{load id}:{options}``: chunks done, rejected-file length, whether the
table was already checked). A killed load, re-run with the same source and options, resumes after the
last finished chunk: nothing is lost and nothing is written twice. ``engine="spark"`` hands the same
work to :mod:`features.spark_loader`, partition by partition.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from core.errors import InvalidArgument
from core.settings import Settings
from features.store import RedisOnlineStore
from features.store.unavailable import redis_unavailable
from features.tables import (
    CheckedChunk,
    ChunkValidator,
    RejectedRows,
    TablePlan,
    TableReport,
    TableSource,
    find_bad_keys,
    load_id_of,
    normalize_keys,
    open_table,
    plan_table,
)

__all__ = ["BAD_ROW_POLICIES", "ENGINES", "LoadRejected", "LoadResult", "batch_settings", "bulk_load",
           "checkpoint_key", "forget_load", "load_id_of", "prepare_load"]

BATCH_REDIS_TIMEOUT_S = 10.0  # a pipeline of 2,000 writes on a busy Redis can take seconds, not 0.5 s
CHECKPOINT_TTL_S = 7 * 24 * 3600  # at most: a checkpoint never outlives the features it vouches for
Engine = Literal["local", "spark"]
OnBadRow = Literal["fail", "skip"]
ENGINES: tuple[str, ...] = ("local", "spark")
BAD_ROW_POLICIES: tuple[str, ...] = ("fail", "skip")


class LoadRejected(InvalidArgument):
    """The table has problems; nothing of the rejected part was written. ``report`` says what and where."""

    def __init__(self, report: TableReport) -> None:
        super().__init__(report.render(), field=report.first_column())
        self.report = report


@dataclass(frozen=True)
class LoadResult:
    source: str
    engine: str
    rows: int  # rows in the table
    written: int  # rows written to the store by this call
    rejected: int  # bad rows left out by this call (``skip``)
    resumed: bool  # an earlier, interrupted run had already written part of the table
    seconds: float
    report: TableReport
    rejected_path: Path | None
    check_seconds: float = 0.0  # of ``seconds``: the key pass and, with ``fail``, the check of the whole table

    @property
    def rows_per_s(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class PreparedLoad:
    """A load ready to run: the table, its column plan, its bad keys and its checkpoint key."""

    table: TableSource
    plan: TablePlan
    duplicate_keys: set[str]
    total_rows: int
    checkpoint: str
    checkpoint_ttl_s: int  # the entity's shortest group TTL (capped): "already loaded" must not outlive the data


def batch_settings(settings: Settings) -> Settings:
    """``settings`` for a bulk load: Redis socket timeouts raised to at least :data:`BATCH_REDIS_TIMEOUT_S`.

    ``MDS_REDIS_TIMEOUT_S`` is tuned for online reads that must fail fast; a batch job would rather wait
    for a busy server than stop half-way (a stopped load resumes, but has to be re-run by hand).
    """
    return settings.model_copy(update={"redis_timeout_s": max(settings.redis_timeout_s, BATCH_REDIS_TIMEOUT_S)})


def checkpoint_key(store: RedisOnlineStore, load_id: str, options: Iterable[object]) -> str:
    """Where a load's progress lives: per source, catalog version and every option that shapes chunks."""
    digest = hashlib.sha1("|".join(map(str, options)).encode()).hexdigest()[:10]
    return f"{store.version_prefix}_load:{load_id}:{digest}"


def forget_load(store: RedisOnlineStore, load_id: str) -> int:
    """Delete every checkpoint of load ``load_id`` (all its option sets); return how many there were."""
    keys = list(store.client.scan_iter(match=f"{store.version_prefix}_load:{load_id}:*", count=100))
    return int(store.client.delete(*keys)) if keys else 0  # type: ignore[arg-type]


def prepare_load(store: RedisOnlineStore, entity: str, source: Path | str | pd.DataFrame, *, engine: str,
                 chunk_rows: int, key_column: str | None, on_bad_row: str, ignore_columns: Iterable[str],
                 load_id: str | None, read_keys: bool = True) -> PreparedLoad:
    """Checks shared by both engines: options, the table's columns (structural problems raise), the keys."""
    if chunk_rows <= 0:
        raise InvalidArgument("chunk size must be positive", field="chunk_rows")
    if on_bad_row not in BAD_ROW_POLICIES:
        raise InvalidArgument(f"--on-bad-row must be one of {', '.join(BAD_ROW_POLICIES)}", field="--on-bad-row")
    table = open_table(source)
    plan, structural = plan_table(store.catalog, entity, table.columns, source=table.name,
                                  key_column=key_column, ignore=ignore_columns)
    if not structural.ok:
        raise LoadRejected(structural)
    duplicates: set[str] = set()
    total = table.count_rows() or 0
    if not total and read_keys and plan.row_number_keys:  # a CSV keyed by row number: count its rows once for the progress bar
        total = sum(len(chunk) for chunk in table.chunks(100_000, plan.read_columns[:1]))
    if read_keys and not plan.row_number_keys:
        keys = normalize_keys(table.column(plan.key_column))
        duplicates, _ = find_bad_keys(keys)
        total = len(keys)
    options = (engine, entity, chunk_rows, plan.key_column, on_bad_row, *plan.ignored,
               *(f.name for f in plan.features))
    ttl = min([CHECKPOINT_TTL_S, *(g.ttl_seconds for g in store.catalog.groups_of(entity))])
    return PreparedLoad(table, plan, duplicates, total, checkpoint_key(store, load_id or table.load_id, options), ttl)


def _numbered(chunks: Iterator[pd.DataFrame]) -> Iterator[tuple[int, int, pd.DataFrame]]:
    """(chunk index, 1-based number of its first row, chunk)."""
    first_row = 1
    for index, chunk in enumerate(chunks):
        yield index, first_row, chunk
        first_row += len(chunk)


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), disable=not enabled, transient=False)


def bulk_load(store: RedisOnlineStore, entity: str, source: Path | str | pd.DataFrame, *, chunk_rows: int = 5_000,
              key_column: str | None = None, on_bad_row: OnBadRow = "fail", rejected_path: Path | None = None,
              ignore_columns: Iterable[str] = (), engine: Engine = "local", load_id: str | None = None,
              progress: bool = True, **engine_options: object) -> LoadResult:
    """Check ``source`` against the catalog and load it into ``store`` (see the module docstring).

    ``rejected_path`` (a ``.csv``) receives the bad rows of a ``skip`` load; ``engine_options`` go to the
    Spark engine (``master``, ``partitions``, ``spark``).
    """
    if engine not in ENGINES:
        raise InvalidArgument(f"--engine must be one of {', '.join(ENGINES)}", field="--engine")
    if engine == "spark":
        from features.spark_loader import spark_load

        return spark_load(store, entity, source, chunk_rows=chunk_rows, key_column=key_column,
                          on_bad_row=on_bad_row, rejected_path=rejected_path, ignore_columns=ignore_columns,
                          load_id=load_id, progress=progress, **engine_options)  # type: ignore[arg-type]
    if engine_options:
        raise InvalidArgument(f"options {sorted(engine_options)} only apply to --engine spark", field="--engine")
    started = time.perf_counter()
    load = prepare_load(store, entity, source, engine=engine, chunk_rows=chunk_rows, key_column=key_column,
                        on_bad_row=on_bad_row, ignore_columns=ignore_columns, load_id=load_id)
    validator = ChunkValidator(load.plan, load.duplicate_keys, source=load.table.name)
    client = store.client
    with redis_unavailable("reading the load's checkpoint"):
        state = {k.decode(): int(v) for k, v in client.hgetall(load.checkpoint).items()}  # type: ignore[union-attr]
    target = Path(rejected_path) if on_bad_row == "skip" and rejected_path is not None else None
    if state.get("finished"):  # an earlier run loaded all of it: nothing to do
        return LoadResult(load.table.name, "local", load.total_rows, 0, 0, True, time.perf_counter() - started,
                          TableReport(load.table.name), target if target is not None and target.exists() else None)
    done = state.get("chunks", 0)
    rejected_before = state.get("rejected", 0)
    report = TableReport(load.table.name)
    checked_at = time.perf_counter()
    with _progress(progress) as bar:
        if on_bad_row == "fail" and not state.get("checked"):
            # Check the whole table before the first write: a rejected load writes nothing.
            task = bar.add_task(f"checking {load.table.name}", total=load.total_rows)
            for _, first_row, chunk in _numbered(load.table.chunks(chunk_rows, load.plan.read_columns)):
                report.merge(validator.check(chunk, first_row).report)
                bar.advance(task, len(chunk))
            if not report.ok:
                raise LoadRejected(report)
            report = TableReport(load.table.name)
            _save(client, load, {"checked": 1})
        checked_at = time.perf_counter()
        rejected_rows: RejectedRows | None = None
        if target is not None:
            rejected_rows = RejectedRows(target, load.table.columns, load.checkpoint.rsplit(":", 1)[-1])
            rejected_rows.start(state.get("rejected_bytes", 0) if done else 0)
        columns = load.table.columns if rejected_rows is not None else load.plan.read_columns
        written = rejected = 0
        task = bar.add_task(f"loading {entity}s", total=load.total_rows)
        for index, first_row, chunk in _numbered(load.table.chunks(chunk_rows, columns)):
            if index < done:
                bar.advance(task, len(chunk))
                continue
            checked = validator.check(chunk, first_row)
            report.merge(checked.report)
            update: dict[str, int] = {"chunks": index + 1}
            if checked.bad.any():
                if on_bad_row == "fail":  # the table changed since it was checked: write nothing of it
                    raise LoadRejected(report)
                rejected += int(checked.bad.sum())
                update["rejected"] = rejected_before + rejected
                if rejected_rows is not None:
                    update["rejected_bytes"] = rejected_rows.append(chunk, checked.bad.nonzero()[0],
                                                                    checked.reasons, first_row)
            written += _write_chunk(store, entity, checked)
            _save(client, load, update)
            bar.advance(task, len(chunk))
    published = rejected_rows.finish(rejected_before + rejected) if rejected_rows is not None else None
    _save(client, load, {"finished": 1})
    return LoadResult(load.table.name, "local", load.total_rows, written, rejected, done > 0,
                      time.perf_counter() - started, report, published, checked_at - started)


def _save(client: object, load: PreparedLoad, fields: dict[str, int]) -> None:
    # One key, so a plain pipeline (no MULTI) also works on a Redis Cluster.
    with redis_unavailable("saving the load's checkpoint"):
        pipe = client.pipeline(transaction=False)  # type: ignore[attr-defined]
        pipe.hset(load.checkpoint, mapping=fields)
        pipe.expire(load.checkpoint, load.checkpoint_ttl_s)
        pipe.execute()


def _write_chunk(store: RedisOnlineStore, entity: str, checked: CheckedChunk) -> int:
    good = checked.good()
    return store.write_frame(entity, good) if len(good) else 0
