"""Bulk loads of Parquet or pandas data into the online store: chunked, with progress, restartable.

Every chunk is written with idempotent ``SET``s and then checkpointed in Redis under
``{namespace}:{fingerprint}:_load:{load id}``. A killed load, re-run with the same source, resumes
after the last finished chunk: nothing is lost and nothing is written twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from core.errors import InvalidArgument
from features.store import RedisOnlineStore

__all__ = ["bulk_load", "checkpoint_key", "load_id_of"]

CHECKPOINT_TTL_S = 7 * 24 * 3600


def load_id_of(path: Path) -> str:
    """Identity of a source file: its resolved path, size and modification time."""
    stat = path.stat()
    return hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def checkpoint_key(store: RedisOnlineStore, load_id: str) -> str:
    """The Redis key holding how many chunks of load ``load_id`` are written."""
    return f"{store.version_prefix}_load:{load_id}"


def _chunks(source: Path | pd.DataFrame, rows: int) -> tuple[int, Iterator[pd.DataFrame]]:
    if isinstance(source, pd.DataFrame):
        total = len(source)
        return total, (source.iloc[i:i + rows] for i in range(0, total, rows))
    parquet = pq.ParquetFile(source)
    total = parquet.metadata.num_rows
    return total, (batch.to_pandas() for batch in parquet.iter_batches(batch_size=rows))


def bulk_load(store: RedisOnlineStore, entity: str, source: Path | pd.DataFrame, *, chunk_rows: int = 5_000,
              load_id: str | None = None, progress: bool = True) -> int:
    """Load ``source`` into ``store``; return the number of rows written by this call."""
    if chunk_rows <= 0:
        raise InvalidArgument("chunk size must be positive", field="chunk_rows")
    if isinstance(source, pd.DataFrame):
        if load_id is None:
            digest = pd.util.hash_pandas_object(source.astype(str), index=False).sum()
            load_id = f"frame-{int(digest) & 0xFFFFFFFFFFFF:x}"
    else:
        source = Path(source)
        if not source.exists():
            raise InvalidArgument(f"no such file: {source}", field="--input")
        load_id = load_id or load_id_of(source)
    checkpoint = checkpoint_key(store, load_id)
    done = int(store.client.get(checkpoint) or 0)  # chunks already written by an earlier run
    total, chunks = _chunks(source, chunk_rows)
    written = 0
    columns = [TextColumn("[bold]loading {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn()]
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task(entity, total=total, completed=min(done * chunk_rows, total))
        for index, chunk in enumerate(chunks):
            if index < done:
                continue
            store.write_frame(entity, chunk)
            store.client.set(checkpoint, index + 1, ex=CHECKPOINT_TTL_S)
            written += len(chunk)
            bar.advance(task, len(chunk))
    return written
