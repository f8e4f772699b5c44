"""The recommender state one server process shares between its two servicers: the loaded bundle
and one online controller whose λ and spend counters live in Redis (so replicas share a budget)."""

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
from models.allocation import ControllerConfig, OnlineController, RedisBudgetState
from models.allocation._bundle import RecommenderBundle
from models.recommend.demo import bundle_path
from services.server.context import ServiceContext

__all__ = ["RecommenderRuntime", "get_runtime", "WINDOW_S"]

log = logging.getLogger(__name__)
WINDOW_S = 60.0
EXTRA_KEY = "allocation.runtime"


@dataclass
class RecommenderRuntime:
    bundle: RecommenderBundle
    state: RedisBudgetState
    controller: OnlineController
    requests_per_window: float
    lock: asyncio.Lock

    def budget_fraction(self) -> float:
        budget = self.controller.budget or 0.0
        return budget / (self.bundle.full_cost * self.requests_per_window) if self.requests_per_window else 0.0


def _build(ctx: ServiceContext) -> RecommenderRuntime:
    path = bundle_path(ctx.settings)
    if not path.exists():
        raise FailedPrecondition(f"no recommender model at {path}; start with `make serve` (it trains the demo "
                                 f"recommender) or call models.recommend.demo.ensure_demo_recommender")
    bundle = RecommenderBundle.load(path)
    client = connect(ctx.settings)
    state = RedisBudgetState(client, ctx.settings.namespace, "recommend")
    rpw = bundle.requests_per_window
    budget = bundle.default_fraction * bundle.full_cost * rpw
    controller = OnlineController(bundle.costs, state, lam0=bundle.default_mix, budget_per_window=None,
                                  config=ControllerConfig(window_s=WINDOW_S), columns=bundle.frontier)
    # Keep a budget another replica (or SetBudget) already stored; otherwise publish the default.
    snap = None
    try:
        snap = state.flush(int(time.time() // WINDOW_S), 0.0, 0, {})
    except Exception as exc:  # Redis down at start-up: the controller serves its fallback until it is back
        log.warning("allocation state unreachable at start-up: %s", exc)
    if snap is None or snap.budget is None:
        controller.budget = budget
        with contextlib.suppress(Exception):   # Redis down: SetBudget re-publishes once it is back
            state.set_budget(budget)
    else:
        controller.budget = snap.budget
    return RecommenderRuntime(bundle, state, controller, rpw, asyncio.Lock())


def get_runtime(ctx: ServiceContext) -> RecommenderRuntime:
    rt = ctx.extras.get(EXTRA_KEY)
    if rt is None:
        with threadpool_limits(1):
            rt = ctx.extras[EXTRA_KEY] = _build(ctx)
    return rt  # type: ignore[no-any-return]


def predicted(rt: RecommenderRuntime, items: np.ndarray, ratings: np.ndarray, times: np.ndarray, now: float
              ) -> np.ndarray:
    return rt.bundle.predict(items, ratings, times, int(now))
