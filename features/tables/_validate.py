"""Checking an input table against the catalog, column by column, before anything is written.

Two levels. :func:`plan_table` checks the table's *columns* (unknown, incomplete groups, the key
column): a structural problem stops the load before any row is read. :class:`ChunkValidator` checks
the *cells* of each chunk and turns raw values (CSV text or Parquet types) into the catalog's types:

* int / float — a number (``12``, ``3.5``); an int must be whole; both must lie inside ``range``.
* bool — ``true``/``false``, ``1``/``0``, ``yes``/``no``, ``t``/``f``, ``y``/``n`` (any case), or a Parquet boolean.
* category — one of the allowed ``values``; surrounding spaces and case are ignored (``Phone`` loads
  as ``phone``) unless two allowed values differ only by case. The canonical value is stored.
* string_set — a Parquet list column of allowed words, or a text cell of words joined by ``|``
  (``books|food``); an empty text cell is the empty set (as for ``MDS_POPULATION``: a CSV has no null
  set). Words match like category values.
* every other type — an empty CSV cell or a Parquet null is a missing value, which is allowed (a Parquet
  null set is a missing set).
* the key — present, 1-64 of ``A-Za-z0-9_.-``, and unique over the whole table (every row of a
  duplicated key is rejected: which one is right cannot be guessed). A table without a key column
  (an experiment export such as Hillstrom's) can name its rows by number: key column ``@row`` keys
  row 1 as ``"1"``, row 2 as ``"2"``, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from core.errors import InvalidArgument
from features.catalog import Catalog, DType, Feature
from features.population import SET_SEPARATOR
from features.store import KEY_PATTERN
from features.tables._report import MAX_SAMPLES, Problem, TableReport

__all__ = ["SET_DELIMITER", "ROW_NUMBER_KEY", "CheckedChunk", "ChunkValidator", "TablePlan", "find_bad_keys",
           "normalize_keys", "plan_table"]

SET_DELIMITER = SET_SEPARATOR  # one spelling of a set in text, shared with the population reader
ROW_NUMBER_KEY = "@row"  # key each row by its 1-based row number
_BOOL_WORDS: dict[str, object] = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
                                  "t": True, "f": False, "y": True, "n": False}
_BOOL_TABLE: dict[object, object] = {True: True, False: False, "True": True, "False": False}
_BOOL_TABLE.update(_BOOL_WORDS)


@dataclass(frozen=True)
class TablePlan:
    """Which input columns feed which catalog features of which entity."""

    entity: str
    key_column: str  # the input's key column
    catalog_key: str  # the entity's key column in the catalog (what the store expects)
    features: tuple[Feature, ...]
    ignored: tuple[str, ...] = ()

    @property
    def row_number_keys(self) -> bool:
        return self.key_column == ROW_NUMBER_KEY

    @property
    def read_columns(self) -> list[str]:
        keys = [] if self.row_number_keys else [self.key_column]
        return [*keys, *(f.name for f in self.features)]


def plan_table(catalog: Catalog, entity: str, columns: list[str], *, source: str, key_column: str | None = None,
               ignore: Iterable[str] = ()) -> tuple[TablePlan, TableReport]:
    """Match ``columns`` to the catalog; the report holds only structural problems (empty when fine)."""
    catalog_key = catalog.entity(entity).key
    key_column = key_column or catalog_key
    ignored = tuple(ignore)
    report = TableReport(source)
    stray = [c for c in ignored if c not in columns]
    if stray:
        raise InvalidArgument(f"--ignore-columns: the table has no column {stray[0]!r}", field="--ignore-columns")
    if key_column not in columns and key_column != ROW_NUMBER_KEY:
        report.problem(key_column, Problem.MISSING_KEY_COLUMN,
                       f"the table has no key column {key_column!r} (name it with --key-col, "
                       f"or key rows by number with --key-col {ROW_NUMBER_KEY})")
    own = {f.name: f for f in catalog.features_of(entity)}
    for column in columns:
        if column == key_column or column in ignored or column in own:
            continue
        other = catalog.features.get(column)
        detail = (f"feature of entity {other.entity!r}, not {entity!r}" if other else
                  f"not a {entity} feature of catalog {catalog.name!r} (drop it with --ignore-columns)")
        report.problem(column, Problem.UNKNOWN_COLUMN, detail)
    present = [own[c] for c in columns if c in own and c not in ignored]
    for group in catalog.groups_of(entity):
        names = [f.name for f in group.features]
        have = [n for n in names if any(f.name == n for f in present)]
        if have and len(have) != len(names):
            missing = [n for n in names if n not in have]
            report.problem(missing[0], Problem.INCOMPLETE_GROUP,
                           f"group {group.name!r} is stored whole: add {missing} (empty columns mean missing values)")
    if not present:
        report.problem("(columns)", Problem.NO_FEATURES, f"the table has no {entity} feature of catalog {catalog.name!r}")
    return TablePlan(entity, key_column, catalog_key, tuple(present), ignored), report


def normalize_keys(column: pd.Series) -> np.ndarray:
    """Keys as text (object array, None where missing): whole numbers lose any ``.0``, text is stripped."""
    if is_bool_dtype(column.dtype):
        raise InvalidArgument("a boolean column cannot be an entity key", field=str(column.name))
    if is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.full(len(values), None, dtype=object)
        present = ~np.isnan(values)
        whole = present & (values == np.round(values))
        out[whole] = values[whole].astype(np.int64).astype(str)
        out[present & ~whole] = values[present & ~whole].astype(str)
        return out
    text = column.astype(object).where(column.notna(), None)
    out = np.array([None if v is None else (str(v).strip() or None) for v in text], dtype=object)
    return out


def find_bad_keys(keys: np.ndarray) -> tuple[set[str], int]:
    """(the keys that occur more than once, how many rows have no key) over a whole key column."""
    series = pd.Series(keys, dtype=object)
    present = series.dropna()
    duplicated = present[present.duplicated(keep=False)]
    return set(duplicated.unique().tolist()), int(series.isna().sum())


@dataclass
class CheckedChunk:
    """One chunk after validation: typed values for every row, which rows are bad and why."""

    clean: pd.DataFrame
    bad: np.ndarray
    reasons: list[str]  # per row; "" for a good row
    report: TableReport = field(repr=False)

    def good(self) -> pd.DataFrame:
        return self.clean[~self.bad] if self.bad.any() else self.clean


def _folded(values: Iterable[str]) -> dict[str, str]:
    """Lower-cased value → value, for the values that stay distinct when case is ignored."""
    by_lower: dict[str, list[str]] = {}
    for v in values:
        by_lower.setdefault(v.lower(), []).append(v)
    return {low: group[0] for low, group in by_lower.items() if len(group) == 1}


def _lookup(column: pd.Series, table: Mapping[object, object], folded: Mapping[str, object]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value per row from ``table``, missing mask, not-in-table mask) of a text-like column.

    The fast path is one hashed lookup of the raw cells; only cells that miss it (padding, case,
    empty text) are stripped and then looked up lower-cased in ``folded``, one by one.
    """
    raw = column.to_numpy(dtype=object)
    missing = pd.isna(raw)
    found = pd.Series(raw, dtype=object).map(table)
    values = found.to_numpy(dtype=object)
    wrong = pd.isna(values) & ~missing
    for i in np.flatnonzero(wrong).tolist():
        text = str(raw[i]).strip()
        if not text:
            missing[i], wrong[i] = True, False
            continue
        value = table.get(text)
        if value is None:
            value = folded.get(text.lower())
        if value is not None:
            values[i], wrong[i] = value, False
    values[missing | wrong] = None
    return values, missing, wrong


