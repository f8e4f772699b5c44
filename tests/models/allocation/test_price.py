"""The price below which compute does not pay (``price_floor``) and the controller that honours it,
and the item-CF context features: novelty and score profile (``ContextExtractor``)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from models.allocation import (
    ALLOCATION_CONTEXT,
    NOVELTY_FEATURES,
    PROFILE_FEATURES,
    PROFILE_RANKS,
    ContextExtractor,
    ControllerConfig,
    LocalBudgetState,
    OnlineController,
    price_floor,
)
from models.allocation._solver import choose
from models.recommend import BaseSignals


def _logged(n: int, *, loses: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three chains (costs 1, 3, 9). Half the requests gain 1.0 from the richest chain; for the other
    half a monotone estimator predicts a small gain from the richest chain (0.05) where the truth is a
    small loss (``loses``) or the same small gain, and from the middle chain a tiny gain where the truth
    is none. Realized rewards carry noise around the truth."""
    rng = np.random.default_rng(seed)
    costs = np.array([1.0, 3.0, 9.0])
    gainer = rng.random(n) < 0.5
    truth = np.where(gainer[:, None], [0.0, 0.3, 1.0], [0.0, 0.0, -0.05 if loses else 0.05])
    pred = np.where(gainer[:, None], [0.0, 0.3, 1.0], [0.0, 0.02, 0.05]) + rng.normal(0, 0.02, (n, 1))
    realized = truth + rng.normal(0, 0.1, (n, 3))
    return np.maximum.accumulate(pred, axis=1), realized, costs, gainer


def test_price_floor_stops_buying_compute_the_logs_say_loses() -> None:
    pred, realized, costs, gainer = _logged(4000, loses=True)
    floor = price_floor(pred, realized, costs)
    assert floor.lam > 0
    picked = choose(pred, costs, floor.lam)
    assert np.mean(picked[~gainer] == 2) < 0.05          # not the chain that loses them reward
    assert np.mean(picked[gainer] == 2) > 0.95           # ... all of it for those who gain
    assert floor.reward_at_floor > floor.reward_at_zero
    assert floor.spend_share_at_floor < floor.spend_share_at_zero


def test_price_floor_is_zero_when_compute_pays_everywhere() -> None:
    pred, realized, costs, _ = _logged(4000, loses=False)
    assert price_floor(pred, realized, costs).lam == 0.0


def test_price_floor_ignores_chains_never_served() -> None:
    pred, realized, costs, _ = _logged(2000, loses=True)
    wide = np.hstack([pred, np.full((len(pred), 1), -np.inf)])
    floor = price_floor(wide, np.hstack([realized, realized[:, :1]]), np.r_[costs, 50.0])
    assert floor.lam == pytest.approx(price_floor(pred, realized, costs).lam)


def test_controller_never_prices_compute_below_the_floor() -> None:
    costs = np.array([100.0, 300.0, 900.0])
    floor = 1e-3                                     # reward per µs
    ctl = OnlineController(costs, LocalBudgetState(), lam0=0.0, budget_per_window=1e9,   # a slack budget
                           config=ControllerConfig(window_s=100.0, lam_floor=floor))
    rng = np.random.default_rng(1)
    t = 0.0
    for _ in range(400):
        gain = rng.choice([0.1, 2.0])                # 0.1 over 800 µs does not pay at the floor; 2.0 does
        d = ctl.decide(np.array([1.0, 1.0 + gain / 4, 1.0 + gain]), t)
        assert d.lam >= floor
        assert d.chain == (2 if gain == 2.0 else 0)
        t += 0.7
    assert ctl.lam >= floor
    unfloored = OnlineController(costs, LocalBudgetState(), lam0=0.0, budget_per_window=1e9,
                                 config=ControllerConfig(window_s=100.0))
    assert unfloored.decide(np.array([1.0, 1.025, 1.1]), 0.0).chain == 2   # without it, any gain buys


def _base(n: int, seed: int = 0) -> BaseSignals:
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((n, n)) < 0.1, rng.random((n, n)), 0.0)
    np.fill_diagonal(dense, 0.0)
    pop = rng.integers(1, 100, n).astype(np.float32)
    return BaseSignals(pop, pop[::-1].copy(), np.full(n, 3.5, np.float32), np.zeros((n, 64), np.float32),
                       np.zeros((n, 16), np.float32), sp.csr_matrix(dense), np.eye(n, 4, dtype=np.float32))


def _reference_item_cf(base: BaseSignals, history: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """The same features the slow way: dense rows, a full sort."""
    liked = history[ratings >= 4] if (ratings >= 4).any() else history
    liked = liked[-60:]
    rows = base.sim[liked].toarray()
    unseen = np.ones(base.sim.shape[1], dtype=bool)
    unseen[history] = False
    score = rows.sum(axis=0) * unseen
    order = np.argsort(-score, kind="stable")
    cand = order[:100][score[order[:100]] > 0]
    top = cand[:10]
    popular = [i for i in np.lexsort((-base.item_pop, -base.recent_pop)) if unseen[i]][:100]
    n, log_pop = len(liked), np.log1p(base.item_pop)
    # The profile: score per liked item and log-popularity of the r-th best unseen candidate (none:
    # score 0 and the mean log-popularity).
    ranks = np.array(PROFILE_RANKS) - 1
    at_score = [score[cand[r]] / n if r < len(cand) else 0.0 for r in ranks]
    at_pop = [log_pop[cand[r]] if r < len(cand) else log_pop.mean() for r in ranks]
    return np.array([np.log1p(score.sum() / n), score.sum() / rows.sum(), np.log1p(score[top].sum() / n),
                     log_pop[top].mean(), 1 - np.isin(cand, popular).mean(),
                     np.log1p((score[cand] >= 0.5 * score[cand].max()).sum()), *at_score, *at_pop])


def test_item_cf_features_match_a_dense_reference_and_see_an_exhausted_neighbourhood() -> None:
    base = _base(300)
    extract = ContextExtractor(base)
    rng = np.random.default_rng(0)
    for _ in range(20):
        history = rng.choice(300, rng.integers(3, 90), replace=False)
        ratings = rng.choice([2.0, 3.0, 4.0, 5.0], len(history))
        np.testing.assert_allclose(extract.item_cf(history, ratings), _reference_item_cf(base, history, ratings),
                                   rtol=1e-5, atol=1e-6)
        row = extract(history, ratings, np.arange(len(history)) * 60, 10_000)
        assert row.shape == (len(ALLOCATION_CONTEXT),) and np.all(np.isfinite(row))
    # A user who has seen every neighbour of what they liked: nothing left for item-CF to add.
    liked = np.array([0, 1])
    seen = np.unique(np.r_[liked, base.sim[liked].indices])
    ratings = np.where(np.isin(seen, liked), 5.0, 2.0)
    features = extract.item_cf(seen, ratings)
    assert features[[0, 1, 2, 4, 5]] == pytest.approx([0.0] * 5)
    n_ranks = len(PROFILE_RANKS)
    assert features[6 : 6 + n_ranks] == pytest.approx([0.0] * n_ranks)     # no candidate at any rank
    assert features.shape == (len(NOVELTY_FEATURES) + len(PROFILE_FEATURES),)
    assert np.all(np.isfinite(extract.item_cf(np.array([], dtype=np.int64), np.array([]))))
