"""Check logic against the catalog: every key, operator and value, with precise field paths."""

from __future__ import annotations

import difflib
import math
import re

from core.errors import FieldViolation, InvalidArgument
from features.catalog import Catalog, DType, Feature
from features.population import population_entity
from models.targeting.logic._ast import LIST_OPERATORS, Condition, Expr, Not, Op, operators_for

__all__ = ["MAX_CONDITIONS", "MAX_DEPTH", "check", "closest_keys", "validate"]

MAX_CONDITIONS = 64
MAX_DEPTH = 16
_NUMBER = re.compile(r"\A[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


def closest_keys(catalog: Catalog, word: str, n: int = 3, *, entity: str | None = None) -> list[str]:
    """Catalog keys spelled most like ``word`` (for 'did you mean' messages)."""
    keys = [f.name for f in catalog.features_of(entity or population_entity(catalog))]
    return difflib.get_close_matches(word.lower(), keys, n=n, cutoff=0.5)


def _number(item: str) -> float | None:
    if not _NUMBER.match(item):
        return None
    x = float(item)
    return x if math.isfinite(x) else None


def _check_number(feature: Feature, item: str, where: str, out: list[FieldViolation]) -> float | None:
    x = _number(item)
    if x is None:
        out.append(FieldViolation(where, f"{feature.name} is a number ({feature.dtype}); {item!r} is not"))
        return None
    if feature.dtype == DType.INT and x != int(x):
        out.append(FieldViolation(where, f"{feature.name} holds whole numbers; {item!r} is not one"))
        return None
    if feature.range is not None and not feature.range[0] <= x <= feature.range[1]:
        lo, hi = (int(v) if v == int(v) else v for v in feature.range)
        out.append(FieldViolation(where, f"{item} is outside {feature.name}'s range [{lo}, {hi}]"))
        return None
    return x


def _check_condition(c: Condition, catalog: Catalog, where: str, entity: str, out: list[FieldViolation]) -> None:
    feature = catalog.features.get(c.key)
    if feature is None or feature.entity != entity:
        near = closest_keys(catalog, c.key, entity=entity)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        out.append(FieldViolation(f"{where}.key", f"unknown feature {c.key!r}{hint}"))
        return
    allowed = operators_for(feature.dtype)
    if c.op not in allowed:
        out.append(FieldViolation(
            f"{where}.op", f"{c.op.value!r} does not apply to {feature.name} ({feature.dtype}); "
                           f"use {', '.join(o.value for o in allowed)}"))
        return
    items = [i.strip() for i in c.value.split(",")]
    vwhere = f"{where}.value"
    if any(not i for i in items):
        out.append(FieldViolation(vwhere, f"empty item in value {c.value!r}"))
        return
    if c.op == Op.BETWEEN:
        if len(items) != 2:
            out.append(FieldViolation(vwhere, f"Between takes 'low,high'; got {c.value!r}"))
            return
        lo, hi = (_check_number(feature, i, vwhere, out) for i in items)
        if lo is not None and hi is not None and lo > hi:
            out.append(FieldViolation(vwhere, f"Between low {items[0]} is above high {items[1]}"))
        return
    if c.op in LIST_OPERATORS:
        if len(set(items)) != len(items):
            out.append(FieldViolation(vwhere, f"value {c.value!r} repeats an item"))
        values = feature.value_index
        bad = [i for i in items if i not in values]
        if bad:
            out.append(FieldViolation(vwhere, f"{', '.join(map(repr, bad))} not among {feature.name}'s values "
                                              f"({', '.join(feature.values or ())})"))
        return
    if len(items) != 1:
        out.append(FieldViolation(vwhere, f"{c.op.value} takes one value; got {c.value!r}"))
        return
    item = items[0]
    if feature.dtype == DType.BOOL:
        if item.lower() not in ("true", "false"):
            out.append(FieldViolation(vwhere, f"{feature.name} is true or false; got {item!r}"))
    elif feature.dtype == DType.CATEGORY:
        if item not in feature.value_index:
            out.append(FieldViolation(vwhere, f"{item!r} is not one of {feature.name}'s values "
                                              f"({', '.join(feature.values or ())})"))
    else:
        _check_number(feature, item, vwhere, out)


def validate(expr: Expr, catalog: Catalog, *, field: str = "logic",
             entity: str | None = None) -> list[FieldViolation]:
    """Every problem of ``expr`` against ``catalog``; an empty list means it is valid.

    Field paths follow the AST: ``logic.items[1].item.value`` is the value of the condition under the
    NOT that is the second item of the top-level group.
    """
    entity = entity or population_entity(catalog)  # default: the user entity, whatever the catalog calls it
    out: list[FieldViolation] = []
    count = 0

    def walk(node: Expr, where: str, depth: int) -> None:
        nonlocal count
        if depth > MAX_DEPTH:
            out.append(FieldViolation(where, f"logic is nested more than {MAX_DEPTH} levels deep"))
            return
        if isinstance(node, Condition):
            count += 1
            _check_condition(node, catalog, where, entity, out)
        elif isinstance(node, Not):
            walk(node.item, f"{where}.item", depth + 1)
        else:
            for i, item in enumerate(node.items):
                walk(item, f"{where}.items[{i}]", depth + 1)

    walk(expr, field, 0)
    if count > MAX_CONDITIONS:
        out.append(FieldViolation(field, f"logic has {count} conditions; at most {MAX_CONDITIONS} are allowed"))
    return out


def check(expr: Expr, catalog: Catalog, *, field: str = "logic", entity: str | None = None) -> Expr:
    """Return ``expr`` when valid; otherwise raise :class:`InvalidArgument` listing every violation."""
    violations = validate(expr, catalog, field=field, entity=entity)
    if violations:
        summary = "; ".join(f"{v.field}: {v.description}" for v in violations[:5])
        more = f" (and {len(violations) - 5} more)" if len(violations) > 5 else ""
        raise InvalidArgument(f"invalid logic: {summary}{more}", violations=violations)
    return expr


