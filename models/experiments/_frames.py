"""From rows to sufficient statistics: validated columns, and one streamed pass over CSV / Parquet files.

A file of any size is read in record batches (pyarrow dataset), each batch summarized into
:class:`ExperimentStats`, and the summaries added up, so memory stays at one batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.errors import InvalidArgument
from models.experiments._stats import ArmStats, ExperimentStats, FloatArray, arm_from_sums, sum_terms

__all__ = ["FileSummary", "coerce_metric", "parse_metrics", "score_quantile", "summarize_file"]

SELECTED, NOT_SELECTED = "selected", "not selected"
MISSING_SEGMENT = "(missing)"


def coerce_metric(values: pd.Series, column: str, flag: str | None = None) -> pd.Series:
    """``values`` as float64, or :class:`InvalidArgument` naming ``column`` (text or missing values)."""
    flag = flag or column
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        out = values.astype(np.float64)
    else:
        out = pd.to_numeric(values, errors="coerce")
        bad = out.isna() & values.notna()
        if bad.any():
            example = values[bad].iloc[0]
            raise InvalidArgument(f"column {column!r} must be numeric but holds text such as {example!r} "
                                  f"({int(bad.sum())} value(s))", field=flag)
        out = out.astype(np.float64)
    missing = int(out.isna().sum())
    if missing:
        raise InvalidArgument(f"column {column!r} has {missing} missing value(s); fill or drop them first",
                              field=flag)
    if not np.isfinite(out.to_numpy()).all():
        raise InvalidArgument(f"column {column!r} holds infinite values", field=flag)
    return out


def parse_metrics(spec: Sequence[str]) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Split metric names into plain metrics and ratio metrics written ``numerator/denominator``."""
    plain: list[str] = []
    ratios: dict[str, tuple[str, str]] = {}
    for raw in spec:
        name = raw.strip()
        if not name:
            continue
        if "/" in name:
            num, _, den = name.partition("/")
            if not num.strip() or not den.strip():
                raise InvalidArgument(f"ratio metric {name!r} must look like numerator/denominator",
                                      field="--metrics")
            ratios[name] = (num.strip(), den.strip())
        elif name not in plain:
            plain.append(name)
    if not plain and not ratios:
        raise InvalidArgument("give at least one metric", field="--metrics")
    return plain, ratios


@dataclass(frozen=True, slots=True)
class FileSummary:
    """One pass over a file: whole-experiment stats, per-segment stats, and per policy-selection stats."""

    rows: int
    stats: ExperimentStats
    by_segment: dict[str, ExperimentStats] = field(default_factory=dict)
    by_selection: dict[str, ExperimentStats] = field(default_factory=dict)


def _dataset(path: Path, string_cols: Sequence[str], numeric_cols: Sequence[str]):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return ds.dataset(path, format="parquet")
    if suffix in {".csv", ".txt"} or path.name.endswith(".csv.gz"):
        # Numeric columns are declared so a text cell anywhere (not only in the first block) fails loudly.
        types = {c: pa.string() for c in string_cols} | {c: pa.float64() for c in numeric_cols}
        fmt = ds.CsvFileFormat(convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
                               read_options=pacsv.ReadOptions(block_size=8 << 20))
        return ds.dataset(path, format=fmt)
    raise InvalidArgument(f"{path.name}: unsupported file type {suffix!r}; use .csv or .parquet", field="--data")


def _header(path: Path) -> list[str]:
    """Column names, read without type inference (so a bad cell cannot hide the header)."""
    import pyarrow.parquet as pq

    if path.suffix.lower() in {".parquet", ".pq"}:
        return list(pq.read_schema(path).names)
    import pyarrow.csv as pacsv

    try:
        with pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16),
                            convert_options=pacsv.ConvertOptions(column_types={})) as reader:
            return list(reader.schema.names)
    except Exception as exc:
        raise InvalidArgument(f"cannot read {path.name}: {exc}", field="--data") from exc


def _csv_error(exc: Exception, header: Sequence[str], flags: Mapping[str, str]) -> InvalidArgument:
    text = str(exc)
    match = re.search(r"column #(\d+)", text)
    if match and int(match.group(1)) < len(header):
        col = header[int(match.group(1))]
        value = re.search(r"invalid value '([^']*)'", text)
        what = f" such as {value.group(1)!r}" if value else ""
        return InvalidArgument(f"column {col!r} must be numeric but holds text{what}", field=flags.get(col, col))
    return InvalidArgument(f"cannot read the data file: {text}", field="--data")


