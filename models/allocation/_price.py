"""The price below which compute does not pay. A monotone estimator never predicts that a richer
chain loses reward, so with a slack budget (λ → 0) a controller buys the richest chain for requests
whose predicted gain is noise. The floor is calibrated on the logged requests with cross-fitted
predictions (a model that never saw the request) against their *realized* rewards: the cheapest
price of compute — the most spend — whose realized reward is not worse, beyond noise, than the best
any price achieves. Spending below it is compute the logs say loses reward."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from models.allocation._solver import choose

__all__ = ["PriceFloor", "price_floor"]


@dataclass(frozen=True)
class PriceFloor:
    lam: float                  # the floor on λ (0: every price is worth paying)
    reward_at_floor: float      # mean realized reward of the logged requests served at the floor
    reward_at_zero: float       # ... at λ = 0 (the richest predicted chain for everyone)
    spend_share_at_floor: float  # mean chain cost at the floor / most expensive chain
    spend_share_at_zero: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def price_floor(oof_pred: np.ndarray, realized: np.ndarray, costs: np.ndarray, *, grid: int = 48,
                z: float = 1.0) -> PriceFloor:
    """``oof_pred`` (n, chains): cross-fitted predicted rewards (−inf for chains never served);
    ``realized`` (n, chains): the logged requests' replayed rewards. Scans λ from 0 to the price at
    which every request gets its cheapest chain and returns the smallest λ whose mean realized reward
    is within ``z`` paired standard errors of the best λ's (so noise never raises the price)."""
    n = len(oof_pred)
    rows = np.arange(n)
    finite = np.where(np.isfinite(oof_pred), oof_pred, np.nan)
    spread = np.nanmax(finite, axis=1) - np.nanmin(finite, axis=1)
    served = np.flatnonzero(np.isfinite(oof_pred).any(axis=0))
    step = np.diff(np.unique(costs[served]))
    top = float(np.nanmax(spread)) / max(float(step.min()) if len(step) else 1.0, 1e-12)
    lams = np.r_[0.0, np.geomspace(max(top, 1e-12) * 1e-5, max(top, 1e-12) * 2, grid)]
    got = np.stack([realized[rows, choose(oof_pred, costs, lam)].astype(np.float64) for lam in lams])
    means = got.mean(axis=1)
    best = int(np.argmax(means))
    diff = got[best][None, :] - got                      # paired: the same requests at both prices
    se = diff.std(axis=1, ddof=1) / np.sqrt(max(n, 1)) if n > 1 else np.zeros(len(lams))
    ok = np.flatnonzero(means >= means[best] - z * se)
    pick = int(ok.min())                                 # λ grows with the index: the most spend that is not worse

    def share(i: int) -> float:
        return float(costs[choose(oof_pred, costs, float(lams[i]))].mean() / costs.max())

    return PriceFloor(float(lams[pick]), float(means[pick]), float(means[0]), share(pick), share(0))
