"""Reward-versus-compute plot of an allocation evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.figures import save_figure
from models.allocation._replay import BudgetResult
from models.allocation._solver import choose_mixed, solve_mix

__all__ = ["plot_reward_vs_compute"]


def _frontier(score: np.ndarray, true: np.ndarray, costs: np.ndarray, grid: int = 40) -> tuple[np.ndarray, np.ndarray]:
    full = float(costs.max())
    xs, ys = [], []
    for frac in np.linspace(costs.min() / full, 1.0, grid):
        c = choose_mixed(score, costs, solve_mix(score, costs, frac * full))
        xs.append(costs[c].mean() / full)
        ys.append(true[np.arange(len(true)), c].mean())
    return np.asarray(xs), np.asarray(ys)


def plot_reward_vs_compute(path: Path, true: np.ndarray, pred: np.ndarray, costs: np.ndarray,
                           results: Sequence[BudgetResult], title: str = "", reward: str = "hits",
                           expected: bool = False) -> Path:
    """``true``: the reward matrix the plot scores with (the expected rewards when ``expected``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full = float(costs.max())
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    ax.scatter(costs / full, true.mean(axis=0), s=14, c="#999999", label="single static chain", zorder=2)
    x, y = _frontier(true.astype(float), true, costs)
    ax.plot(x, y, "-", c="#2a9d8f", lw=2, label="expected-reward oracle (λ on expected rewards)" if expected
            else "hindsight oracle (λ on true rewards)")
    x, y = _frontier(pred, true, costs)
    ax.plot(x, y, "-", c="#264653", lw=2, label="allocator (λ on predicted rewards)")
    for r in results:
        per_window = r.budget_per_window_us
        spend = np.asarray(r.online.window_spend)
        share = spend.sum() / (per_window * len(spend)) * r.budget_fraction
        star = float(r.extra["expected_online"]) if expected else r.online.reward  # type: ignore[arg-type]
        ax.scatter([share], [star], marker="*", s=160, c="#e76f51", zorder=4,
                   label="online controller (traffic stream)" if r is results[0] else None)
        ax.axvline(r.budget_fraction, ls=":", c="#e76f51", lw=1)
        ax.annotate(f"budget {r.budget_fraction:g}", (r.budget_fraction, ax.get_ylim()[0]), rotation=90,
                    va="bottom", ha="right", fontsize=8, color="#e76f51")
    ax.axhline(0.99 * true[:, int(np.argmax(costs))].mean(), ls="--", c="#555555", lw=1,
               label="99% of the most expensive chain")
    ax.set_xlabel("compute per request (share of the most expensive chain)")
    ax.set_ylabel("mean expected hits of the top 10 (known relevance)" if expected
                  else "mean NDCG@10 (relevant: later ratings ≥ 4)" if reward == "ndcg"
                  else "mean reward (hits of the top 10 among later ratings ≥ 4)")
    ax.set_title(title or "Reward versus compute")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, path)
