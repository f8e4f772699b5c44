"""Evaluation cases: ``{"demand": "...", "logic": "..."}`` per line (``logic`` may be empty for demands
that must yield empty logic, such as instructions aimed at the model)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidArgument
from core.settings import get_settings
from features.catalog import Catalog, configured_catalog
from models.targeting.logic import Expr, canonical, check, parse_logic

__all__ = ["DEV_SET_PATH", "Case", "load_cases"]

DEV_SET_PATH = Path(__file__).parent / "dev.jsonl"


@dataclass(frozen=True, slots=True)
class Case:
    demand: str
    logic: Expr | None  # None: the demand must give empty logic

    @property
    def canonical(self) -> str:
        return canonical(self.logic)


def load_cases(path: str | Path = DEV_SET_PATH, catalog: Catalog | None = None, *,
               field: str = "--cases") -> list[Case]:
    """Read and validate a cases file; errors name the line."""
    catalog = catalog or configured_catalog(get_settings())
    p = Path(path)
    if not p.is_file():
        raise InvalidArgument(f"cases file {str(p)!r} does not exist", field=field)
    cases: list[Case] = []
    for number, line in enumerate(p.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"{p.name} line {number}: not JSON ({exc.msg})", field=field) from None
        if not isinstance(row, dict) or not isinstance(row.get("demand"), str) or not row["demand"].strip():
            raise InvalidArgument(f"{p.name} line {number}: needs a non-empty \"demand\" string", field=field)
        text = row.get("logic") or ""
        if not isinstance(text, str):
            raise InvalidArgument(f"{p.name} line {number}: \"logic\" must be a string", field=field)
        try:
            expr = check(parse_logic(text), catalog) if text.strip() else None
        except InvalidArgument as exc:
            raise InvalidArgument(f"{p.name} line {number}: {exc.message}", field=field) from None
        cases.append(Case(row["demand"].strip(), expr))
    if not cases:
        raise InvalidArgument(f"cases file {str(p)!r} has no cases", field=field)
    return cases
