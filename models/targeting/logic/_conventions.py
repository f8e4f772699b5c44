"""One way to say each thing: catalog-aware rewrites between equivalent spellings of a condition.

Canonical text alone cannot see that ``NOT (gender#Equal To#male)`` and ``(gender#Not Equal To#male)``
select the same users: that needs the feature's dtype, and for counts its range. With the catalog,
every spelling below becomes the one on the right, so equal meaning prints equal and exact match
measures meaning rather than spelling. Each rewrite keeps SQL's three-valued answer for a missing
feature (unknown stays unknown), so the evaluator and the SQL predicate agree before and after.

==========================================================  ===========================================
``NOT (category Equal To v)`` / ``Belongs To`` one value      ``(category Not Equal To v)`` / ``Equal To``
``NOT (category Belongs To a,b)``                             ``(category Not Belongs To a,b)``
``NOT (set Contains Any a,b)``, ``Contains All`` one value     ``(set Contains None a,b)``, ``Contains Any``
``NOT (bool Equal To true)``                                  ``(bool Equal To false)``
``NOT (number Equal To v)``                                   ``(number Not Equal To v)``
``(count Equal To 0)``, ``Less Than 1``, ``<= 0``             ``NOT (count Greater Than 0)``
``(count Not Equal To 0)``, ``Greater Than Or Equal To 1``    ``(count Greater Than 0)``
``(x >= a) AND (x <= b)`` in one AND group, ``a <= b``          ``(x Between a,b)``
``(category = a) OR (category = b)``, ``Belongs To`` in one OR  ``(category Belongs To a,b)``
==========================================================  ===========================================

A *count* is an ``int`` feature whose catalog range starts at 0 ("has not used a coupon").
"""

from __future__ import annotations

from typing import TypeGuard

from features.catalog import Catalog, DType, Feature
from models.targeting.logic._ast import And, Condition, Expr, Not, Op, Or

__all__ = ["apply_conventions"]

_CATEGORY_NEGATION = {Op.EQUAL_TO: Op.NOT_EQUAL_TO, Op.NOT_EQUAL_TO: Op.EQUAL_TO,
                      Op.BELONGS_TO: Op.NOT_BELONGS_TO, Op.NOT_BELONGS_TO: Op.BELONGS_TO}
_SET_NEGATION = {Op.CONTAINS_ANY: Op.CONTAINS_NONE, Op.CONTAINS_NONE: Op.CONTAINS_ANY}


def _is_category(c: Condition, catalog: Catalog) -> bool:
    f = catalog.features.get(c.key)
    return f is not None and f.dtype == DType.CATEGORY


def _is_count(f: Feature) -> bool:
    return f.dtype == DType.INT and f.range is not None and f.range[0] == 0


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _condition(c: Condition, catalog: Catalog) -> Expr:
    f = catalog.features.get(c.key)
    if f is None:
        return c
    single = "," not in c.value
    if f.dtype == DType.CATEGORY and single and c.op in (Op.BELONGS_TO, Op.NOT_BELONGS_TO):
        return Condition(c.key, Op.EQUAL_TO if c.op == Op.BELONGS_TO else Op.NOT_EQUAL_TO, c.value)
    if f.dtype == DType.STRING_SET and single and c.op == Op.CONTAINS_ALL:
        return Condition(c.key, Op.CONTAINS_ANY, c.value)
    if _is_count(f):
        x = _number(c.value)
        positive = Condition(c.key, Op.GREATER_THAN, "0")
        if (c.op, x) in ((Op.EQUAL_TO, 0), (Op.LESS_THAN_OR_EQUAL_TO, 0), (Op.LESS_THAN, 1)):
            return Not(positive)
        if (c.op, x) in ((Op.NOT_EQUAL_TO, 0), (Op.GREATER_THAN_OR_EQUAL_TO, 1)):
            return positive
    return c


