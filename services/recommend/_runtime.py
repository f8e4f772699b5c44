"""The recommender state one server process shares between the recommend and allocation servicers:
the loaded recommender bundle, its allocation policy, and one online controller whose λ and spend counters live in Redis (so replicas share a budget).

The controller's state client is synchronous (its flush is one atomic Lua script), so every call
that may reach Redis runs in a worker thread (``asyncio.to_thread``): a slow or hung Redis delays
only the requests waiting on the controller, never the event loop serving everything else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from core.errors import FailedPrecondition
from core.redis import connect
from models.allocation import (
    AllocationPolicy,
    BudgetSnapshot,
    ControllerConfig,
    Decision,
    OnlineController,
    RedisBudgetState,
)
from models.allocation.deployment import budget_scope, deployment_paths
from models.recommend import RecommenderBundle
from services.server.context import ServiceContext

__all__ = ["RecommenderRuntime", "get_runtime", "WINDOW_S"]

log = logging.getLogger(__name__)
WINDOW_S = 60.0


@dataclass
class RecommenderRuntime:
    bundle: RecommenderBundle
    policy: AllocationPolicy
    state: RedisBudgetState
    controller: OnlineController
    requests_per_window: float      # last known shared value (Redis ``rpw``), the bundle's default before
    lock: asyncio.Lock              # the controller's local counters are per process

    def budget_fraction(self) -> float:
        budget = self.controller.budget or 0.0
        return budget / (self.bundle.full_cost * self.requests_per_window) if self.requests_per_window else 0.0

    def _adopt(self, snap: BudgetSnapshot) -> None:
        if snap.requests_per_window:
            self.requests_per_window = snap.requests_per_window

    async def decide(self, pred: np.ndarray, now: float, max_cost_us: float | None) -> Decision:
        """The controller's decision; its state I/O (flush, window roll, re-plan) runs off the loop."""
        async with self.lock:
            ctl = self.controller
            if ctl.due(now):
                await asyncio.to_thread(ctl.maintain, now)
                self._adopt(ctl.shared)
            return ctl.decide(pred, now, max_cost_us=max_cost_us)

    async def snapshot(self) -> tuple[BudgetSnapshot, dict[int, int]]:
        """This replica's unsynced requests flushed, then the global state and traffic (raises
        StoreUnavailable when Redis is unreachable)."""
        def read() -> tuple[BudgetSnapshot, dict[int, int]]:
            now = time.time()
            self.controller.flush(now)
            snap = self.state.flush(int(now // WINDOW_S), 0.0, 0, {})
            return snap, self.state.traffic()

        async with self.lock:
            snap, traffic = await asyncio.to_thread(read)
            self._adopt(snap)
            return snap, traffic

    async def set_budget(self, fraction: float, requests_per_window: float | None) -> float:
        """Publish ``fraction`` of the full chain × requests per window (shared with every replica);
        raises StoreUnavailable with nothing changed when Redis is unreachable."""
        async with self.lock:
            rpw = requests_per_window or self.requests_per_window
            budget = fraction * self.bundle.full_cost * rpw
            await asyncio.to_thread(self.state.set_budget, budget, rpw)
            self.requests_per_window = rpw
            self.controller.budget = budget
            return budget


def _build(ctx: ServiceContext) -> RecommenderRuntime:
    path, ppath = deployment_paths(ctx.settings)  # MDS_RECOMMENDER: 'demo' or e.g. 'ml-100k'
    if not path.exists() or not ppath.exists():
        raise FailedPrecondition(f"no recommender model at {path} or no allocation policy at {ppath}; start with "
                                 f"`make serve` (it trains the demo recommender) or train one with "
                                 f"`mds recommend train` and set MDS_RECOMMENDER")
    bundle = RecommenderBundle.load(path)
    policy = AllocationPolicy.load(ppath, bundle)
    client = connect(ctx.settings)
    state = RedisBudgetState(client, ctx.settings.namespace, budget_scope(ctx.settings))
    rpw = policy.requests_per_window
    controller = OnlineController(bundle.costs, state, lam0=policy.default_mix, budget_per_window=None,
                                  config=ControllerConfig(window_s=WINDOW_S, sync_in_decide=False,
                                                          lam_floor=policy.lam_floor),
                                  columns=policy.frontier)
    # Keep a budget another replica (or SetBudget) already stored; otherwise publish the default.
    snap = None
    try:
        snap = state.flush(int(time.time() // WINDOW_S), 0.0, 0, {})
    except Exception as exc:  # Redis down at start-up: the controller serves its fallback until it is back
        log.warning("allocation state unreachable at start-up: %s", exc)
    if snap is None or snap.budget is None:
        budget = policy.default_fraction * bundle.full_cost * rpw
        controller.budget = budget
        with contextlib.suppress(Exception):   # Redis down: SetBudget re-publishes once it is back
            state.set_budget(budget, rpw)
    else:
        controller.budget = snap.budget
        rpw = snap.requests_per_window or rpw
    return RecommenderRuntime(bundle, policy, state, controller, rpw, asyncio.Lock())


async def get_runtime(ctx: ServiceContext) -> RecommenderRuntime:
    """The process's runtime, built once (model load and the first Redis round trip in a thread); its
    state client is closed when the server stops."""
    def build() -> RecommenderRuntime:
        with threadpool_limits(1):
            return _build(ctx)

    def close(runtime: RecommenderRuntime) -> None:
        runtime.state.client.close()

    return await ctx.resource(RecommenderRuntime, build, close=close)
