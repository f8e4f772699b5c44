"""Summarize where the data lives: one GROUP BY query (DuckDB, Spark SQL, any warehouse) → statistics.

    sql = summary_sql("events", "arm", ["visit", "spend"], covariate="pre_spend", dialect="spark")
    stats = stats_from_rows(spark.sql(sql).collect(), ["visit", "spend"], covariate="pre_spend")[""]

Only the per-arm sums leave the warehouse; the query result has one row per (group, arm).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from core.errors import InvalidArgument
from models.experiments._frames import MISSING_SEGMENT
from models.experiments._stats import ArmStats, ExperimentStats, arm_from_sums, sum_terms

__all__ = ["stats_from_rows", "summary_sql"]

Dialect = Literal["duckdb", "spark", "ansi"]


def _quote(name: str, dialect: Dialect) -> str:
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def summary_sql(table: str, arm_col: str, metrics: Sequence[str], covariate: str | None = None,
                ratios: Mapping[str, tuple[str, str]] | None = None, group_col: str | None = None,
                dialect: Dialect = "duckdb") -> str:
    """The aggregation query whose rows :func:`stats_from_rows` turns into :class:`ExperimentStats`.

    ``table`` is inserted as given (a table name or a parenthesized sub-query); column names are quoted.
    """
    if not table.strip():
        raise InvalidArgument("table is empty", field="table")
    ratios = dict(ratios or {})

    def num(col: str) -> str:
        return f"CAST({_quote(col, dialect)} AS DOUBLE)"

    select = [f"CAST({_quote(arm_col, dialect)} AS STRING) AS arm_"]
    group_by = ["1"]
    if group_col is not None:
        select.append(f"CAST({_quote(group_col, dialect)} AS STRING) AS group_")
        group_by.append("2")
    used = list(dict.fromkeys(c for cols in sum_terms(list(metrics), covariate, ratios).values() for c in cols))
    # SUM skips NULLs silently; count them so stats_from_rows can refuse instead of under-counting.
    select.append("(" + " + ".join(f"COUNT(*) - COUNT({_quote(c, dialect)})" for c in used) + ") AS nulls_")
    for alias, cols in sum_terms(list(metrics), covariate, ratios).items():
        if not cols:
            select.append(f"COUNT(*) AS {alias}")
        else:
            select.append(f"SUM({' * '.join(num(c) for c in cols)}) AS {alias}")
    return f"SELECT {', '.join(select)} FROM {table} GROUP BY {', '.join(group_by)}"


def stats_from_rows(rows: Iterable[Mapping[str, Any] | Any], metrics: Sequence[str], covariate: str | None = None,
                    ratios: Mapping[str, tuple[str, str]] | None = None) -> dict[str, ExperimentStats]:
    """Rows of :func:`summary_sql` (dicts, pandas records or Spark ``Row``s) → statistics per group.

    Without a group column the single group is ``""``.
    """
    ratios = dict(ratios or {})
    out: dict[str, dict[str, ArmStats]] = {}
    for row in rows:
        record = row.asDict() if hasattr(row, "asDict") else dict(row)
        if "group_" not in record:
            group = ""
        else:
            group = MISSING_SEGMENT if record["group_"] is None else str(record["group_"])
        arm = str(record["arm_"])
        nulls = record.get("nulls_") or 0
        if nulls or any(v is None for k, v in record.items() if k not in {"arm_", "group_"}):
            raise InvalidArgument(f"arm {arm!r}: {int(nulls)} missing metric/covariate value(s) in the table; "
                                  f"fill or filter them in the query", field="metrics")
        stats = arm_from_sums(record, list(metrics), covariate, ratios)
        arms = out.setdefault(group, {})
        arms[arm] = arms[arm] + stats if arm in arms else stats
    return {g: ExperimentStats(a) for g, a in out.items()}