Finding = tuple[np.ndarray, Problem, str]  # (rows with it, what, detail)
SetFinding = tuple[np.ndarray, Problem, str, list[object]]  # ... and the offending words


def _check_number(column: pd.Series, feature: Feature) -> tuple[np.ndarray, list[Finding]]:
    findings: list[Finding] = []
    if is_numeric_dtype(column.dtype) or is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
    else:
        raw = column.to_numpy(dtype=object)
        missing = pd.isna(raw)
        values = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan)
        wrong = np.isnan(values) & ~missing
        for i in np.flatnonzero(wrong).tolist():  # empty text is a missing value, not a mismatch
            if not str(raw[i]).strip():
                missing[i], wrong[i] = True, False
        if wrong.any():
            findings.append((wrong, Problem.TYPE_MISMATCH, f"{feature.dtype.value} expected"))
        values = np.where(wrong, np.nan, values)
    present = ~np.isnan(values)
    if feature.dtype == DType.INT:
        fractional = present & (values != np.round(values))
        if fractional.any():
            findings.append((fractional, Problem.TYPE_MISMATCH, "a whole number expected"))
            present &= ~fractional
    if feature.range is not None:
        lo, hi = feature.range
        outside = present & ((values < lo) | (values > hi))
        if outside.any():
            findings.append((outside, Problem.OUT_OF_RANGE, f"allowed range is [{lo:g}, {hi:g}]"))
    return values, findings


def _check_bool(column: pd.Series) -> tuple[np.ndarray, list[Finding]]:
    if is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=object, na_value=None), []
    if is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        wrong = ~missing & (values != 0) & (values != 1)
        out = (values == 1).astype(object)
        out[missing | wrong] = None
        return out, [(wrong, Problem.TYPE_MISMATCH, "bool expected (0 or 1)")] if wrong.any() else []
    out, _, wrong = _lookup(column, _BOOL_TABLE, _BOOL_WORDS)
    return out, [(wrong, Problem.TYPE_MISMATCH, "bool expected (true/false, 1/0, yes/no)")] if wrong.any() else []


def _check_category(column: pd.Series, feature: Feature) -> tuple[np.ndarray, list[Finding]]:
    if is_numeric_dtype(column.dtype):
        column = pd.Series(normalize_keys(column), dtype=object)
    allowed = list(feature.values or ())
    out, _, wrong = _lookup(column, {v: v for v in allowed}, _folded(allowed))
    if not wrong.any():
        return out, []
    shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
    return out, [(wrong, Problem.NOT_ALLOWED, f"allowed values: {shown}")]