def _negated(c: Condition, catalog: Catalog) -> Condition | None:
    """The single condition equal to ``NOT c``, where the catalog's dtype has one."""
    f = catalog.features.get(c.key)
    if f is None:
        return None
    if f.dtype in (DType.INT, DType.FLOAT) and c.op in (Op.EQUAL_TO, Op.NOT_EQUAL_TO):
        return Condition(c.key, Op.NOT_EQUAL_TO if c.op == Op.EQUAL_TO else Op.EQUAL_TO, c.value)
    if f.dtype == DType.CATEGORY and c.op in _CATEGORY_NEGATION:
        return Condition(c.key, _CATEGORY_NEGATION[c.op], c.value)
    if f.dtype == DType.STRING_SET and c.op in _SET_NEGATION:
        return Condition(c.key, _SET_NEGATION[c.op], c.value)
    if f.dtype == DType.BOOL and c.op == Op.EQUAL_TO and c.value in ("true", "false"):
        return Condition(c.key, Op.EQUAL_TO, "false" if c.value == "true" else "true")
    return None


def apply_conventions(expr: Expr, catalog: Catalog) -> Expr:
    """``expr`` with every condition in its conventional spelling (see the module's table)."""
    if isinstance(expr, Condition):
        return _condition(expr, catalog)
    if isinstance(expr, Not):
        inner = apply_conventions(expr.item, catalog)
        if isinstance(inner, Not):
            return inner.item
        if isinstance(inner, Condition) and (flipped := _negated(inner, catalog)) is not None:
            return _condition(flipped, catalog)
        return Not(inner)
    items = tuple(apply_conventions(i, catalog) for i in expr.items)
    if isinstance(expr, Or):
        return _belongs_to(items, catalog)
    return _between(items)


def _listed(c: Expr, catalog: Catalog) -> TypeGuard[Condition]:
    """A category condition an OR can fold into one list: ``Equal To`` or ``Belongs To``."""
    return isinstance(c, Condition) and c.op in (Op.EQUAL_TO, Op.BELONGS_TO) and _is_category(c, catalog)


def _belongs_to(items: tuple[Expr, ...], catalog: Catalog) -> Expr:
    """``(city = a) OR (city Belongs To b,c)`` → ``(city Belongs To a,b,c)``: one list per category."""
    values: dict[str, list[str]] = {}
    for c in items:
        if _listed(c, catalog):
            values.setdefault(c.key, []).extend(c.value.split(","))
    out: list[Expr] = []
    for c in items:
        if not _listed(c, catalog):
            out.append(c)
        elif c.key in values:  # the first mention stands for all; later ones are gone
            merged = sorted(set(values.pop(c.key)))
            out.append(Condition(c.key, Op.EQUAL_TO if len(merged) == 1 else Op.BELONGS_TO, ",".join(merged)))
    return out[0] if len(out) == 1 else Or(tuple(out))


def _between(items: tuple[Expr, ...]) -> Expr:
    """``(x >= a) AND (x <= b)`` → ``(x Between a,b)``: "at least 21 and no older than 60" is one range."""
    low = {c.key: c for c in items if isinstance(c, Condition) and c.op == Op.GREATER_THAN_OR_EQUAL_TO}
    high = {c.key: c for c in items if isinstance(c, Condition) and c.op == Op.LESS_THAN_OR_EQUAL_TO}
    merged: dict[str, Condition] = {}
    for key in low.keys() & high.keys():
        a, b = _number(low[key].value), _number(high[key].value)
        if a is not None and b is not None and a <= b:
            merged[key] = Condition(key, Op.BETWEEN, f"{low[key].value},{high[key].value}")
    if not merged:
        return And(items)
    out: list[Expr] = []
    for item in items:
        if isinstance(item, Condition) and item.key in merged and item in (low[item.key], high[item.key]):
            if item is low[item.key]:
                out.append(merged[item.key])
            continue
        out.append(item)
    return out[0] if len(out) == 1 else And(tuple(out))
