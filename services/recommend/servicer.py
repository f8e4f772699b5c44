"""``mds.allocation.v1.RecommendService`` (the proto package stays ``mds.allocation.v1`` for backward
compatibility): top-k items for a user through the cascade, the chain
picked per request by the shared primal-dual controller.

The user's recent interactions come from the Redis cache (``<ns>:recommend:history:<user_id>``) and
the user's existence from the feature store; an unknown user is NOT_FOUND unless the caller allows
the popularity fallback.
"""

from __future__ import annotations

import functools
import json
import math
import time
from typing import TYPE_CHECKING

import grpc
import numpy as np
from threadpoolctl import ThreadpoolController

from core.errors import InvalidArgument, StoreUnavailable, UnknownEntity
from core.settings import Settings
from features.population import population_entity
from features.store.base import KEY_PATTERN
from mds.allocation.v1 import allocation_pb2 as pb
from mds.allocation.v1 import allocation_pb2_grpc as pb_grpc
from models.recommend import decode_history
from services.recommend._runtime import RecommenderRuntime, get_runtime
from services.server.context import ServiceContext

if TYPE_CHECKING:
    from services.registry import ExampleData

__all__ = ["MAX_K", "RecommendServicer", "example_call", "prepare_demo", "register"]

MAX_K = 50
MAX_INFLIGHT = 64
DEADLINE_SHARE = 0.5


@functools.cache
def _blas() -> ThreadpoolController:
    """This process's BLAS libraries, found once: finding them is what makes a fresh
    ``threadpool_limits`` cost milliseconds per request."""
    return ThreadpoolController().select(user_api="blas")


class RecommendServicer(pb_grpc.RecommendServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._inflight = 0   # requests waiting for the cascade: past MAX_INFLIGHT, serve popular items

    async def _history(self, user_id: str) -> tuple[bytes | None, bool]:
        """(packed history or None, whether the user has cached features)."""
        blob = await self.ctx.histories.get(user_id)
        if blob is not None:
            return blob, True
        # No history: a user the catalog knows (any of its user features cached) still gets the cascade.
        entity = population_entity(self.ctx.catalog)
        batch = await self.ctx.store.read(entity, [user_id], [self.ctx.catalog.features_of(entity)[0].name])
        return blob, bool(batch.found[0])

    async def Recommend(self, request: pb.RecommendRequest, context: grpc.aio.ServicerContext
                        ) -> pb.RecommendResponse:
        user_id, k = request.user_id, request.k
        if not KEY_PATTERN.match(user_id or ""):
            raise InvalidArgument(f"user_id {user_id!r} must be 1-64 characters of [A-Za-z0-9_-]", field="user_id")
        if not 1 <= k <= MAX_K:
            raise InvalidArgument(f"k must be between 1 and {MAX_K}, got {k}", field="k")
        if not math.isfinite(request.value) or request.value < 0:
            raise InvalidArgument(f"value must be a finite number >= 0 (0: an average request), got {request.value}",
                                  field="value")
        value = request.value or 1.0
        rt = await get_runtime(self.ctx)
        try:
            blob, known = await self._history(user_id)
        except StoreUnavailable:
            # Redis is down: degrade to the most popular items rather than fail the page.
            return self._popular(rt, k, "fallback:unavailable")
        if self._inflight >= MAX_INFLIGHT:
            return self._popular(rt, k, "fallback:overloaded")
        if blob is None and not known:
            if not request.allow_popular_fallback:
                raise UnknownEntity(f"unknown user {user_id!r}: no cached features or history "
                                    f"(set allow_popular_fallback for the most popular items)")
            return self._popular(rt, k, "fallback:unknown_user")
        items, ratings, times = decode_history(blob)
        now = time.time()
        # Latency cap: a chain may use at most half of what the caller's deadline leaves.
        remaining = context.time_remaining()
        max_cost = None if remaining is None else max(remaining, 0.0) * 1e6 * DEADLINE_SHARE
        self._inflight += 1
        try:
            return await self._cascade(rt, items, ratings, times, now, max_cost, k, value)
        finally:
            self._inflight -= 1

    def _popular(self, rt: RecommenderRuntime, k: int, reason: str) -> pb.RecommendResponse:
        bundle = rt.bundle
        top = bundle.cascade.popular(k)
        return pb.RecommendResponse(
            items=[pb.RecommendedItem(item_id=str(bundle.item_ids[i]), title=str(bundle.item_titles[i])) for i in top],
            chain="popularity_fallback", cost_us=bundle.calibration.instances["popularity"].cost(k),
            lambda_value=rt.controller.lam, reason=reason)

    async def _cascade(self, rt: RecommenderRuntime, items: np.ndarray, ratings: np.ndarray, times: np.ndarray,
                       now: float, max_cost: float | None, k: int, value: float) -> pb.RecommendResponse:
        bundle = rt.bundle
        # No thread limit here: the allocation context and LightGBM (one thread) use no BLAS, and
        # ``threadpool_limits`` scans every loaded library per call (milliseconds on a busy machine).
        pred = rt.policy.predict(bundle, items, ratings, times, int(now))
        # The controller maximizes value-weighted reward: a request worth twice the average gets the
        # compute a doubled gain would justify at the same λ.
        decision = await rt.decide(pred * value if value != 1.0 else pred, now, max_cost)   # I/O off the loop
        chain = bundle.cascade.chains[decision.chain]
        with _blas().limit(limits=1):   # tiny matrices: BLAS threads only contend on a busy machine
            ctx = bundle.cascade.context(items, ratings)
            top, scores = bundle.cascade.recommend(ctx, chain, k)
        if len(top) < k:  # a user who has seen nearly everything: pad with popular unseen items
            extra = bundle.cascade.popular(k - len(top), exclude=[*top.tolist(), *items.tolist()])
            top = np.concatenate([top, extra])
            scores = np.concatenate([scores, np.zeros(len(extra))])
        return pb.RecommendResponse(
            items=[pb.RecommendedItem(item_id=str(bundle.item_ids[i]), score=float(s), title=str(bundle.item_titles[i]))
                   for i, s in zip(top, scores, strict=True)],
            chain=chain.name, cost_us=float(bundle.costs[decision.chain]), lambda_value=decision.lam,
            reason=decision.reason, predicted_reward=float(pred[decision.chain]))


def register(server: grpc.aio.Server, ctx: ServiceContext) -> str:
    pb_grpc.add_RecommendServiceServicer_to_server(RecommendServicer(ctx), server)
    return pb.DESCRIPTOR.services_by_name["RecommendService"].full_name


def example_call(data: ExampleData) -> tuple[str, str]:
    return ("mds.allocation.v1.RecommendService/Recommend", json.dumps({"user_id": data.some_keys(1)[0], "k": 10}))


def prepare_demo(settings: Settings) -> None:
    """Train (or load) the demo recommender and its allocation policy and cache histories (run by
    ``make serve``); item features go to the deployment's catalog when it has them."""
    from features.catalog import configured_catalog
    from models.allocation.demo import ensure_demo_allocation

    ensure_demo_allocation(settings, configured_catalog(settings))
