"""Profit curve of a ranking on an experiment's test rows: what a budget buys.

Users are taken in the order of predicted net value (``uplift * value_per_unit - cost``); after the
top ``k`` the *observed* incremental value is the uplift curve (treated mean minus control mean among
the top ``k``, times ``k``, times ``value_per_unit``) and the spend is their summed cost. Profit is the
difference; the profit-maximizing budget is the spend where it peaks. All of it is measured on
held-out rows, so the curve is an honest estimate of what the campaign would earn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InvalidArgument

__all__ = ["ProfitCurve", "check_costs", "profit_curve"]


def check_costs(costs: Any, n: int, *, field: str) -> np.ndarray:
    """Per-user treatment costs: finite and non-negative, one per row; errors name ``field``."""
    try:
        c = np.asarray(costs, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidArgument(f"{field} must be numeric costs", field=field) from None
    if c.shape != (n,):
        raise InvalidArgument(f"{field} has {c.size} values for {n} rows", field=field)
    missing = np.flatnonzero(np.isnan(c))
    if missing.size:
        raise InvalidArgument(f"{field} has {missing.size} missing costs (first at row {missing[0]})", field=field)
    bad = np.flatnonzero(~np.isfinite(c) | (c < 0))
    if bad.size:
        raise InvalidArgument(f"{field} has a negative or infinite cost {c[bad[0]]!r} at row {bad[0]}", field=field)
    return c


@dataclass(frozen=True)
class ProfitCurve:
    budgets: np.ndarray  # cumulative spend after each user
    profits: np.ndarray  # observed incremental value minus spend
    best_budget: float
    max_profit: float

    def to_json(self) -> dict[str, float]:
        return {"best_budget": self.best_budget, "max_profit": self.max_profit,
                "profit_treat_all": float(self.profits[-1]), "budget_treat_all": float(self.budgets[-1])}


def profit_curve(y: Any, uplift: Any, treatment: Any, costs: Any, *, value_per_unit: float = 1.0) -> ProfitCurve:
    """The observed profit curve of ranking test rows by predicted net value."""
    ya = np.asarray(y, dtype=np.float64)
    ua = np.asarray(uplift, dtype=np.float64)
    ta = np.asarray(treatment, dtype=np.float64)
    c = check_costs(costs, len(ya), field="costs")
    if not np.isfinite(value_per_unit) or value_per_unit <= 0:
        raise InvalidArgument("value_per_unit must be a positive number", field="--value-per-unit")
    order = np.argsort(-(ua * value_per_unit - c), kind="mergesort")
    ya, ta, c = ya[order], ta[order], c[order]
    n_t, n_c = np.cumsum(ta), np.cumsum(1 - ta)
    y_t, y_c = np.cumsum(ya * ta), np.cumsum(ya * (1 - ta))
    rate_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t > 0)
    rate_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c > 0)
    k = np.arange(1, len(ya) + 1)
    # Until both arms appear in the top k the observed uplift is undefined: count it as zero.
    incremental = np.where((n_t > 0) & (n_c > 0), (rate_t - rate_c) * k, 0.0) * value_per_unit
    spend = np.cumsum(c)
    profit = np.r_[0.0, incremental - spend]
    budgets = np.r_[0.0, spend]
    best = int(np.argmax(profit))
    return ProfitCurve(budgets, profit, float(budgets[best]), float(profit[best]))