def summarize_file(path: str | Path, arm_col: str, metrics: Sequence[str], covariate: str | None = None,
                   ratios: Mapping[str, tuple[str, str]] | None = None, segment_col: str | None = None,
                   score_col: str | None = None, score_threshold: float | None = None,
                   batch_rows: int = 250_000, on_batch: Callable[[int], None] | None = None) -> FileSummary:
    """Summarize ``path`` (CSV or Parquet) in one streamed pass.

    ``segment_col`` adds per-segment stats; ``score_col`` with ``score_threshold`` adds stats for the
    users a policy selects (``score >= threshold``) and the rest, for :func:`policy_values`.
    ``on_batch(rows)`` is called after each batch (for progress bars).
    """
    import pyarrow as pa

    path = Path(path)
    if not path.exists():
        raise InvalidArgument(f"data file {str(path)!r} does not exist", field="--data")
    ratios = dict(ratios or {})
    flags = {arm_col: "--arm-col", **{m: "--metrics" for m in metrics}}
    for num, den in ratios.values():
        flags.setdefault(num, "--metrics")
        flags.setdefault(den, "--metrics")
    for col, flag in ((covariate, "--covariate"), (segment_col, "--segments"), (score_col, "--policy-score")):
        if col is not None:
            flags[col] = flag
    numeric = [c for c, f in flags.items() if c != arm_col and c != segment_col]
    strings = [c for c in (arm_col, segment_col) if c is not None]
    header = _header(path)
    try:
        dataset = _dataset(path, strings, numeric)
    except pa.ArrowInvalid as exc:
        raise _csv_error(exc, header, flags) from exc
    for col, flag in flags.items():
        if col not in header:
            raise InvalidArgument(f"column {col!r} not in {path.name}; columns: {', '.join(header)}", field=flag)
    terms = sum_terms(list(metrics), covariate, ratios)
    by_total: dict[str, ExperimentStats] = {}
    by_segment: dict[str, ExperimentStats] = {}
    by_selection: dict[str, ExperimentStats] = {}
    rows = 0
    try:
        for batch in dataset.to_batches(columns=list(flags), batch_size=batch_rows):
            n = batch.num_rows
            if n == 0:
                continue
            values = {c: _numeric(batch.column(c), c, flags[c]) for c in numeric}
            arm_codes, arm_names = _codes(batch.column(arm_col), arm_col, missing=None)
            one = (np.zeros(n, dtype=np.int64), [""])
            _accumulate(by_total, _grouped_sums(one, (arm_codes, arm_names), values, terms, metrics, covariate, ratios))
            if segment_col is not None:
                seg = _codes(batch.column(segment_col), segment_col, missing=MISSING_SEGMENT)
                _accumulate(by_segment, _grouped_sums(seg, (arm_codes, arm_names), values, terms, metrics, covariate,
                                                      ratios))
            if score_col is not None and score_threshold is not None:
                chosen = (np.where(values[score_col] >= score_threshold, 0, 1), [SELECTED, NOT_SELECTED])
                _accumulate(by_selection, _grouped_sums(chosen, (arm_codes, arm_names), values, terms, metrics,
                                                        covariate, ratios))
            rows += n
            if on_batch is not None:
                on_batch(n)
    except pa.ArrowInvalid as exc:
        raise _csv_error(exc, header, flags) from exc
    if rows == 0:
        raise InvalidArgument(f"{path.name} has no rows", field="--data")
    return FileSummary(rows, by_total[""], by_segment, by_selection)


def _numeric(column: Any, name: str, flag: str) -> FloatArray:
    """One batch column as float64, or :class:`InvalidArgument` naming it (text, missing, infinite)."""
    import pyarrow as pa

    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
            or pa.types.is_boolean(column.type) or pa.types.is_decimal(column.type)):
        # text (e.g. a Parquet string column): coerce_metric says which value is not a number
        return coerce_metric(column.to_pandas(), name, flag).to_numpy()
    if column.null_count:
        raise InvalidArgument(f"column {name!r} has {column.null_count} missing value(s); fill or drop them first",
                              field=flag)
    out = np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if not np.isfinite(out).all():
        raise InvalidArgument(f"column {name!r} holds infinite or NaN values", field=flag)
    return out


def _codes(column: Any, name: str, missing: str | None) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Dictionary-encode a key column: integer codes and the names they stand for."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.cast(pa.string())
    if column.null_count:
        if missing is None:
            raise InvalidArgument(f"column {name!r} has {column.null_count} row(s) with no value", field="--arm-col")
        column = pc.fill_null(column, missing)
    encoded = pc.dictionary_encode(column)
    return (np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
            [str(v) for v in encoded.dictionary.to_pylist()])


def _grouped_sums(groups: tuple[npt.NDArray[np.int64], list[str]], arms: tuple[npt.NDArray[np.int64], list[str]],
                  values: Mapping[str, FloatArray], terms: Mapping[str, tuple[str, ...]], metrics: Sequence[str],
                  covariate: str | None, ratios: Mapping[str, tuple[str, str]]) -> dict[str, ExperimentStats]:
    """Every sum term per (group, arm) of one batch, with one ``bincount`` per term."""
    (g_codes, g_names), (a_codes, a_names) = groups, arms
    key = g_codes * len(a_names) + a_codes
    size = len(g_names) * len(a_names)
    sums = {}
    for alias, cols in terms.items():
        weights = None if not cols else values[cols[0]] if len(cols) == 1 else values[cols[0]] * values[cols[1]]
        sums[alias] = np.bincount(key, weights=weights, minlength=size)
    out: dict[str, dict[str, ArmStats]] = {}
    for k in np.flatnonzero(sums["n"]):
        row = {alias: float(v[k]) for alias, v in sums.items()}
        out.setdefault(g_names[k // len(a_names)], {})[a_names[k % len(a_names)]] = arm_from_sums(
            row, metrics, covariate, ratios)
    return {g: ExperimentStats(a) for g, a in out.items()}


def _accumulate(into: dict[str, ExperimentStats], more: Mapping[str, ExperimentStats]) -> None:
    for key, stats in more.items():
        into[key] = into[key] + stats if key in into else stats


def score_quantile(path: str | Path, score_col: str, top_fraction: float) -> float:
    """The score threshold above which the top ``top_fraction`` of rows lie (one pass over one column)."""
    import pyarrow as pa

    header = _header(Path(path))
    if score_col not in header:
        raise InvalidArgument(f"column {score_col!r} not in {Path(path).name}", field="--policy-score")
    try:
        dataset = _dataset(Path(path), [], [score_col])
        scores = np.concatenate([coerce_metric(b.column(0).to_pandas(), score_col, "--policy-score").to_numpy()
                                 for b in dataset.to_batches(columns=[score_col])])
    except pa.ArrowInvalid as exc:
        raise _csv_error(exc, header, {score_col: "--policy-score"}) from exc
    return float(np.quantile(scores, 1 - top_fraction))
