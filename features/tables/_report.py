"""The typed validation report of an input table: what is wrong, in which column, on which rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["ColumnProblem", "Problem", "TableReport", "MAX_ROWS_SHOWN", "MAX_SAMPLES"]

MAX_ROWS_SHOWN = 10  # row numbers kept per problem (the count is always exact)
MAX_SAMPLES = 5  # distinct offending values kept per problem


class Problem(StrEnum):
    """What is wrong with a cell (or, for the first four, with the table's columns)."""

    UNKNOWN_COLUMN = "unknown column"
    INCOMPLETE_GROUP = "incomplete feature group"
    MISSING_KEY_COLUMN = "missing key column"
    NO_FEATURES = "no feature columns"
    TYPE_MISMATCH = "type mismatch"
    NOT_ALLOWED = "value not allowed"
    OUT_OF_RANGE = "out of range"
    MISSING_KEY = "missing key"
    MALFORMED_KEY = "malformed key"
    DUPLICATE_KEY = "duplicate key"

    @property
    def is_structural(self) -> bool:
        """A problem of the table's shape: no row can be loaded until it is fixed."""
        return self in _STRUCTURAL


_STRUCTURAL = {Problem.UNKNOWN_COLUMN, Problem.INCOMPLETE_GROUP, Problem.MISSING_KEY_COLUMN, Problem.NO_FEATURES}


@dataclass
class ColumnProblem:
    """One kind of problem in one column: how many rows, the first row numbers and sample values."""

    column: str
    problem: Problem
    detail: str
    count: int = 0
    rows: list[int] = field(default_factory=list)  # 1-based data rows (row 1 = the first row after a header)
    samples: list[str] = field(default_factory=list)

    def add(self, rows: list[int], values: list[object], count: int) -> None:
        self.count += count
        room = MAX_ROWS_SHOWN - len(self.rows)
        if room > 0:
            self.rows.extend(rows[:room])
        for value in values:
            if len(self.samples) >= MAX_SAMPLES:
                break
            text = repr(value)
            if text not in self.samples:
                self.samples.append(text)

    def render(self) -> str:
        where = ", ".join(map(str, self.rows)) + (", ..." if self.count > len(self.rows) else "")
        line = f"  {self.column}: {self.problem.value} — {self.detail}"
        if self.count:
            line += (f"; 1 row (row {where})" if self.count == 1 else f"; {self.count:,} rows (rows {where})")
        if self.samples:
            line += f"; e.g. {', '.join(self.samples)}"
        return line


@dataclass
class TableReport:
    """Everything wrong with a table, merged over its chunks (or Spark partitions)."""

    source: str
    rows_checked: int = 0
    rows_rejected: int = 0
    problems: dict[tuple[str, Problem], ColumnProblem] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def structural(self) -> list[ColumnProblem]:
        return [p for p in self.problems.values() if p.problem.is_structural]

    def problem(self, column: str, problem: Problem, detail: str) -> ColumnProblem:
        """The entry for (column, problem), created on first use with ``detail``."""
        entry = self.problems.get((column, problem))
        if entry is None:
            entry = self.problems[(column, problem)] = ColumnProblem(column, problem, detail)
        return entry

    def merge(self, other: TableReport) -> None:
        """Fold a later part's report into this one (parts merged in row order keep rows sorted)."""
        self.rows_checked += other.rows_checked
        self.rows_rejected += other.rows_rejected
        for (column, kind), theirs in other.problems.items():
            self.problem(column, kind, theirs.detail).add(theirs.rows, [], theirs.count)
            mine = self.problems[(column, kind)]
            for sample in theirs.samples:
                if len(mine.samples) < MAX_SAMPLES and sample not in mine.samples:
                    mine.samples.append(sample)

    def first_column(self) -> str:
        """The column of the first problem (what a CLI error names)."""
        return next(iter(self.problems.values())).column if self.problems else ""

    def render(self) -> str:
        if self.ok:
            return f"{self.source}: {self.rows_checked:,} rows, no problems"
        if self.rows_checked:
            head = (f"{self.source}: {len(self.problems)} problem(s) in {self.rows_checked:,} rows checked"
                    + (f", {self.rows_rejected:,} of them bad" if self.rows_rejected else "")
                    + " (rows numbered from 1, the first row after the header)")
        else:
            head = f"{self.source}: {len(self.problems)} problem(s) with its columns; no row was read"
        order = sorted(self.problems.values(), key=lambda p: (not p.problem.is_structural, p.column))
        return "\n".join([head, *(p.render() for p in order)])
