"""What people look at: the full JSON report and a PNG of relative lifts with their intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.figures import save_figure
from models.experiments._analysis import ExperimentResult
from models.experiments._segments import SegmentEffect

__all__ = ["finite_json", "plot_lifts", "report_json"]


def report_json(result: ExperimentResult, segments: Mapping[str, Mapping[str, Sequence[SegmentEffect]]] | None = None,
                policies: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``result.to_json()`` plus per-segment ATEs (``segments[arm][metric]``) and policy values."""
    out = result.to_json()
    if segments:
        out["segments"] = {arm: {m: [asdict(e) for e in effects] for m, effects in by_metric.items()}
                           for arm, by_metric in segments.items()}
    if policies:
        out["policy"] = {**policies, "values": [asdict(v) for v in policies.get("values", [])]}
    return finite_json(out)


def finite_json(value: Any) -> Any:
    """JSON has no NaN/inf: a non-finite number becomes null rather than an invalid document."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def plot_lifts(result: ExperimentResult, path: str | Path, title: str | None = None) -> Path:
    """One panel per metric: each arm's relative lift (and CUPED lift) with its interval, plus the
    always-valid interval as a thin band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = result.metrics
    ncols = min(2, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.0 * ncols, nrows * (1.6 + 0.8 * len(result.treatments))),
                             squeeze=False)
    flat = axes.ravel()
    for ax in flat[len(metrics):]:
        ax.set_visible(False)
    for ax, metric in zip(flat, metrics, strict=False):
        for row, arm in enumerate(result.treatments):
            c = result.comparison(arm, metric)
            if c.relative is not None:
                est, (lo, hi) = c.relative.estimate, c.relative.ci
                ax.errorbar(100 * est, row + 0.12, xerr=[[100 * (est - lo)], [100 * (hi - est)]], fmt="o",
                            color="tab:blue", capsize=4, label="lift (95% CI)" if row == 0 else None)
            if c.cuped_relative is not None:
                est, (lo, hi) = c.cuped_relative.estimate, c.cuped_relative.ci
                ax.errorbar(100 * est, row - 0.12, xerr=[[100 * (est - lo)], [100 * (hi - est)]], fmt="s",
                            color="tab:green", capsize=4, label="CUPED lift" if row == 0 else None)
            if c.relative is not None and c.control_mean:
                seq_lo, seq_hi = (100 * v / c.control_mean for v in c.sequential_ci)
                ax.plot([seq_lo, seq_hi], [row, row], color="tab:gray", lw=6, alpha=0.25,
                        label="always-valid CI (absolute, rescaled)" if row == 0 else None)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(metric)
        ax.set_xlabel(f"lift vs {result.control} (%)")
        ax.set_yticks(range(len(result.treatments)), result.treatments)
        ax.grid(axis="x", alpha=0.3)
    handles, labels = flat[0].get_legend_handles_labels()
    fig.suptitle(title or f"Relative lift vs {result.control}")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=3, fontsize=8, frameon=False)
    return save_figure(fig, path, dpi=120, bbox_inches="tight")
