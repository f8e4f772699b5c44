"""Replays summarized: every ratio as the mean over several runs (different seeds, each with its own
cost calibration) with a 95 % t-interval, so a target is judged at the interval's lower end."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

__all__ = ["interval", "summarize_replays"]


def interval(values: Sequence[float]) -> dict[str, float]:
    """Mean and 95 % t-interval of ``values`` (one per replay)."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    if len(v) == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
    return {"mean": float(v.mean()), "low": float(v.mean() - half), "high": float(v.mean() + half), "n": len(v)}


def _ratio(a: object, b: object) -> float:
    return float(a) / float(b) if isinstance(a, float | int) and isinstance(b, float | int) and b else float("nan")


def summarize_replays(reports: Sequence[dict]) -> dict[str, object]:  # type: ignore[type-arg]
    """Per budget the ratios the targets are stated in, plus the run-level figures."""
    budgets = list(reports[0]["budgets"])
    per_budget: dict[str, dict[str, dict[str, float]]] = {}
    for b in budgets:
        rows = [r["budgets"][b] for r in reports]
        metrics = {
            "online_over_static": [_ratio(x["online"], x["static"]) for x in rows],
            "online_over_static_hindsight": [_ratio(x["online"], x["static_hindsight"]) for x in rows],
            "overuse": [float(x["overuse"]) for x in rows],
            "utilization": [float(x["utilization"]) for x in rows],
        }
        if "expected_oracle" in rows[0]:
            metrics["expected_online_over_best_static"] = [_ratio(x["expected_online"], x["expected_best_static"])
                                                           for x in rows]
            metrics["expected_online_over_oracle"] = [_ratio(x["expected_online"], x["expected_oracle"]) for x in rows]
        if "diagnosis_true_estimator" in reports[0]:
            for label in ("frontier", "all_chains"):
                metrics[f"true_estimator_{label}_expected_online_over_oracle"] = [
                    float(r["diagnosis_true_estimator"][b][label]["expected_online_over_oracle"]) for r in reports]
        if "value_weighted" in rows[0]:
            metrics["value_aware_over_value_blind"] = [
                _ratio(x["value_weighted"]["online_value_aware"], x["value_weighted"]["online_value_blind"])
                for x in rows]
            metrics["value_aware_over_value_oracle"] = [
                _ratio(x["value_weighted"]["online_value_aware"], x["value_weighted"]["oracle"]) for x in rows]
            metrics["value_aware_overuse"] = [float(x["value_weighted"]["overuse"]) for x in rows]
        if b in reports[0].get("price_floor_effect", {}) and all(b in r.get("price_floor_effect", {}) for r in reports):
            bare = [r["price_floor_effect"][b]["without_floor"] for r in reports]
            key = "expected_online" if "expected_online" in bare[0] else "online"
            base = "expected_best_static" if key == "expected_online" else "static"
            metrics["without_price_floor_online_over_static"] = [_ratio(x[key], x[base]) for x in bare]
            if key == "expected_online":
                metrics["without_price_floor_expected_online_over_oracle"] = [
                    _ratio(x["expected_online"], x["expected_oracle"]) for x in bare]
        for kind in reports[0].get("estimator_comparison", {}):
            cmp = [r["estimator_comparison"][kind][b] for r in reports]
            metrics[f"{kind}_online_over_static"] = [_ratio(x["online"], x["static"]) for x in cmp]
            if "expected_online" in cmp[0]:
                metrics[f"{kind}_expected_online_over_best_static"] = [
                    _ratio(x["expected_online"], x["expected_best_static"]) for x in cmp]
        for kind in reports[0].get("achievable_gain_cross_fitted", {}):
            metrics[f"{kind}_cross_fitted_achievable_ratio"] = [
                float(r["achievable_gain_cross_fitted"][kind][b]["ratio"]) for r in reports]
        for kind in reports[0].get("achievable_gain_time_ordered", {}):
            metrics[f"{kind}_time_ordered_achievable_ratio"] = [
                float(r["achievable_gain_time_ordered"][kind][b]["ratio"]) for r in reports]
        per_budget[b] = {k: interval(v) for k, v in metrics.items()}
    overall = {
        "compute_saved_at_99pct_reward": interval([float(r["compute_saved_at_99pct_reward"]) for r in reports]),
        "overhead_us_per_request": interval([float(r["overhead_us_per_request"]) for r in reports]),
    }
    if all("overhead" in r for r in reports):
        for clock in ("wall_us", "cpu_us"):
            for stat in ("mean", "p50", "p99"):
                overall[f"overhead_{clock}_{stat}"] = interval([float(r["overhead"][clock][stat]) for r in reports])
    for kind in reports[0].get("estimator_comparison", {}):
        overall[f"{kind}_compute_saved_at_99pct_reward"] = interval(
            [float(r["estimator_comparison"][kind]["compute_saved_at_99pct_reward"]) for r in reports])
        if "compute_saved_at_99pct_expected_reward" in reports[0]["estimator_comparison"][kind]:
            overall[f"{kind}_compute_saved_at_99pct_expected_reward"] = interval(
                [float(r["estimator_comparison"][kind]["compute_saved_at_99pct_expected_reward"]) for r in reports])
    return {"replays": len(reports), "seeds": [r.get("seed") for r in reports], "budgets": per_budget,
            "overall": overall}
