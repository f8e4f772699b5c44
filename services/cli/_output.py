"""What CLI commands write besides the terminal: a result as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

__all__ = ["write_json"]

_console = Console()


def write_json(path: Path | None, data: Any) -> None:
    """``data`` as indented UTF-8 JSON at ``path`` (folders created; non-ASCII text such as a demand kept
    readable; values JSON lacks, such as dates, as text), then one ``wrote PATH`` line; nothing when ``path``
    is None (the flag was not given)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    _console.print(f"wrote {path}")
