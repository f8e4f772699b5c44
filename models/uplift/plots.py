"""Qini-curve plot of an evaluation report (PNG, matplotlib Agg backend)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from core.figures import save_figure  # noqa: E402
from models.uplift.evaluation import EvaluationReport  # noqa: E402

__all__ = ["plot_calibration", "plot_policy_values", "plot_profit_curve", "plot_qini_curves"]

_P = ParamSpec("_P")


def _plain_style(draw: Callable[_P, Path]) -> Callable[_P, Path]:
    """Draw with matplotlib's default style, whatever style an imported package (causalml) set globally."""

    @functools.wraps(draw)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Path:
        with plt.style.context("default"):
            return draw(*args, **kwargs)

    return wrapper


@_plain_style
def plot_qini_curves(report: EvaluationReport, path: str | Path) -> Path:
    """Draw every learner's Qini curve on the first split's test half, with the random line."""
    fig, ax = plt.subplots(figsize=(7.5, 5.0), dpi=120)
    for name, result in report.learners.items():
        if result.curve is None:
            continue
        x, q = result.curve
        mean_qini = result.summary().get("qini_auc", [float("nan")])[0]
        ax.plot(x / x[-1], q, lw=2.2 if name == "default" else 1.3,
                label=f"{name} (Qini AUC {mean_qini:.4f} over {report.seeds} seeds)")
    if report.random_curve is not None:
        x, q = report.random_curve
        ax.plot(x / x[-1], q, "k--", lw=1.0, label="random")
    ax.set_xlabel("share of test users targeted (by predicted uplift)")
    ax.set_ylabel("incremental responders (Qini)")
    ax.set_title(f"Qini curves: {report.dataset} (split 1 of {report.seeds}, test size {report.test_size})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, path)


@_plain_style
def plot_calibration(report: EvaluationReport, path: str | Path) -> Path:
    """Predicted vs observed uplift by decile of predicted uplift (split 1's test half) for ``default``
    and the three other learners with the best mean Qini, observed values with ±1 standard error; the
    diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(7.0, 5.5), dpi=120)
    lows, highs = [], []
    others = sorted((n for n in report.calibration if n != "default"),
                    key=lambda n: -report.learners[n].summary()["qini_auc"][0])
    shown = (["default"] if "default" in report.calibration else []) + others[:3]
    for name, cal in ((n, report.calibration[n]) for n in shown):
        if not cal.predicted:
            continue
        ax.errorbar(cal.predicted, cal.observed, yerr=cal.stderr, marker="o", ms=3.5, capsize=2,
                    lw=2.0 if name == "default" else 1.0, label=name)
        lows.append(min(cal.predicted))
        highs.append(max(cal.predicted))
    if lows:
        lo, hi = min(lows), max(highs)
        ax.plot([lo, hi], [lo, hi], "k--", lw=1.0, label="perfect calibration")
    ax.set_xlabel("mean predicted uplift in the decile")
    ax.set_ylabel("observed uplift in the decile (treated − control rate)")
    ax.set_title(f"Calibration by decile: {report.dataset}\n(split 1 test half)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return save_figure(fig, path)


@_plain_style
def plot_policy_values(summary: dict, path: str | Path) -> Path:
    """Bar chart of each policy's mean outcome per user (± std over splits) from an arms report."""
    values = {k: v for k, v in summary["policy_value"].items() if k not in ("gain_vs_best_arm", "best_single_arm")}
    fig, ax = plt.subplots(figsize=(7.0, 4.5), dpi=120)
    names = list(values)
    ax.bar(names, [values[n][0] for n in names], yerr=[values[n][1] for n in names], capsize=3,
           color=["#999999" if n == "none" else "#1f77b4" if n.startswith("all:") else "#d62728" for n in names])
    ax.set_ylabel("mean outcome per user (IPW estimate)")
    ax.set_title(f"Policy value: {summary['dataset']} ({summary['seeds']} splits)")
    ax.tick_params(axis="x", labelrotation=15)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return save_figure(fig, path)


@_plain_style
def plot_profit_curve(budgets: np.ndarray, profits: np.ndarray, best_budget: float, title: str,
                      path: str | Path) -> Path:
    """Profit (incremental value minus treatment cost) against the budget spent, best budget marked."""
    fig, ax = plt.subplots(figsize=(7.0, 4.5), dpi=120)
    ax.plot(budgets, profits, lw=1.8)
    ax.axvline(best_budget, color="k", ls="--", lw=1.0, label=f"profit-maximizing budget {best_budget:,.0f}")
    ax.axhline(0.0, color="#999999", lw=0.8)
    ax.set_xlabel("budget spent on treatment")
    ax.set_ylabel("profit: incremental value − cost")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
