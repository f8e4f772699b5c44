"""``mds features bench-load``: rows/s of a checked bulk load, local or Spark, on a generated table.

The table has ``users`` rows and ``features`` feature columns of every dtype (about 30% int, 30%
float, 15% bool, 15% category, 10% string_set), in groups of at most 16 features, under a catalog
built for the run; it is written as Parquet with 50,000-row row groups (what warehouse exports and
Spark write), or as CSV. The timed part is the whole load as a user runs it: key pre-pass, the check
of every cell (``--on-bad-row fail`` checks the whole table before writing; ``skip`` checks each chunk
as it writes it), encoding and the Redis writes.
Spark's session start is timed separately. Keys go to a throwaway namespace, deleted afterwards.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import InvalidArgument
from core.redis import connect
from core.settings import Settings
from features.catalog import Catalog, DType
from features.loader import BAD_ROW_POLICIES, ENGINES, batch_settings, bulk_load
from features.store import RedisOnlineStore

__all__ = ["bench_catalog", "bench_table", "run_load_bench"]

GROUP_SIZE = 16
ROW_GROUP_ROWS = 50_000
_WORDS = [f"w{i:02d}" for i in range(24)]
_DTYPE_CYCLE = [DType.INT, DType.FLOAT, DType.INT, DType.FLOAT, DType.BOOL, DType.CATEGORY, DType.INT,
                DType.FLOAT, DType.CATEGORY, DType.BOOL, DType.STRING_SET, DType.INT, DType.FLOAT,
                DType.CATEGORY, DType.INT, DType.FLOAT, DType.BOOL, DType.STRING_SET, DType.INT, DType.FLOAT]


def bench_catalog(n_features: int) -> Catalog:
    """A catalog of ``n_features`` user features cycling through every dtype."""
    features: list[dict[str, Any]] = []
    for i in range(n_features):
        dtype = _DTYPE_CYCLE[i % len(_DTYPE_CYCLE)]
        spec: dict[str, Any] = {"name": f"f{i:03d}_{dtype.value}", "dtype": dtype.value}
        if dtype == DType.INT:
            spec["range"] = [0, 1_000_000]
        elif dtype == DType.FLOAT:
            spec["range"] = [0, 1e9]
        elif dtype == DType.CATEGORY:
            spec["values"] = _WORDS[:12]
        elif dtype == DType.STRING_SET:
            spec["values"] = _WORDS
        features.append(spec)
    groups = [{"name": f"group_{g}", "entity": "user", "ttl_seconds": 86_400,
               "features": features[start:start + GROUP_SIZE]}
              for g, start in enumerate(range(0, n_features, GROUP_SIZE))]
    return Catalog.model_validate({"name": f"bench_{n_features}", "entities": {"user": {"key": "user_id"}},
                                   "groups": groups})


def bench_table(catalog: Catalog, users: int, seed: int = 0) -> pd.DataFrame:
    """``users`` rows of plausible values for every feature of ``catalog`` (about 2% missing)."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {"user_id": np.array([f"u{i:08d}" for i in range(users)], dtype=object)}
    words = np.array(_WORDS, dtype=object)
    for feature in catalog.features_of("user"):
        missing = rng.random(users) < 0.02
        if feature.dtype == DType.INT:
            column: Any = pd.array(rng.integers(0, 1000, users), dtype="Int64")
            column[missing] = pd.NA
        elif feature.dtype == DType.FLOAT:
            column = np.round(rng.gamma(2.0, 150.0, users), 2)
            column[missing] = np.nan
        elif feature.dtype == DType.BOOL:
            column = pd.array(rng.random(users) < 0.3, dtype="boolean")
            column[missing] = pd.NA
        elif feature.dtype == DType.CATEGORY:
            column = words[:12][rng.integers(0, 12, users)]
            column[missing] = None
        else:
            sizes = rng.integers(0, 4, users)
            picks = rng.integers(0, len(_WORDS), int(sizes.sum()))
            column = np.empty(users, dtype=object)
            column[:] = np.split(words[picks], np.cumsum(sizes)[:-1])
            column[missing] = None
        data[feature.name] = column
    return pd.DataFrame(data)


