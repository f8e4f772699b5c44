"""Canonical text and JSON forms: equal logic prints equal.

Normalising flattens nested same-type groups, drops double negation and duplicate items, sorts the
items of every AND/OR group and of every list value, and writes numbers and booleans one way. Given the
catalog it also spells each condition the conventional way (``_conventions``), so that
``NOT (gender#Equal To#male)`` and ``(gender#Not Equal To#male)`` print equal.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from core.errors import InvalidArgument
from features.catalog import Catalog
from models.targeting.logic._ast import LIST_OPERATORS, And, Condition, Expr, Not, Op, Or
from models.targeting.logic._conventions import apply_conventions

__all__ = ["canonical", "from_json", "normalize", "to_json"]

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _number_text(text: str) -> str:
    x = float(text)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _normalise_item(item: str) -> str:
    item = item.strip()
    if _NUMBER.match(item):
        return _number_text(item)
    if item.lower() in ("true", "false"):
        return item.lower()
    return item


def _normalise_condition(c: Condition) -> Condition:
    items = [_normalise_item(i) for i in c.value.split(",")]
    if c.op in LIST_OPERATORS:
        items = sorted(set(items))
    return Condition(c.key, c.op, ",".join(items))


def normalize(expr: Expr, catalog: Catalog | None = None) -> Expr:
    """The canonical AST of ``expr`` (what :func:`canonical` prints); conventional spellings with ``catalog``."""
    out = _normalize(expr)
    if catalog is None:
        return out
    # Until nothing changes: a convention can make two items equal, and the item they merge into can take
    # another convention ("NOT (A AND A')" with A' = A once spelled conventionally is "NOT A", then A negated).
    # Each pass only shortens or respells, so a fixed point comes within a few; the bound keeps any input
    # from looping.
    for _ in range(8):
        nxt = _normalize(apply_conventions(out, catalog))
        if nxt == out:
            break
        out = nxt
    return out


def _normalize(expr: Expr) -> Expr:
    if isinstance(expr, Condition):
        return _normalise_condition(expr)
    if isinstance(expr, Not):
        inner = _normalize(expr.item)
        return inner.item if isinstance(inner, Not) else Not(inner)
    kind = type(expr)
    flat: dict[str, Expr] = {}
    for item in expr.items:
        n = _normalize(item)
        for part in (n.items if isinstance(n, kind) else (n,)):  # type: ignore[attr-defined]
            flat.setdefault(_print(part, top=False), part)
    if len(flat) == 1:
        return next(iter(flat.values()))
    return kind(tuple(flat[k] for k in sorted(flat)))


def _print(expr: Expr, *, top: bool = True) -> str:
    if isinstance(expr, Condition):
        return str(expr)
    if isinstance(expr, Not):
        return "NOT " + _print(expr.item, top=False)
    joiner = " AND " if isinstance(expr, And) else " OR "
    body = joiner.join(_print(i, top=False) for i in expr.items)
    return body if top else f"({body})"


def canonical(expr: Expr | None, catalog: Catalog | None = None) -> str:
    """The canonical text form; ``""`` for empty logic (``None``). With ``catalog``: conventional spellings."""
    if expr is None:
        return ""
    return _print(normalize(expr, catalog))


# -- JSON ------------------------------------------------------------------------------------------

def _json_scalar(item: str) -> Any:
    if item in ("true", "false"):
        return item == "true"
    if _NUMBER.match(item):
        x = float(item)
        return int(x) if x == int(x) and abs(x) < 1e15 else x
    return item


def to_json(expr: Expr | None) -> dict[str, Any] | None:
    """A JSON-ready dict: ``{"type": "and"|"or", "items": [...]}``, ``{"type": "not", "item": ...}``,
    ``{"type": "condition", "key", "op", "value"}`` with typed values (numbers, booleans, lists)."""
    return None if expr is None else _to_json(normalize(expr))


def _to_json(expr: Expr) -> dict[str, Any]:
    if isinstance(expr, Condition):
        c = expr
        value: Any
        if c.op in LIST_OPERATORS or c.op == Op.BETWEEN:
            value = [_json_scalar(i) for i in c.items]
        else:
            value = _json_scalar(c.value)
        return {"type": "condition", "key": c.key, "op": c.op.value, "value": value}
    if isinstance(expr, Not):
        return {"type": "not", "item": _to_json(expr.item)}
    return {"type": "and" if isinstance(expr, And) else "or", "items": [_to_json(i) for i in expr.items]}


def _value_text(value: Any, field: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise InvalidArgument("value must be a finite number", field=field)
        return _number_text(repr(value))
    if isinstance(value, str):
        if not value.strip() or any(ch in value for ch in "#()"):
            raise InvalidArgument("value must be non-empty text without '#', '(' or ')'", field=field)
        return value.strip()
    if isinstance(value, list) and value:
        return ",".join(_value_text(v, f"{field}[{i}]") for i, v in enumerate(value))
    raise InvalidArgument("value must be text, a number, a boolean or a non-empty list", field=field)


def _from_obj(obj: Any, field: str, depth: int) -> Expr:
    if depth > 32:
        raise InvalidArgument("logic is nested more than 32 levels deep", field=field)
    if not isinstance(obj, dict):
        raise InvalidArgument("expected an object with a 'type'", field=field)
    kind = obj.get("type")
    if kind == "condition":
        key, op, value = obj.get("key"), obj.get("op"), obj.get("value")
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise InvalidArgument("key must be a feature name", field=f"{field}.key")
        try:
            operator = Op(str(op))
        except ValueError:
            raise InvalidArgument(f"unknown operator {op!r}; use one of {', '.join(o.value for o in Op)}",
                                  field=f"{field}.op") from None
        return Condition(key, operator, _value_text(value, f"{field}.value"))
    if kind == "not":
        return Not(_from_obj(obj.get("item"), f"{field}.item", depth + 1))
    if kind in ("and", "or"):
        items = obj.get("items")
        if not isinstance(items, list) or len(items) < 2:
            raise InvalidArgument(f"'{kind}' needs a list of at least two items", field=f"{field}.items")
        parsed = tuple(_from_obj(x, f"{field}.items[{i}]", depth + 1) for i, x in enumerate(items))
        return And(parsed) if kind == "and" else Or(parsed)
    raise InvalidArgument(f"unknown node type {kind!r}; use condition, and, or, not", field=f"{field}.type")


def from_json(data: str | dict[str, Any], *, field: str = "logic") -> Expr:
    """Inverse of :func:`to_json` (also accepts the JSON text)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"logic is not valid JSON: {exc.msg} at position {exc.pos}", field=field) from None
    return _from_obj(data, field, 0)
