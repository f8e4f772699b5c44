"""The multiple-choice knapsack behind compute allocation: pick one chain per request to maximize
reward subject to a compute budget. Lagrangian relaxation (bisection on λ, then a greedy fill of
the leftover budget) for scale, and an exact MILP (scipy ``milp``) to confirm on small instances."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix, eye, kron

__all__ = ["Allocation", "LambdaMix", "choose", "choose_mixed", "lagrangian_allocation", "milp_allocation",
           "solve_lambda", "solve_mix"]


@dataclass(frozen=True)
class Allocation:
    choice: np.ndarray      # chain index per request
    reward: float           # total reward (of the matrix the solver was given)
    spend: float            # total cost
    lam: float              # the multiplier (nan for the MILP)


def choose(rewards: np.ndarray, costs: np.ndarray, lam: float) -> np.ndarray:
    """Per row, the chain maximizing reward − λ·cost (ties go to the cheaper chain)."""
    return np.argmax(rewards - (lam + 1e-9) * costs[None, :], axis=1)


@dataclass(frozen=True)
class LambdaMix:
    """The Lagrangian solution of the relaxed knapsack: serve at ``lam`` (spends at most the budget)
    but with probability ``p_low`` at ``lam_low`` (just below the critical λ, spends more), so the
    expected spend meets the budget even when many requests switch chains at the same λ."""

    lam: float
    lam_low: float = 0.0
    p_low: float = 0.0

    def encode(self) -> str:
        return f"{self.lam!r},{self.lam_low!r},{self.p_low!r}"

    @classmethod
    def decode(cls, raw: str | bytes) -> LambdaMix:
        parts = [float(x) for x in (raw.decode() if isinstance(raw, bytes) else raw).split(",")]
        return cls(*parts) if len(parts) == 3 else cls(parts[0])


def solve_mix(rewards: np.ndarray, costs: np.ndarray, budget_per_request: float, *, iters: int = 50,
              hint: float | None = None) -> LambdaMix:
    """Bisection on λ, then the mixing probability between the two sides of the critical λ."""
    priced: dict[float, float] = {}
    lo, hi = _bisect(rewards, costs, budget_per_request, iters, hint, priced)
    if hi == 0.0:
        return LambdaMix(0.0)
    # The bisection has priced both ends already (its sum / n is the same float as a mean).
    s_hi = priced[hi] if hi in priced else float(costs[choose(rewards, costs, hi)].mean())
    s_lo = priced[lo] if lo in priced else float(costs[choose(rewards, costs, lo)].mean())
    p = 0.0 if s_lo <= s_hi else float(np.clip((budget_per_request - s_hi) / (s_lo - s_hi), 0.0, 1.0))
    return LambdaMix(hi, lo, p)


def choose_mixed(rewards: np.ndarray, costs: np.ndarray, mix: LambdaMix, seed: int = 0) -> np.ndarray:
    low = np.random.default_rng(seed).random(len(rewards)) < mix.p_low
    return np.where(low, choose(rewards, costs, mix.lam_low), choose(rewards, costs, mix.lam))


def _bisect(rewards: np.ndarray, costs: np.ndarray, budget_per_request: float, iters: int,
            hint: float | None = None, priced: dict[float, float] | None = None) -> tuple[float, float]:
    """(lo, hi): λ=hi spends at most the budget, λ=lo more (lo = hi = 0 when λ=0 already fits).
    ``hint`` (e.g. the λ in force) brackets the search near it, so re-planning needs few steps.
    ``priced`` (when given and there are rows) receives the spend per request of every λ tried."""
    n = max(len(rewards), 1)
    record = priced is not None and len(rewards) > 0

    def spend(lam: float) -> float:
        s = float(costs[choose(rewards, costs, lam)].sum()) / n   # sum: far cheaper than mean per call
        if record:
            priced[lam] = s  # type: ignore[index]
        return s

    if spend(0.0) <= budget_per_request:
        return 0.0, 0.0
    if hint is not None and hint > 0:
        lo, hi = hint / 2, hint * 2
        while spend(hi) > budget_per_request and hi < 1e9:
            lo, hi = hi, hi * 4
        while lo > 1e-12 and spend(lo) <= budget_per_request:
            hi, lo = lo, lo / 4
        if lo <= 1e-12:
            lo = 0.0
    else:
        hi = 1e-6
        while spend(hi) > budget_per_request and hi < 1e9:
            hi *= 4
        lo = 0.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if spend(mid) > budget_per_request:
            lo = mid
        else:
            hi = mid
    return lo, hi


def solve_lambda(rewards: np.ndarray, costs: np.ndarray, budget_per_request: float, *, iters: int = 50
                 ) -> float:
    """Smallest λ (to bisection tolerance) whose per-row choices spend at most ``budget_per_request``
    on average. Spend is non-increasing in λ, so bisection applies."""
    return _bisect(rewards, costs, budget_per_request, iters)[1]


def lagrangian_allocation(rewards: np.ndarray, costs: np.ndarray, budget: float, *, fill: bool = True
                          ) -> Allocation:
    """Bisection on λ for a total ``budget``, then greedy upgrades by marginal reward per cost while
    budget is left (closes most of the Lagrangian duality gap)."""
    n = len(rewards)
    lam = solve_lambda(rewards, costs, budget / max(n, 1))
    choice = choose(rewards, costs, lam)
    spend = float(costs[choice].sum())
    if fill:
        rows = np.arange(n)
        for _ in range(10 * n):
            left = budget - spend
            extra = costs[None, :] - costs[choice][:, None]
            gain = rewards - rewards[rows, choice][:, None]
            ok = (extra > 0) & (extra <= left) & (gain > 0)
            if not ok.any():
                break
            ratio = np.where(ok, gain / np.where(extra > 0, extra, 1), -np.inf)
            r, c = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            choice[r] = c
            spend += float(extra[r, c])
    return Allocation(choice, float(rewards[np.arange(n), choice].sum()), spend, lam)


def milp_allocation(rewards: np.ndarray, costs: np.ndarray, budget: float, *, time_limit_s: float = 30.0
                    ) -> Allocation:
    """Exact multiple-choice knapsack: binary x[i, j], one chain per request, total cost ≤ budget."""
    n, m = rewards.shape
    one_per_row = LinearConstraint(kron(eye(n), np.ones((1, m))), 1, 1)
    budget_row = LinearConstraint(csr_matrix(np.tile(costs, n)[None, :]), -np.inf, budget)
    res = milp(-rewards.ravel(), constraints=[one_per_row, budget_row], integrality=np.ones(n * m),
               bounds=Bounds(0, 1), options={"time_limit": time_limit_s})
    if res.x is None:
        raise ValueError(f"MILP found no feasible allocation: {res.message}")
    choice = np.argmax(res.x.reshape(n, m), axis=1)
    return Allocation(choice, float(rewards[np.arange(n), choice].sum()), float(costs[choice].sum()),
                      float("nan"))


