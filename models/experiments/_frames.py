"""From rows to sufficient statistics: validated columns, and one streamed pass over CSV / Parquet files.

A file of any size is read in record batches (pyarrow dataset), each batch summarized into
:class:`ExperimentStats`, and the summaries added up, so memory stays at one batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from models.experiments._stats import ExperimentStats, grouped_from_frame

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
    all_metrics = list(dict.fromkeys([*metrics, *(c for pair in ratios.values() for c in pair)]))
    total = ExperimentStats()
    by_segment: dict[str, ExperimentStats] = {}
    by_selection: dict[str, ExperimentStats] = {}
    rows = 0
    try:
        for batch in dataset.to_batches(columns=list(flags), batch_size=batch_rows):
            frame = batch.to_pandas()
            frame[arm_col] = frame[arm_col].astype(object).where(frame[arm_col].notna(), "").astype(str)
            for col in [*all_metrics, *(c for c in (covariate, score_col) if c)]:
                frame[col] = coerce_metric(frame[col], col, flags[col])
            total = total + ExperimentStats.from_frame(frame, arm_col, metrics, covariate, ratios)
            if segment_col is not None:
                frame["__segment"] = frame[segment_col].astype(object).where(frame[segment_col].notna(),
                                                                             MISSING_SEGMENT)
                _accumulate(by_segment, grouped_from_frame(frame, "__segment", arm_col, metrics, covariate, ratios))
            if score_col is not None and score_threshold is not None:
                frame["__selected"] = np.where(frame[score_col] >= score_threshold, SELECTED, NOT_SELECTED)
                _accumulate(by_selection, grouped_from_frame(frame, "__selected", arm_col, metrics, covariate,
                                                             ratios))
            rows += len(frame)
            if on_batch is not None:
                on_batch(len(frame))
    except pa.ArrowInvalid as exc:
        raise _csv_error(exc, header, flags) from exc
    if rows == 0:
        raise InvalidArgument(f"{path.name} has no rows", field="--data")
    return FileSummary(rows, total, by_segment, by_selection)


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
