"""The plan's draw: budget respected, ranking by uplift, a stratified holdout and its targeted twin."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidArgument
from models.campaign import Budget, draw_members


def _audience(n: int = 5_000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.array([f"u{i:07d}" for i in range(n)], dtype=object), rng.normal(0.05, 0.04, n)


def test_count_budget_treats_the_highest_uplift_outside_the_holdout():
    ids, uplift = _audience()
    draw = draw_members(ids, uplift, None, Budget(max_users=600), holdout_share=0.2, seed=3)
    m = draw.members
    assert m.treated.sum() == 600
    held = set(m.user_id[~m.treated])
    non_holdout = np.array([u not in held for u in ids])
    best = set(ids[non_holdout][np.argsort(-uplift[non_holdout])[:600]])
    assert set(m.user_id[m.treated]) == best
    # Ranks follow uplift inside the treated group.
    t = np.flatnonzero(m.treated)
    assert np.all(np.diff(m.uplift[t][np.argsort(m.rank[t])]) <= 0)
    assert draw.expected_incremental == pytest.approx(float(m.uplift[m.treated].sum()))
    lo, hi = draw.expected_ci
    assert lo < draw.expected_incremental < hi


def test_holdout_is_stratified_on_uplift_deciles_and_random_within():
    ids, uplift = _audience(10_000)
    draws = [draw_members(ids, uplift, None, Budget(max_users=2_000), 0.1, seed=s).members for s in (1, 2)]
    for m in draws:
        held = ~m.treated
        counts = np.bincount(m.stratum[held], minlength=10)
        assert counts.tolist() == [100] * 10  # exactly 10 % of every 1,000-user decile
    assert set(draws[0].user_id[~draws[0].treated]) != set(draws[1].user_id[~draws[1].treated])
    again = draw_members(ids, uplift, None, Budget(max_users=2_000), 0.1, seed=1).members
    assert set(again.user_id[~again.treated]) == set(draws[0].user_id[~draws[0].treated])


def test_twin_is_the_holdout_the_same_rule_would_have_treated():
    ids, uplift = _audience(10_000)
    m = draw_members(ids, uplift, None, Budget(max_users=2_400), 0.2, seed=5).members
    assert m.twin.sum() == 600  # budget * share / (1 - share)
    twin_floor = m.uplift[m.twin].min()
    outside = (~m.treated) & ~m.twin
    assert m.uplift[outside].max() <= twin_floor
    # Treated and twin cover the same uplift range (random halves of one region).
    assert abs(np.median(m.uplift[m.treated]) - np.median(m.uplift[m.twin])) < 0.01
    assert set(np.unique(m.bin[m.targeted])) == set(range(10))
    assert (m.bin[~m.targeted] == -1).all()


def test_cost_budget_ranks_by_uplift_per_cost_and_stays_within_budget():
    ids, uplift = _audience(2_000)
    costs = np.where(np.arange(2_000) % 2 == 0, 1.0, 10.0)
    draw = draw_members(ids, uplift, costs, Budget(max_cost=500.0), 0.1, seed=0)
    m = draw.members
    assert draw.total_cost <= 500.0
    assert draw.total_cost == pytest.approx(float(m.cost[m.treated].sum()))
    assert (m.cost[m.treated] == 1.0).mean() > 0.9  # cheap users win on uplift per cost


@pytest.mark.parametrize("kwargs, field", [
    ({"max_users": 0}, "max_users"), ({"max_cost": -1.0}, "max_cost"), ({}, "budget"),
    ({"max_users": 5, "max_cost": 5.0}, "budget"), ({"max_users": 5, "cost_per_user": 0.0}, "cost_per_user"),
])
def test_bad_budgets_name_their_field(kwargs, field):
    with pytest.raises(InvalidArgument) as err:
        Budget(**kwargs)
    assert err.value.field == field


@pytest.mark.parametrize("share", [0.0, -0.1, 0.51, float("nan")])
def test_holdout_share_outside_the_range_is_refused(share):
    ids, uplift = _audience(100)
    with pytest.raises(InvalidArgument) as err:
        draw_members(ids, uplift, None, Budget(max_users=10), share, seed=0)
    assert err.value.field == "holdout_share"
