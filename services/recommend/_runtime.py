"""The recommender state one server process shares between the recommend and allocation servicers:
the loaded recommender bundle, its allocation policy, and one online controller whose λ and spend counters live in Redis (so replicas share a budget).

The controller's flushes write behind (``WriteBehindBudgetState``): one background thread sends them
to Redis (one atomic Lua script each) and the replies are adopted as they arrive, so a decision
never waits on Redis and a slow or hung Redis delays no request (the controller serves its fallback
chain while the state is unreachable). Status reads and SetBudget wait on Redis in a worker thread
(``asyncio.to_thread``), never on the event loop."""

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
    WriteBehindBudgetState,
)
from models.allocation.deployment import budget_scope, deployment_paths
from models.recommend import RecommenderBundle
from services.server.context import ServiceContext

__all__ = ["RecommenderRuntime", "SYNC_EVERY", "get_runtime", "WINDOW_S"]

log = logging.getLogger(__name__)
WINDOW_S = 60.0
# Flushes cost a request no round trip any more (they write behind), so replicas sync often: each
# learns the others' spend one reply late, and a short sync interval keeps that lag small.
SYNC_EVERY = 16


@dataclass
class RecommenderRuntime:
    bundle: RecommenderBundle
    policy: AllocationPolicy
    state: WriteBehindBudgetState   # over the shared ``RedisBudgetState`` (``state.inner``)
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
        """The controller's decision. Its state maintenance (flush, window roll, λ re-planning) runs
        inline: the flush only hands the deltas to the write-behind thread, so nothing here waits
        on Redis, and no thread hop is paid per request."""
        ctl = self.controller
        if ctl.due(now):
            ctl.maintain(now)
            self._adopt(ctl.shared)
        return ctl.decide(pred, now, max_cost_us=max_cost_us)

    async def snapshot(self) -> tuple[BudgetSnapshot, dict[int, int]]:
        """This replica's unsynced requests flushed, then the global state and traffic (raises
        StoreUnavailable when Redis is unreachable)."""
        now = time.time()

        def read() -> tuple[BudgetSnapshot, dict[int, int]]:
            self.state.drain()    # this replica's requests are in Redis before it is read
            return self.state.inner.flush(int(now // WINDOW_S), 0.0, 0, {}), self.state.inner.traffic()

        async with self.lock:
            self.controller.flush(now)   # hands the deltas to the write-behind thread, no I/O here
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
    shared = RedisBudgetState(client, ctx.settings.namespace, budget_scope(ctx.settings))
    rpw = policy.requests_per_window
    config = ControllerConfig(window_s=WINDOW_S, sync_in_decide=False, sync_every=SYNC_EVERY,
                              lam_floor=policy.lam_floor)
    state = WriteBehindBudgetState(shared, retry_s=config.retry_s)
    controller = OnlineController(bundle.costs, state, lam0=policy.default_mix, budget_per_window=None,
                                  config=config, columns=policy.frontier)
    # Keep a budget another replica (or SetBudget) already stored; otherwise publish the default.
    snap = None
    try:
        snap = state.prime(int(time.time() // WINDOW_S))
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
        runtime.state.close()     # sends what is still queued (best effort), stops the thread
        inner = runtime.state.inner
        if isinstance(inner, RedisBudgetState):
            inner.client.close()

    return await ctx.resource(RecommenderRuntime, build, close=close)
