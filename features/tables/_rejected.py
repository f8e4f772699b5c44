"""The rejected-rows file of a ``--on-bad-row skip`` load: the original columns plus row number and reason.

Rows are appended chunk by chunk to a hidden ``.<name>.partial`` file beside the target; the loader
checkpoints the partial file's length with each chunk, so a resumed load first cuts the file back to
the last checkpoint (no row is listed twice) and the finished file is renamed into place.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from features.tables._validate import SET_DELIMITER

__all__ = ["RejectedRows", "ROW_COLUMN", "REASON_COLUMN"]

ROW_COLUMN = "_row"
REASON_COLUMN = "_reason"


def _cell(value: object) -> str:
    if isinstance(value, np.ndarray | list | tuple | set | frozenset):
        return SET_DELIMITER.join(map(str, value))
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


class RejectedRows:
    """Appends rejected rows to ``<target>.partial`` and publishes ``target`` when the load is done."""

    def __init__(self, target: Path, columns: Sequence[str], tag: str) -> None:
        if target.suffix.lower() != ".csv":
            raise InvalidArgument(f"--rejected: {target} must be a .csv file", field="--rejected")
        if not target.parent.exists():
            raise InvalidArgument(f"--rejected: the folder {target.parent} does not exist", field="--rejected")
        self.target = target
        self.partial = target.with_name(f".{target.name}.{tag}.partial")
        self.columns = [ROW_COLUMN, REASON_COLUMN, *columns]

    def start(self, offset: int) -> int:
        """Open for appending at ``offset`` (0: a fresh file with a header); return the file's length."""
        if offset == 0 or not self.partial.exists():
            with self.partial.open("w", newline="") as handle:
                csv.writer(handle).writerow(self.columns)
        else:
            os.truncate(self.partial, offset)
        return self.partial.stat().st_size

    def append(self, raw: pd.DataFrame, rows: np.ndarray, reasons: Sequence[str], first_row: int) -> int:
        """Write the rows of ``raw`` at positions ``rows``; return the file's new length (synced to disk)."""
        with self.partial.open("a", newline="") as handle:
            writer = csv.writer(handle)
            values = raw.to_numpy(dtype=object)
            for i in rows.tolist():
                writer.writerow([first_row + i, reasons[i], *map(_cell, values[i])])
            handle.flush()
            os.fsync(handle.fileno())
        return self.partial.stat().st_size

    def finish(self, rejected: int) -> Path | None:
        """Rename the partial file into place when rows were rejected; otherwise drop it."""
        if rejected:
            os.replace(self.partial, self.target)
            return self.target
        self.partial.unlink(missing_ok=True)
        return None
