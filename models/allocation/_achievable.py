"""How much per-request allocation can gain over one chain for everyone, measured on logged requests
with cross-fitted predictions: each request's chain is chosen by a model that never saw it, the
realized rewards are compared with the best single chain *in hindsight* on the same requests (which
favours the static side), and the ratio gets a paired bootstrap interval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.allocation._solver import choose_mixed, solve_mix

__all__ = ["achievable_gain"]


def achievable_gain(true: np.ndarray, oof_pred: np.ndarray, costs: np.ndarray, budgets: Sequence[float], *,
                    n_boot: int = 1000, seed: int = 0) -> dict[str, dict[str, float]]:
    """Per budget fraction: allocated and best-static mean reward, their ratio with a 95 % bootstrap
    interval over requests, and the spend of the allocation as a share of the budget."""
    rng = np.random.default_rng(seed)
    full = float(costs.max())
    rows = np.arange(len(true))
    boot = rng.integers(0, len(true), size=(n_boot, len(true)))
    out: dict[str, dict[str, float]] = {}
    for b in budgets:
        per_request = b * full
        choice = choose_mixed(oof_pred, costs, solve_mix(oof_pred, costs, per_request), seed)
        got = true[rows, choice].astype(np.float64)
        fits = np.flatnonzero(costs <= per_request)
        static = int(fits[np.argmax(true[:, fits].mean(axis=0))]) if len(fits) else int(np.argmin(costs))
        base = true[:, static].astype(np.float64)
        ratios = got[boot].mean(axis=1) / np.maximum(base[boot].mean(axis=1), 1e-12)
        out[f"{b:g}"] = {
            "allocated": float(got.mean()), "best_static": float(base.mean()),
            "ratio": float(got.mean() / max(base.mean(), 1e-12)),
            "ratio_low": float(np.quantile(ratios, 0.025)), "ratio_high": float(np.quantile(ratios, 0.975)),
            "spend_share_of_budget": float(costs[choice].mean() / per_request),
        }
    return out
