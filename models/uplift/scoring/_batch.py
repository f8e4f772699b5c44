"""Batch scoring of a Parquet file in bounded memory, written atomically.

Rows stream through a pyarrow dataset scan (a Parquet file or a directory of them; only the id and
model-feature columns are read, one batch in flight)
into a ``ParquetWriter`` on a hidden ``.<name>.partial`` file beside the output, which is renamed
over the output only after the last batch: a killed or failed job never leaves a truncated file under
the output name, and a rerun simply starts over.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from core.errors import InvalidArgument

__all__ = ["BatchScoreResult", "UpliftModel", "check_input", "partial_path", "predict_throughput",
           "score_parquet"]


class UpliftModel(Protocol):
    @property
    def features(self) -> list[str]: ...

    def predict(self, df: pd.DataFrame) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class BatchScoreResult:
    engine: str
    input: str
    output: str
    rows: int
    seconds: float
    rows_per_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def partial_path(output: Path) -> Path:
    """Where a job writes before the final rename (hidden, beside the output)."""
    return output.with_name(f".{output.name}.partial")


def check_input(input_path: Path, features: Sequence[str], id_column: str) -> pads.Dataset:
    """Open the input (a Parquet file, or a directory of them such as a Spark output) and check it has
    the id column and every model feature, naming what is missing."""
    if not input_path.exists():
        raise InvalidArgument(f"--input: {input_path} does not exist", field="--input")
    try:
        dataset = pads.dataset(input_path, format="parquet")
        names = set(dataset.schema.names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidArgument(f"--input: {input_path} is not Parquet ({exc})", field="--input") from None
    if not dataset.files:
        raise InvalidArgument(f"--input: {input_path} holds no Parquet files", field="--input")
    if id_column not in names:
        raise InvalidArgument(f"--id-column: column {id_column!r} is not in {input_path.name}", field="--id-column")
    missing = [f for f in features if f not in names]
    if missing:
        raise InvalidArgument(
            f"column {missing[0]!r} (a model feature) is missing from {input_path.name}"
            + (f", and {len(missing) - 1} more" if len(missing) > 1 else ""), field=missing[0])
    return dataset


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("rows"), TimeRemainingColumn(), disable=not enabled, transient=False)


def _batches(dataset: pads.Dataset, columns: list[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    # One batch and one file in flight: memory follows --batch-rows, not the input size.
    for batch in dataset.to_batches(columns=columns, batch_size=batch_rows, batch_readahead=1,
                                    fragment_readahead=1):
        if batch.num_rows:
            yield batch


def score_parquet(model: UpliftModel, input_path: str | Path, output_path: str | Path, *,
                  id_column: str = "user_id", batch_rows: int = 50_000, progress: bool = True,
                  metadata: dict[str, str] | None = None) -> BatchScoreResult:
    """Score every row of ``input_path`` into ``output_path`` (columns: id, ``uplift``)."""
    if batch_rows <= 0:
        raise InvalidArgument("--batch-rows must be positive", field="--batch-rows")
    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.resolve() == input_path.resolve():
        raise InvalidArgument("--output must differ from --input", field="--output")
    features = list(model.features)
    dataset = check_input(input_path, features, id_column)
    total = dataset.count_rows()
    id_type = dataset.schema.field(id_column).type
    schema = pa.schema([pa.field(id_column, id_type), pa.field("uplift", pa.float64())],
                       metadata={k.encode(): v.encode() for k, v in (metadata or {}).items()})
    output_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(output_path)
    started = time.perf_counter()
    rows = 0
    try:
        with pq.ParquetWriter(tmp, schema) as writer, _progress(progress) as bar:
            task = bar.add_task(f"scoring {input_path.name}", total=total)
            for batch in _batches(dataset, [id_column, *features], batch_rows):
                uplift = np.asarray(model.predict(batch.to_pandas()[features]), dtype=np.float64)
                writer.write_table(pa.Table.from_arrays([batch.column(id_column), pa.array(uplift)], schema=schema))
                rows += batch.num_rows
                bar.advance(task, batch.num_rows)
        os.replace(tmp, output_path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    seconds = time.perf_counter() - started
    return BatchScoreResult("local", str(input_path), str(output_path), rows, seconds,
                            rows / seconds if seconds > 0 else float("inf"))


def predict_throughput(model: UpliftModel, input_path: str | Path, *, rows: int = 50_000,
                       repeats: int = 3) -> dict[str, float]:
    """Bare ``model.predict`` speed on an in-memory frame of the input's first rows (best of ``repeats``)."""
    features = list(model.features)
    frame = pads.dataset(input_path, format="parquet").head(rows, columns=features).to_pandas()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict(frame)
        best = min(best, time.perf_counter() - started)
    return {"rows": float(len(frame)), "seconds": best, "rows_per_s": len(frame) / best}
