"""Batch scoring on Apache Spark: ``mapInPandas`` over the input, the model shipped as broadcast bytes.

The driver broadcasts the registry payload (checksum-verified joblib bytes) once; each Python
worker unpickles it on first use and keeps it for later partitions (cached by sha256), so a model is
deserialized once per worker process, not once per batch. Output is a Spark Parquet directory,
written to a hidden ``.<name>.partial`` directory and renamed into place when the job succeeded.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from core.errors import InvalidArgument
from core.spark import local_spark as core_local_spark
from models.uplift.scoring._batch import BatchScoreResult, best_arm_columns, check_input, partial_path

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["local_spark", "score_parquet_spark"]

_WORKER_MODELS: dict[str, Any] = {}  # sha256 → model, per Python worker process


def _worker_model(payload: bytes, sha256: str) -> Any:
    model = _WORKER_MODELS.get(sha256)
    if model is None:
        import joblib

        model = joblib.load(io.BytesIO(payload))
        _WORKER_MODELS.clear()  # one model per worker at a time
        _WORKER_MODELS[sha256] = model
    return model


def local_spark(master: str = "local[2]", *, batch_rows: int = 10_000, progress: bool = False) -> SparkSession:
    """The batch scorer's local session (stage progress bar optional)."""
    return core_local_spark(master, app="mds-uplift-score", progress=progress, batch_rows=batch_rows,
                            driver_memory="1g")


def _scorer(broadcast: Any, sha256: str, features: list[str], id_column: str, arms: list[str] | None
            ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = _worker_model(broadcast.value, sha256)
        for frame in frames:
            if len(frame) == 0:
                continue
            if not arms:
                yield pd.DataFrame({id_column: frame[id_column], "uplift": model.predict(frame[features])})
                continue
            per_arm = np.asarray(model.predict_arms(frame[features]), dtype=np.float64)
            uplift, chosen = best_arm_columns(per_arm, arms)
            out: dict[str, Any] = {id_column: frame[id_column].to_numpy(), "uplift": uplift}
            out.update({f"uplift_{a}": per_arm[:, i] for i, a in enumerate(arms)})
            out["chosen_arm"] = chosen
            yield pd.DataFrame(out)
    return score


def _output_schema(id_column: str, id_type: str, arms: list[str] | None) -> str:
    """Spark DDL of the output: id, ``uplift`` and, for a several-treatment model, ``uplift_<arm>`` per
    arm and ``chosen_arm`` (the local engine's columns, in the same order)."""
    columns = [f"`{id_column}` {id_type}", "uplift double"]
    columns += [f"`uplift_{a}` double" for a in arms or []]
    columns += ["chosen_arm string"] if arms else []
    return ", ".join(columns)


def score_parquet_spark(payload: bytes, sha256: str, features: list[str], input_path: str | Path,
                        output_path: str | Path, *, id_column: str = "user_id", master: str = "local[2]",
                        batch_rows: int = 10_000, spark: SparkSession | None = None,
                        progress: bool = False) -> BatchScoreResult:
    """Score ``input_path`` on Spark into the Parquet directory ``output_path`` (id, ``uplift``; a
    several-treatment model adds ``uplift_<arm>`` per arm and ``chosen_arm``, as the local engine does).

    ``payload``/``sha256`` come from :meth:`models.registry.ModelRegistry.payload`. Pass ``spark`` to
    reuse a session (e.g. a cluster's); otherwise a local one on ``master`` is started and stopped.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.resolve() == input_path.resolve():
        raise InvalidArgument("--output must differ from --input", field="--output")
    check_input(input_path, features, id_column)  # clear errors before a slow JVM start
    own_session = spark is None
    session = spark or local_spark(master, batch_rows=batch_rows, progress=progress)
    started = time.perf_counter()
    tmp = partial_path(output_path)
    try:
        df = session.read.parquet(str(input_path)).select(id_column, *features)
        id_type = df.schema[id_column].dataType.simpleString()
        # The driver reads the arms of a several-treatment model once (cached like a worker's copy).
        arms: list[str] | None = getattr(_worker_model(payload, sha256), "arms", None)
        broadcast = session.sparkContext.broadcast(payload)
        scored = df.mapInPandas(_scorer(broadcast, sha256, features, id_column, arms),
                                schema=_output_schema(id_column, id_type, arms))
        scored.write.mode("overwrite").parquet(str(tmp))
        rows = sum(pq.ParquetFile(part).metadata.num_rows for part in tmp.glob("part-*.parquet"))
        broadcast.unpersist()
        if output_path.is_dir():
            shutil.rmtree(output_path)
        elif output_path.exists():
            output_path.unlink()
        os.replace(tmp, output_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if own_session:
            session.stop()
    seconds = time.perf_counter() - started
    return BatchScoreResult("spark", str(input_path), str(output_path), rows, seconds,
                            rows / seconds if seconds > 0 else float("inf"))
