"""Input tables (Parquet or CSV) checked against the catalog before anything reaches the store.

:func:`open_table` reads a table in chunks; :func:`plan_table` matches its columns to the catalog;
:class:`ChunkValidator` checks every cell and types it; :class:`TableReport` says what is wrong, in
which column, on which rows, with sample values; :class:`RejectedRows` keeps the rows a
``--on-bad-row skip`` load leaves out. The loaders (:mod:`features.loader`, :mod:`features.spark_loader`)
put these together.
"""

from features.tables._rejected import REASON_COLUMN, ROW_COLUMN, RejectedRows
from features.tables._report import ColumnProblem, Problem, TableReport
from features.tables._source import TableSource, load_id_of, open_table
from features.tables._validate import (
    ROW_NUMBER_KEY,
    SET_DELIMITER,
    CheckedChunk,
    ChunkValidator,
    TablePlan,
    find_bad_keys,
    normalize_keys,
    plan_table,
)

__all__ = [
    "REASON_COLUMN",
    "ROW_COLUMN",
    "ROW_NUMBER_KEY",
    "SET_DELIMITER",
    "CheckedChunk",
    "ChunkValidator",
    "ColumnProblem",
    "Problem",
    "RejectedRows",
    "TablePlan",
    "TableReport",
    "TableSource",
    "find_bad_keys",
    "load_id_of",
    "normalize_keys",
    "open_table",
    "plan_table",
]
