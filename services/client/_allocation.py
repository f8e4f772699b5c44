"""RecommendService and AllocationService clients."""

from __future__ import annotations

from mds.allocation.v1 import allocation_pb2 as pb
from mds.allocation.v1 import allocation_pb2_grpc as pb_grpc
from services.client._base import CallOptions

__all__ = ["AllocationClient", "RecommendClient"]


class RecommendClient:
    def __init__(self, options: CallOptions) -> None:
        self._o = options
        self._stub = pb_grpc.RecommendServiceStub(options.channel)

    def recommend(self, user_id: str, k: int = 10, *, allow_popular_fallback: bool = False, value: float = 0.0,
                  timeout_s: float | None = None) -> pb.RecommendResponse:
        """Top-k items for ``user_id`` with the chain used, its cost (µs) and λ. ``value``: what the
        request is worth relative to an average one (0: average); compute goes where it pays."""
        request = pb.RecommendRequest(user_id=user_id, k=k, allow_popular_fallback=allow_popular_fallback,
                                      value=value)
        return self._stub.Recommend(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)


class AllocationClient:
    def __init__(self, options: CallOptions) -> None:
        self._o = options
        self._stub = pb_grpc.AllocationServiceStub(options.channel)

    def status(self, *, timeout_s: float | None = None) -> pb.GetStatusResponse:
        """Budget, spend in the current window, λ and per-chain traffic shares."""
        return self._stub.GetStatus(pb.GetStatusRequest(), timeout=self._o.deadline(timeout_s),
                                    metadata=self._o.metadata)

    def set_budget(self, budget_fraction: float, *, requests_per_window: float = 0.0,
                   timeout_s: float | None = None) -> pb.SetBudgetResponse:
        """Set the compute budget (fraction of the most expensive chain) shared by every replica."""
        request = pb.SetBudgetRequest(budget_fraction=budget_fraction, requests_per_window=requests_per_window)
        return self._stub.SetBudget(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)
