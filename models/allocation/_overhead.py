"""The controller's overhead per request, measured so that a loaded machine cannot hide in it: the
wall time *and* the calling thread's CPU time of every decision (a thread that waits for the CPU
or the network shows in wall time only), their percentiles, and the load average around the
measurement."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DecisionTimes", "load_average", "time_stats"]


def load_average() -> float:
    """The 1-minute load average (nan where the platform has none)."""
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return float("nan")


def time_stats(ns: np.ndarray) -> dict[str, float]:
    """Mean and percentiles of durations given in ns, in µs."""
    if len(ns) == 0:
        return {k: float("nan") for k in ("mean", "p50", "p90", "p99", "max")}
    us = np.asarray(ns, dtype=np.float64) / 1e3
    p50, p90, p99 = np.percentile(us, [50, 90, 99])
    return {"mean": float(us.mean()), "p50": float(p50), "p90": float(p90), "p99": float(p99),
            "max": float(us.max())}


@dataclass(frozen=True)
class DecisionTimes:
    """Per decision: wall ns and the deciding thread's CPU ns; the 1-minute load averages sampled
    around the measurement (before and after each run)."""

    wall_ns: np.ndarray
    cpu_ns: np.ndarray
    loads: tuple[float, ...]

    def summary(self) -> dict[str, object]:
        loads = [x for x in self.loads if np.isfinite(x)]
        return {"decisions": len(self.wall_ns), "wall_us": time_stats(self.wall_ns), "cpu_us": time_stats(self.cpu_ns),
                "load_average": {"min": min(loads, default=float("nan")), "max": max(loads, default=float("nan"))}}

    @staticmethod
    def pooled(parts: Sequence[DecisionTimes]) -> DecisionTimes:
        """Every decision of several runs together."""
        if not parts:
            return DecisionTimes(np.zeros(0, np.int64), np.zeros(0, np.int64), ())
        return DecisionTimes(np.concatenate([p.wall_ns for p in parts]), np.concatenate([p.cpu_ns for p in parts]),
                             tuple(x for p in parts for x in p.loads))
