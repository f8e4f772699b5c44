"""``mds.allocation.v1.AllocationService``: the compute-allocation controller's status and budget.

The budget lives in Redis (shared by every recommender replica): SetBudget writes it, each replica's
controller picks it up at its next sync. GetStatus reports the budget, the current window's spend
and requests across replicas, λ and the traffic share of each chain.
"""

from __future__ import annotations

import math

import grpc

from core.errors import InvalidArgument
from mds.allocation.v1 import allocation_pb2 as pb
from mds.allocation.v1 import allocation_pb2_grpc as pb_grpc
from services.recommend import WINDOW_S, get_runtime
from services.server.context import ServiceContext

__all__ = ["AllocationServicer", "EXAMPLE_CALL", "MAX_REQUESTS_PER_WINDOW", "MIN_REQUESTS_PER_WINDOW", "register"]

# One request per window up to a billion: the budget (requests x cost) stays a finite, exact float.
MIN_REQUESTS_PER_WINDOW = 1.0
MAX_REQUESTS_PER_WINDOW = 1e9


class AllocationServicer(pb_grpc.AllocationServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def GetStatus(self, request: pb.GetStatusRequest, context: grpc.aio.ServicerContext
                        ) -> pb.GetStatusResponse:
        rt = await get_runtime(self.ctx)
        snap, counts = await rt.snapshot()   # StoreUnavailable → UNAVAILABLE
        total = sum(counts.values())
        chains = rt.bundle.cascade.chains
        traffic = [pb.ChainTraffic(chain=chains[c].name, requests=n, share=n / total if total else 0.0,
                                   cost_us=float(rt.bundle.costs[c]))
                   for c, n in sorted(counts.items(), key=lambda kv: -kv[1]) if 0 <= c < len(chains)]
        budget = snap.budget or 0.0
        return pb.GetStatusResponse(
            budget_us_per_window=budget, budget_fraction=budget / (rt.bundle.full_cost * rt.requests_per_window),
            requests_per_window=rt.requests_per_window, window_s=WINDOW_S, spend_us=snap.spend,
            window_requests=snap.requests, lambda_value=snap.lam.lam if snap.lam else rt.controller.lam,
            traffic=traffic, full_chain_cost_us=rt.bundle.full_cost,
            cheapest_chain_cost_us=float(rt.bundle.costs[rt.policy.frontier].min()))

    async def SetBudget(self, request: pb.SetBudgetRequest, context: grpc.aio.ServicerContext
                        ) -> pb.SetBudgetResponse:
        f, rpw = request.budget_fraction, request.requests_per_window
        if not math.isfinite(f) or f < 0 or f > 1:
            raise InvalidArgument(f"budget_fraction must be between 0 and 1, got {f}", field="budget_fraction")
        if not math.isfinite(rpw) or rpw < 0 or 0 < rpw < MIN_REQUESTS_PER_WINDOW or rpw > MAX_REQUESTS_PER_WINDOW:
            raise InvalidArgument(f"requests_per_window must lie in [{MIN_REQUESTS_PER_WINDOW:g}, "
                                  f"{MAX_REQUESTS_PER_WINDOW:g}] (0 keeps the current value), got {rpw:g}",
                                  field="requests_per_window")
        rt = await get_runtime(self.ctx)
        # Budget and requests per window go to Redis together, for every replica;
        # StoreUnavailable → UNAVAILABLE with nothing changed.
        budget = await rt.set_budget(f, rpw if rpw > 0 else None)
        return pb.SetBudgetResponse(budget_us_per_window=budget, budget_fraction=f,
                                    requests_per_window=rt.requests_per_window)


def register(server: grpc.aio.Server, ctx: ServiceContext) -> str:
    pb_grpc.add_AllocationServiceServicer_to_server(AllocationServicer(ctx), server)
    return pb.DESCRIPTOR.services_by_name["AllocationService"].full_name


EXAMPLE_CALL = ("mds.allocation.v1.AllocationService/GetStatus", "{}")