def _tree_cpu_seconds() -> float:
    """CPU seconds used so far by this process and its descendants (Spark's JVM and Python workers).

    On a shared machine, wall time mostly measures the neighbours; CPU time measures the loader.
    Redis's own CPU is not counted.
    """
    me = psutil.Process()
    total = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def run_load_bench(settings: Settings, *, users: int = 1_000_000, n_features: int = 40, engine: str = "local",
                   master: str = "local[2]", input_format: str = "parquet", chunk_rows: int = 5_000,
                   on_bad_row: str = "fail", seed: int = 0, progress: bool = True) -> dict[str, Any]:
    if engine not in ENGINES:
        raise InvalidArgument(f"--engine: choose {' or '.join(ENGINES)}", field="--engine")
    if on_bad_row not in BAD_ROW_POLICIES:
        raise InvalidArgument(f"--on-bad-row: choose {' or '.join(BAD_ROW_POLICIES)}", field="--on-bad-row")
    if input_format not in ("parquet", "csv"):
        raise InvalidArgument("--format: choose parquet or csv", field="--format")
    if engine == "spark" and input_format == "csv":
        raise InvalidArgument("--engine spark reads Parquet; use --format parquet", field="--format")
    catalog = bench_catalog(n_features)
    started = time.perf_counter()
    frame = bench_table(catalog, users, seed)
    generated_s = time.perf_counter() - started
    namespace = f"mdsloadbench-{uuid.uuid4().hex[:8]}"
    store = RedisOnlineStore(connect(batch_settings(settings)), catalog, namespace)
    result: dict[str, Any] = {"engine": engine, "namespace": namespace, "users": users, "features": n_features,
                              "format": input_format,
                              "chunk_rows": chunk_rows, "on_bad_row": on_bad_row, "generate_s": generated_s, "cpus": os.cpu_count(),
                              "load_average": os.getloadavg()[0], "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="mds-load-bench-") as tmp:
        path = Path(tmp) / f"users.{input_format}"
        if input_format == "parquet":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=ROW_GROUP_ROWS)
        else:
            text = frame.copy()
            for f in catalog.features_of("user"):
                if f.dtype == DType.STRING_SET:
                    text[f.name] = text[f.name].map(lambda w: None if w is None else "|".join(w))
            text.to_csv(path, index=False)
        del frame
        result["input_mb"] = path.stat().st_size / 2**20
        options: dict[str, Any] = {}
        spark = None
        if engine == "spark":
            from features.spark_loader import local_spark

            session_started = time.perf_counter()
            spark = local_spark(master, progress=progress, batch_rows=chunk_rows)
            result["spark_session_start_s"] = time.perf_counter() - session_started
            result["master"] = master
            options = {"spark": spark, "master": master}
        cpu_before = _tree_cpu_seconds()
        try:
            load = bulk_load(store, "user", path, chunk_rows=chunk_rows, engine=engine,  # type: ignore[arg-type]
                             on_bad_row=on_bad_row, progress=progress, **options)  # type: ignore[arg-type]
        finally:
            if spark is not None:
                spark.stop()
            store.clear()
        cpu_after = _tree_cpu_seconds()
    if load.written != users:
        raise RuntimeError(f"the load wrote {load.written:,} of {users:,} rows")
    cpu = cpu_after - cpu_before
    result.update({"load_s": load.seconds, "check_s": load.check_seconds, "rows_per_s": load.written / load.seconds,
                   "cells_per_s": load.written * n_features / load.seconds, "cpu_s": cpu,
                   "rows_per_cpu_s": load.written / max(cpu, 1e-9)})
    return result

