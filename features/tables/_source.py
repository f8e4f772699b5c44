"""Input tables read in chunks: a Parquet file, a folder of Parquet files, or a CSV file.

CSV cells are read as text (nothing is guessed); the validator turns them into the catalog's types.
An empty CSV cell is a missing value. Parquet columns keep their types; a set is a list column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow.dataset as ds

from core.errors import InvalidArgument

__all__ = ["TableSource", "open_table", "load_id_of"]

Kind = Literal["parquet", "csv", "frame"]
_ENCODING = "utf-8-sig"  # UTF-8, minus the byte-order mark spreadsheet exports put before the header


def _data_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.parquet") if not any(part.startswith((".", "_"))
                                                                      for part in p.relative_to(path).parts))
    return [path]


def load_id_of(path: Path) -> str:
    """Identity of a source file or folder: resolved paths, sizes and modification times."""
    parts = [f"{p.resolve()}|{p.stat().st_size}|{p.stat().st_mtime_ns}" for p in _data_files(path)]
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


@dataclass
class TableSource:
    """A table to load: where it is, its columns, and chunked reads of its raw values."""

    name: str
    kind: Kind
    columns: list[str]
    load_id: str
    path: Path | None = None
    frame: pd.DataFrame | None = None

    @property
    def files(self) -> list[Path]:
        return _data_files(self.path) if self.path is not None else []

    def _dataset(self) -> ds.Dataset:
        assert self.path is not None
        return ds.dataset([str(p) for p in self.files], format="parquet")

    def count_rows(self) -> int | None:
        """Rows in the table when cheap to know (Parquet metadata, a frame); None for a CSV."""
        if self.frame is not None:
            return len(self.frame)
        return self._dataset().count_rows() if self.kind == "parquet" else None

    def column(self, name: str) -> pd.Series:
        """One whole column (the key pre-pass reads only this)."""
        if self.frame is not None:
            return self.frame[name].reset_index(drop=True)
        if self.kind == "parquet":
            return self._dataset().to_table(columns=[name]).column(name).to_pandas()
        return pd.read_csv(self.path, usecols=[name], dtype=str, keep_default_na=False, encoding=_ENCODING)[name]

    def chunks(self, rows: int, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Consecutive chunks of at most ``rows`` rows, in table order, with a fresh 0-based index."""
        if self.frame is not None:
            frame = self.frame if columns is None else self.frame[columns]
            for start in range(0, len(frame), rows):
                yield frame.iloc[start:start + rows].reset_index(drop=True)
        elif self.kind == "parquet":
            for batch in self._dataset().to_batches(columns=columns, batch_size=rows):
                if batch.num_rows:
                    yield batch.to_pandas()
        else:
            reader = pd.read_csv(self.path, usecols=columns, dtype=str, keep_default_na=False, chunksize=rows,
                                 encoding=_ENCODING)
            with reader:
                yield from reader


def open_table(source: Path | str | pd.DataFrame, *, field: str = "--input") -> TableSource:
    """A :class:`TableSource` for a DataFrame, a ``.parquet`` file or folder, or a ``.csv`` file."""
    if isinstance(source, pd.DataFrame):
        digest = pd.util.hash_pandas_object(source.astype(str), index=False).sum()
        return TableSource("frame", "frame", [str(c) for c in source.columns],
                           f"frame-{int(digest) & 0xFFFFFFFFFFFF:x}", frame=source.reset_index(drop=True))
    path = Path(source)
    if not path.exists():
        raise InvalidArgument(f"no such file: {path}", field=field)
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in (".parquet", ".pq"):
        files = _data_files(path)
        if not files:
            raise InvalidArgument(f"{path}: the folder holds no .parquet files", field=field)
        try:
            columns = list(ds.dataset([str(p) for p in files], format="parquet").schema.names)
        except Exception as exc:  # pyarrow raises several types for a corrupt or foreign file
            raise InvalidArgument(f"{path}: not a readable Parquet file ({exc})", field=field) from None
        return TableSource(str(path), "parquet", columns, load_id_of(path), path=path)
    if suffix == ".csv":
        try:
            header = pd.read_csv(path, nrows=0, dtype=str, encoding=_ENCODING)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InvalidArgument(f"{path}: not a readable CSV file ({exc})", field=field) from None
        return TableSource(str(path), "csv", [str(c) for c in header.columns], load_id_of(path), path=path)
    raise InvalidArgument(f"{path}: expected a .parquet file or folder, or a .csv file", field=field)