def _check_set(column: pd.Series, feature: Feature) -> tuple[np.ndarray, list[Finding], list[object]]:
    allowed = frozenset(feature.values or ())
    folded = _folded(feature.values or ())
    raw = column.to_numpy(dtype=object)
    out = np.full(len(raw), None, dtype=object)
    wrong_type = np.zeros(len(raw), dtype=bool)
    not_allowed = np.zeros(len(raw), dtype=bool)
    bad_words: list[object] = []
    for i, value in enumerate(raw):
        if isinstance(value, str):
            words = [w.strip() for w in value.split(SET_DELIMITER) if w.strip()]  # "" → the empty set
        elif isinstance(value, np.ndarray | list | tuple | set | frozenset):
            words = value.tolist() if isinstance(value, np.ndarray) else list(value)
        elif value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        else:
            wrong_type[i] = True
            continue
        try:
            fits = allowed.issuperset(words)
        except TypeError:  # an unhashable element
            fits = False
        if not fits:  # the slow path: padding or case
            canonical = [folded.get(w.strip().lower()) if isinstance(w, str) else None for w in words]
            if all(c is not None for c in canonical):
                words, fits = [c for c in canonical if c is not None], True
        if fits:
            out[i] = words
        else:
            not_allowed[i] = True
            if len(bad_words) < MAX_SAMPLES:
                bad_words.extend(w for w in words if not (isinstance(w, str) and w.strip().lower() in folded))
    findings: list[Finding] = []
    if wrong_type.any():
        findings.append((wrong_type, Problem.TYPE_MISMATCH,
                         f"a set expected: a list, or words joined by {SET_DELIMITER!r}"))
    if not_allowed.any():
        shown = ", ".join((feature.values or ())[:12]) + (", ..." if len(feature.values or ()) > 12 else "")
        findings.append((not_allowed, Problem.NOT_ALLOWED, f"every word must be one of: {shown}"))
    return out, findings, bad_words


class ChunkValidator:
    """Validates chunks of one table; ``duplicate_keys`` comes from a pass over the whole key column."""

    def __init__(self, plan: TablePlan, duplicate_keys: set[str], *, source: str) -> None:
        self.plan = plan
        self.duplicate_keys = duplicate_keys
        self.source = source

    def check(self, raw: pd.DataFrame, first_row: int) -> CheckedChunk:
        """Validate ``raw`` whose first row is table row ``first_row`` (1-based)."""
        plan = self.plan
        n = len(raw)
        report = TableReport(self.source, rows_checked=n)
        bad = np.zeros(n, dtype=bool)
        reasons: dict[int, list[str]] = {}
        clean: dict[str, object] = {}

        def record(column: str, rows: np.ndarray, kind: Problem, detail: str,
                   samples: list[object] | None = None) -> None:
            idx = np.flatnonzero(rows)
            if not idx.size:
                return
            nonlocal bad
            bad |= rows
            if samples is None:
                samples = raw[column].iloc[idx[:MAX_SAMPLES * 4]].tolist()
            report.problem(column, kind, detail).add((idx + first_row).tolist(), samples, int(idx.size))
            for i in idx.tolist():
                reasons.setdefault(i, []).append(f"{column}: {kind.value}")

        if plan.row_number_keys:
            keys = np.arange(first_row, first_row + n).astype(str).astype(object)
        else:
            keys = normalize_keys(raw[plan.key_column])
        missing_key = np.array([k is None for k in keys], dtype=bool)
        record(plan.key_column, missing_key, Problem.MISSING_KEY, "every row needs a key")
        match = KEY_PATTERN.match
        malformed = np.array([k is not None and match(k) is None for k in keys], dtype=bool)
        record(plan.key_column, malformed, Problem.MALFORMED_KEY, "use 1-64 letters, digits, '_', '.' or '-'")
        if self.duplicate_keys:
            dup = np.array([k in self.duplicate_keys for k in keys], dtype=bool)
            record(plan.key_column, dup, Problem.DUPLICATE_KEY, "the key occurs more than once in the table")
        clean[plan.catalog_key] = keys
        for feature in plan.features:
            column = raw[feature.name]
            words: list[object] | None = None
            if feature.dtype in (DType.INT, DType.FLOAT):
                values, findings = _check_number(column, feature)
            elif feature.dtype == DType.BOOL:
                values, findings = _check_bool(column)
            elif feature.dtype == DType.CATEGORY:
                values, findings = _check_category(column, feature)
            else:
                values, findings, words = _check_set(column, feature)
            for rows, kind, detail in findings:
                record(feature.name, rows, kind, detail, words if kind == Problem.NOT_ALLOWED else None)
            clean[feature.name] = values
        report.rows_rejected = int(bad.sum())
        row_reasons = [""] * n
        for i, parts in reasons.items():
            row_reasons[i] = "; ".join(parts)
        return CheckedChunk(pd.DataFrame(clean), bad, row_reasons, report)
