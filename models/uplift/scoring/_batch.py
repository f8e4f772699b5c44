"""Batch scoring of a Parquet file in bounded memory, written atomically.

Rows stream through ``ParquetFile.iter_batches`` (a Parquet file, or each file of a directory in
turn; only the id and model-feature columns are read) into a ``ParquetWriter`` on a hidden ``.<name>.partial`` file beside the output, which is renamed
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
    predict_seconds: float = 0.0  # of ``seconds``, the time spent inside model.predict

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def partial_path(output: Path) -> Path:
    """Where a job writes before the final rename (hidden, beside the output)."""
    return output.with_name(f".{output.name}.partial")


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def check_input(input_path: Path, features: Sequence[str], id_column: str) -> list[pq.ParquetFile]:
    """Open the input (a Parquet file, or a directory of them such as a Spark table; hidden ``.``/``_``
    files skipped) and check every file has the id column and each model feature, naming what is missing."""
    if not input_path.exists():
        raise InvalidArgument(f"--input: {input_path} does not exist", field="--input")
    paths = ([p for p in sorted(input_path.rglob("*")) if p.is_file() and not _hidden(p, input_path)]
             if input_path.is_dir() else [input_path])
    if not paths:
        raise InvalidArgument(f"--input: {input_path} holds no Parquet files", field="--input")
    files: list[pq.ParquetFile] = []
    for path in paths:
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidArgument(f"--input: {path} is not a Parquet file ({exc})", field="--input") from None
        names = set(parquet.schema_arrow.names)
        if id_column not in names:
            raise InvalidArgument(f"--id-column: column {id_column!r} is not in {path.name}", field="--id-column")
        missing = [f for f in features if f not in names]
        if missing:
            raise InvalidArgument(
                f"column {missing[0]!r} (a model feature) is missing from {path.name}"
                + (f", and {len(missing) - 1} more" if len(missing) > 1 else ""), field=missing[0])
        files.append(parquet)
    return files


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("rows"), TimeRemainingColumn(), disable=not enabled, transient=False)


def _batches(files: list[pq.ParquetFile], columns: list[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    # File by file, batch by batch: memory follows --batch-rows (and one row group), not the input size.
    for parquet in files:
        yield from parquet.iter_batches(batch_size=batch_rows, columns=columns)


def score_parquet(model: UpliftModel, input_path: str | Path, output_path: str | Path, *,
                  id_column: str = "user_id", batch_rows: int = 50_000, progress: bool = True,
                  metadata: dict[str, str] | None = None) -> BatchScoreResult:
    """Score every row of ``input_path`` into ``output_path`` (columns: id, ``uplift``).

    A several-treatment model also writes ``uplift_<arm>`` per arm and ``chosen_arm`` (null when no
    arm is predicted to help); ``uplift`` is then the best arm's uplift.
    """
    if batch_rows <= 0:
        raise InvalidArgument("--batch-rows must be positive", field="--batch-rows")
    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.resolve() == input_path.resolve():
        raise InvalidArgument("--output must differ from --input", field="--output")
    features = list(model.features)
    files = check_input(input_path, features, id_column)
    total = sum(f.metadata.num_rows for f in files)
    id_type = files[0].schema_arrow.field(id_column).type
    arms: list[str] | None = getattr(model, "arms", None)
    arm_fields = [pa.field(f"uplift_{a}", pa.float64()) for a in arms or []]
    arm_fields += [pa.field("chosen_arm", pa.string())] if arms else []
    schema = pa.schema([pa.field(id_column, id_type), pa.field("uplift", pa.float64()), *arm_fields],
                       metadata={k.encode(): v.encode() for k, v in (metadata or {}).items()})
    output_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(output_path)
    started = time.perf_counter()
    rows = 0
    predict_seconds = 0.0
    try:
        with pq.ParquetWriter(tmp, schema) as writer, _progress(progress) as bar:
            task = bar.add_task(f"scoring {input_path.name}", total=total)
            for batch in _batches(files, [id_column, *features], batch_rows):
                frame = batch.to_pandas()[features]
                predict_started = time.perf_counter()
                if arms:
                    per_arm = np.asarray(model.predict_arms(frame), dtype=np.float64)  # type: ignore[attr-defined]
                    uplift = per_arm.max(axis=1)
                else:
                    uplift = np.asarray(model.predict(frame), dtype=np.float64)
                predict_seconds += time.perf_counter() - predict_started
                columns = [batch.column(id_column), pa.array(uplift)]
                if arms:
                    best = per_arm.argmax(axis=1)
                    chosen = [arms[b] if u > 0 else None for b, u in zip(best.tolist(), uplift.tolist(), strict=True)]
                    columns += [pa.array(per_arm[:, i]) for i in range(len(arms))] + [pa.array(chosen, pa.string())]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                rows += batch.num_rows
                bar.advance(task, batch.num_rows)
        os.replace(tmp, output_path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    seconds = time.perf_counter() - started
    return BatchScoreResult("local", str(input_path), str(output_path), rows, seconds,
                            rows / seconds if seconds > 0 else float("inf"), predict_seconds)


def predict_throughput(model: UpliftModel, input_path: str | Path, *, id_column: str = "user_id",
                       rows: int = 50_000, repeats: int = 3) -> dict[str, float]:
    """Bare ``model.predict`` speed on an in-memory frame of the input's first rows (best of ``repeats``)."""
    features = list(model.features)
    first = check_input(Path(input_path), features, id_column)[0]
    frame = next(first.iter_batches(batch_size=rows, columns=features)).to_pandas()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict(frame)
        best = min(best, time.perf_counter() - started)
    return {"rows": float(len(frame)), "seconds": best, "rows_per_s": len(frame) / best}
