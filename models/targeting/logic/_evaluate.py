"""In-memory evaluation of logic for one user's features (online eligibility).

Three-valued like SQL: a missing feature (absent, None, NaN) makes its condition unknown, NOT of
unknown is unknown, and only a definite true selects the user, so this agrees with the compiled
SQL predicate row for row.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.targeting.logic._ast import And, Condition, Expr, Not, Op

__all__ = ["ConditionOutcome", "condition_outcomes", "evaluate", "evaluate3"]


_COMPARE = {
    Op.EQUAL_TO: operator.eq, Op.NOT_EQUAL_TO: operator.ne, Op.GREATER_THAN: operator.gt,
    Op.GREATER_THAN_OR_EQUAL_TO: operator.ge, Op.LESS_THAN: operator.lt, Op.LESS_THAN_OR_EQUAL_TO: operator.le,
}


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    return False


def _as_set(v: Any) -> set[str] | None:
    if isinstance(v, list | tuple | set | frozenset | np.ndarray):
        return {str(x) for x in v}
    return None


def _condition(c: Condition, row: Mapping[str, Any]) -> bool | None:
    v = row.get(c.key)
    if _missing(v):
        return None
    items = [i.strip() for i in c.value.split(",")]
    if c.op in (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        have = _as_set(v)
        if have is None:
            return None
        if c.op == Op.CONTAINS_ALL:
            return all(i in have for i in items)
        hit = any(i in have for i in items)
        return hit if c.op == Op.CONTAINS_ANY else not hit
    if isinstance(v, bool | np.bool_):
        want = items[0].lower() == "true"
        return bool(v) == want if c.op == Op.EQUAL_TO else bool(v) != want
    if isinstance(v, int | float | np.integer | np.floating):
        x, nums = float(v), [float(i) for i in items]
        if c.op == Op.BETWEEN:
            return nums[0] <= x <= nums[1]
        if c.op in _COMPARE:
            return _COMPARE[c.op](x, nums[0])
        if c.op in (Op.BELONGS_TO, Op.NOT_BELONGS_TO):
            return (x in nums) == (c.op == Op.BELONGS_TO)
        return None
    s = str(v)
    if c.op in (Op.EQUAL_TO, Op.NOT_EQUAL_TO):
        return (s == items[0]) == (c.op == Op.EQUAL_TO)
    if c.op in (Op.BELONGS_TO, Op.NOT_BELONGS_TO):
        return (s in items) == (c.op == Op.BELONGS_TO)
    return None  # a comparison that does not apply to this value's type


def evaluate3(expr: Expr, row: Mapping[str, Any]) -> bool | None:
    """Kleene three-valued result: True, False or None (unknown)."""
    if isinstance(expr, Condition):
        return _condition(expr, row)
    if isinstance(expr, Not):
        inner = evaluate3(expr.item, row)
        return None if inner is None else not inner
    results = [evaluate3(i, row) for i in expr.items]
    if isinstance(expr, And):
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def evaluate(expr: Expr, row: Mapping[str, Any]) -> bool:
    """Whether the user with features ``row`` (feature name → value) is selected by ``expr``."""
    return evaluate3(expr, row) is True


@dataclass(frozen=True, slots=True)
class ConditionOutcome:
    """One condition for one user. ``negated``: it sits under an odd number of NOTs, so the user
    needs it false. ``satisfied``: whether it holds the way the logic needs (None: feature missing)."""

    condition: Condition
    negated: bool
    value: bool | None
    actual: Any

    @property
    def satisfied(self) -> bool | None:
        return None if self.value is None else self.value != self.negated


def condition_outcomes(expr: Expr, row: Mapping[str, Any]) -> list[ConditionOutcome]:
    """Every condition's outcome for ``row``, in reading order (to explain an eligibility answer)."""
    out: list[ConditionOutcome] = []

    def walk(node: Expr, negated: bool) -> None:
        if isinstance(node, Condition):
            actual = row.get(node.key)
            if isinstance(actual, np.ndarray):
                actual = actual.tolist()
            out.append(ConditionOutcome(node, negated, _condition(node, row), actual))
        elif isinstance(node, Not):
            walk(node.item, not negated)
        else:
            for item in node.items:
                walk(item, negated)

    walk(expr, False)
    return out
