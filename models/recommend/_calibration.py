"""Measured cost of every stage instance on this machine: a fixed part per request and a part per
item, fitted by least squares to CPU timings of the exact calls serving makes."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from core.errors import ArtifactError
from models.recommend._cascade import Cascade, Chain
from models.recommend._requests import Request

__all__ = ["InstanceCost", "CostCalibration", "calibrate"]


@dataclass(frozen=True)
class InstanceCost:
    """Cost in microseconds: ``fixed_us + per_item_us * n`` (n = items the stage returns for recall,
    items it scores for pre-rank and rank)."""

    stage: str
    fixed_us: float
    per_item_us: float

    def cost(self, n: int) -> float:
        return self.fixed_us + self.per_item_us * n


@dataclass(frozen=True)
class CostCalibration:
    instances: dict[str, InstanceCost]
    machine: str
    requests: int

    def chain_cost(self, chain: Chain) -> float:
        """Stage costs summed: recall returns ``recall_k``, pre-rank scores them, rank scores the
        ``prerank_k`` survivors."""
        r = self.instances[chain.recall].cost(chain.recall_k)
        p = self.instances[chain.prerank].cost(chain.recall_k)
        k = self.instances[chain.ranker].cost(chain.prerank_k)
        return r + p + k

    def stage_costs(self, chain: Chain) -> tuple[float, float, float]:
        return (self.instances[chain.recall].cost(chain.recall_k),
                self.instances[chain.prerank].cost(chain.recall_k),
                self.instances[chain.ranker].cost(chain.prerank_k))

    def chain_costs(self, chains: Sequence[Chain]) -> np.ndarray:
        return np.asarray([self.chain_cost(c) for c in chains], dtype=np.float64)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"machine": self.machine, "requests": self.requests,
                                    "instances": {k: asdict(v) for k, v in self.instances.items()}}, indent=2))

    @classmethod
    def load(cls, path: Path) -> CostCalibration:
        try:
            blob = json.loads(path.read_text())
            return cls({k: InstanceCost(**v) for k, v in blob["instances"].items()}, blob["machine"],
                       int(blob["requests"]))
        except FileNotFoundError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"cost calibration {path} is corrupt: {exc}") from exc


def _fit_line(ns: list[int], us: list[float]) -> tuple[float, float]:
    a = np.column_stack([np.ones(len(ns)), np.asarray(ns, float)])
    (fixed, slope), *_ = np.linalg.lstsq(a, np.asarray(us), rcond=None)
    return max(float(fixed), 0.0), max(float(slope), 0.0)


def calibrate(cascade: Cascade, requests: Sequence[Request], *, n_requests: int = 60, repeats: int = 3,
              progress: bool = True, seed: int = 0) -> CostCalibration:
    """Time every instance on ``n_requests`` real requests, each call on a fresh request context (so
    user-side work is counted), at several sizes; the median per size feeds a line fit.

    The timings are *interleaved*: request by request, every instance and size is timed in a
    shuffled order, so a burst of load on a shared machine slows every instance alike instead of
    whichever instance happened to be timed during it. Budgets are fractions of the full chain's
    cost, so what must be stable is the instances' cost *ratios*, and common-mode slowdowns cancel
    in them (timing one instance after another let one burst price a ranker out of a budget)."""
    reqs = list(requests)[:n_requests]
    if not reqs:
        raise ValueError("calibration needs at least one request")
    sizes = sorted({*cascade.recall_sizes, *cascade.prerank_sizes, 25})
    jobs = [("recall", n, m) for n, m in cascade.recalls.items()] + \
           [("prerank", n, m) for n, m in cascade.preranks.items()] + \
           [("rank", n, m) for n, m in cascade.rankers.items()]
    with threadpool_limits(1):
        return _calibrate(cascade, reqs, sizes, jobs, repeats, progress, np.random.default_rng(seed))


def _calibrate(cascade: Cascade, reqs: list[Request], sizes: list[int], jobs: list, repeats: int,
               progress: bool, rng: np.random.Generator) -> CostCalibration:
    samples: dict[tuple[int, int], list[float]] = {(j, n): [] for j in range(len(jobs)) for n in sizes}
    cells = [(j, n) for j in range(len(jobs)) for n in sizes]
    for req in tqdm(reqs, desc="calibrating costs", disable=not progress, leave=False):
        # What pre-rankers and rankers score: the request's popularity candidates at each size.
        items = {n: cascade.recalls["popularity"].recall(cascade.context(req.history, req.ratings), n)
                 for n in sizes}
        for i in rng.permutation(len(cells)):
            j, n = cells[i]
            stage, _, model = jobs[j]
            best = float("inf")
            for _ in range(repeats):
                ctx = cascade.context(req.history, req.ratings)
                t0 = time.perf_counter_ns()
                if stage == "recall":
                    model.recall(ctx, n)
                else:
                    model.score(ctx, items[n])
                best = min(best, (time.perf_counter_ns() - t0) / 1000.0)
            samples[(j, n)].append(best)
    out: dict[str, InstanceCost] = {}
    for j, (stage, name, _) in enumerate(jobs):
        fixed, slope = _fit_line(sizes, [float(np.median(samples[(j, n)])) for n in sizes])
        out[name] = InstanceCost(stage, fixed, slope)
    machine = f"{platform.node()} {platform.machine()} {platform.processor() or platform.system()}"
    return CostCalibration(out, machine, len(reqs))
