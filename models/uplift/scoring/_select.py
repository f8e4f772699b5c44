"""Pick the users a campaign should treat under a budget, by predicted uplift."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidArgument

__all__ = ["Selection", "select_top"]


@dataclass(frozen=True, slots=True)
class Selection:
    """``indices`` into the candidate arrays, best first; totals over the selected users."""

    indices: np.ndarray
    costs: np.ndarray
    total_cost: float
    expected_incremental: float
    # With ``value_per_unit``: expected incremental value (uplift x value) minus cost of the selection.
    expected_profit: float | None = None


def select_top(
    uplift: np.ndarray,
    *,
    max_users: int | None = None,
    max_cost: float | None = None,
    costs: np.ndarray | None = None,
    min_uplift: float = 0.0,
    value_per_unit: float | None = None,
) -> Selection:
    """Choose whom to treat.

    A count budget (``max_users``) takes the highest predicted uplift first. A cost budget
    (``max_cost``) ranks by uplift per unit cost (the greedy order of the fractional knapsack) and
    adds users while they fit, skipping any that would overrun the budget. Only users with uplift
    above ``min_uplift`` are eligible: treating a user the model expects not to move wastes budget.

    Cost-aware (``value_per_unit`` given: the money one unit of outcome is worth, e.g. a conversion's
    margin, or 1.0 when the uplift is already revenue): a user's net value is ``uplift * value_per_unit
    - cost``; only users with a positive net value are eligible, a count budget takes the largest net
    value first and a cost budget the largest net value per unit cost. ``expected_profit`` is the
    selection's total net value.
    """
    uplift = np.asarray(uplift, dtype=np.float64)
    n = uplift.shape[0]
    if (max_users is None) == (max_cost is None):
        raise InvalidArgument("give exactly one budget: max_users or max_cost", field="budget")
    if not math.isfinite(min_uplift):
        raise InvalidArgument("min_uplift must be a finite number", field="min_uplift")
    if costs is None:
        cost = np.ones(n, dtype=np.float64)
    else:
        cost = np.asarray(costs, dtype=np.float64)
        if cost.shape != (n,):
            raise InvalidArgument(f"costs has {cost.shape[0]} values for {n} users", field="costs")
        bad = np.flatnonzero(~np.isfinite(cost) | (cost <= 0))
        if bad.size:
            raise InvalidArgument(f"cost {cost[bad[0]]!r} is not a positive number", field=f"costs[{bad[0]}]")
    if value_per_unit is not None and (not math.isfinite(value_per_unit) or value_per_unit <= 0):
        raise InvalidArgument("value_per_unit must be a positive number", field="value_per_conversion")
    # What a user is ranked by: predicted uplift, or net value when cost-aware.
    merit = uplift if value_per_unit is None else uplift * value_per_unit - cost
    eligible = np.flatnonzero((uplift > min_uplift) & (merit > 0 if value_per_unit is not None else True))

    if max_users is not None:
        if max_users <= 0:
            raise InvalidArgument("max_users must be positive", field="max_users")
        order = eligible[np.argsort(-merit[eligible], kind="stable")]
        chosen = order[:max_users]
    else:
        assert max_cost is not None
        if not math.isfinite(max_cost) or max_cost <= 0:
            raise InvalidArgument("max_cost must be a positive number", field="max_cost")
        ratio = merit[eligible] / cost[eligible]
        # Ties in merit-per-cost: the larger merit first.
        order = eligible[np.lexsort((-merit[eligible], -ratio))]
        spent = np.cumsum(cost[order])
        fits = int(np.searchsorted(spent, max_cost, side="right"))
        picked = list(order[:fits])
        left = max_cost - (float(spent[fits - 1]) if fits else 0.0)
        for i in order[fits:]:  # greedy fill: cheaper users further down may still fit
            if cost[i] <= left:
                picked.append(i)
                left -= cost[i]
        chosen = np.asarray(picked, dtype=np.int64)
    chosen = chosen.astype(np.int64)
    return Selection(
        indices=chosen, costs=cost[chosen], total_cost=float(cost[chosen].sum()),
        expected_incremental=float(uplift[chosen].sum()),
        expected_profit=None if value_per_unit is None else float(merit[chosen].sum()),
    )
