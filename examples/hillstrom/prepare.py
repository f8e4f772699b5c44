"""Turn Hillstrom's raw CSV into the two tables a team exports from its warehouse.

    python examples/hillstrom/prepare.py --out var/hillstrom

writes ``customers.parquet`` (the catalog's columns under a ``customer_id`` key, values spelled as
``catalog.yaml`` allows: what gets loaded into Redis) and ``experiment.parquet`` (the experiment's
training table: ``customer_id``, the same pre-period catalog columns as they stood at send time, the
arm ``segment`` and the outcomes ``visit``, ``conversion``, ``spend``). This is the one step that knows
Hillstrom's raw spelling; everything after it is plain MDS commands.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # see services/cli/__init__.py: exit-time aborts
import pandas as pd  # noqa: E402

from core.paths import hillstrom_csv

FEATURES = ["recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel"]
OUTCOMES = ["segment", "visit", "conversion", "spend"]


def _band(raw: str) -> str:
    """'2) $100 - $200' -> '100-200'; '7) $1,000 +' -> '1000+'."""
    numbers = re.findall(r"\$([\d,]+)", raw)
    low, *high = (n.replace(",", "") for n in numbers)
    return f"{low}-{high[0]}" if high else f"{low}+"


def prepare(source: Path, out: Path, rows: int | None = None) -> tuple[Path, Path]:
    """Write both tables under ``out``; ``rows``: only the first that many customers (a slice for tests)."""
    raw = pd.read_csv(source, nrows=rows)
    ids = pd.Series([f"c{i:05d}" for i in range(len(raw))], name="customer_id")
    customers = pd.DataFrame({
        "customer_id": ids,
        "recency": raw["recency"].astype("int64"),
        "history_segment": raw["history_segment"].map(_band),
        "history": raw["history"].astype("float64"),
        "mens": raw["mens"].astype(bool),
        "womens": raw["womens"].astype(bool),
        # The data set spells suburban 'Surburban'.
        "zip_code": raw["zip_code"].str.lower().replace({"surburban": "suburban"}),
        "newbie": raw["newbie"].astype(bool),
        "channel": raw["channel"].str.lower(),
    })
    experiment = pd.concat([customers, raw[OUTCOMES]], axis=1)
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "customers.parquet", out / "experiment.parquet"
    customers.to_parquet(paths[0], index=False)
    experiment.to_parquet(paths[1], index=False)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="Hillstrom CSV (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=Path("var/hillstrom"), help="output folder")
    parser.add_argument("--rows", type=int, default=None, help="only the first ROWS customers (default: all 64,000)")
    args = parser.parse_args()
    if args.rows is not None and args.rows < 1:
        parser.error("--rows must be at least 1")
    try:
        customers, experiment = prepare(args.source or hillstrom_csv(), args.out, args.rows)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {customers} and {experiment} ({len(pd.read_parquet(customers, columns=['customer_id'])):,} customers)")


if __name__ == "__main__":
    main()
