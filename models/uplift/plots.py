"""Qini-curve plot of an evaluation report (PNG, matplotlib Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from models.uplift.evaluation import EvaluationReport  # noqa: E402

__all__ = ["plot_calibration", "plot_qini_curves"]


def plot_qini_curves(report: EvaluationReport, path: str | Path) -> Path:
    """Draw every learner's Qini curve on the first split's test half, with the random line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_calibration(report: EvaluationReport, path: str | Path) -> Path:
    """Predicted vs observed uplift by decile of predicted uplift (split 1's test half), one line per
    learner, observed values with ±1 standard error; the diagonal is perfect calibration."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7.0, 5.5), dpi=120)
    lows, highs = [], []
    for name, cal in report.calibration.items():
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
    ax.set_title(f"Calibration by decile: {report.dataset} (split 1 test half)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
