"""A synthetic experiment of any size, written batch by batch (for the streaming benchmark)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["TRUE_VISIT_RATES", "synthetic_batch", "write_synthetic"]

# Designed effects: visit probability per arm; spend ~ visit * (0.3 * pre_spend + Gamma); region-driven mix.
TRUE_VISIT_RATES = {"control": 0.10, "email": 0.13, "sms": 0.11}


def synthetic_batch(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    arms = np.array(list(TRUE_VISIT_RATES))
    arm = arms[rng.integers(0, len(arms), rows)]
    pre = rng.gamma(2.0, 40.0, rows)
    rate = np.select([arm == a for a in arms], list(TRUE_VISIT_RATES.values()))
    visit = (rng.random(rows) < rate).astype(np.int8)
    spend = np.round(visit * (0.3 * pre + rng.gamma(2.0, 15.0, rows)), 2)
    region = np.array(["north", "south", "east", "west"])[rng.integers(0, 4, rows)]
    return pd.DataFrame({"arm": arm, "region": region, "pre_spend": np.round(pre, 2), "visit": visit,
                         "spend": spend})


def write_synthetic(path: str | Path, rows: int, seed: int = 0, batch_rows: int = 1_000_000) -> Path:
    """Write ``rows`` users to ``path`` (.csv or .parquet) without holding more than one batch in memory."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    try:
        for start in range(0, rows, batch_rows):
            table = pa.Table.from_pandas(synthetic_batch(min(batch_rows, rows - start), rng), preserve_index=False)
            if writer is None:
                writer = (pq.ParquetWriter(path, table.schema) if path.suffix == ".parquet"
                          else pacsv.CSVWriter(path, table.schema))
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path
