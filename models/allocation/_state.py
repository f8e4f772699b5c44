"""Where the controller's shared state lives: λ, the per-window budget and spend counters, and the
per-chain traffic. ``RedisBudgetState`` lets every recommender replica share one budget (atomic Lua
flush of local deltas); ``LocalBudgetState`` is the same contract in memory for replays and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import redis

from core.redis import is_cluster
from features.store.allocation_state import allocation_state_prefix
from features.store.unavailable import redis_unavailable
from models.allocation._solver import LambdaMix

__all__ = ["BudgetSnapshot", "BudgetState", "LocalBudgetState", "RedisBudgetState"]


@dataclass(frozen=True)
class BudgetSnapshot:
    lam: LambdaMix | None      # None: nobody has set λ yet
    budget: float | None       # compute per window (µs); None: unset
    spend: float               # compute spent in the window so far, all replicas
    requests: int              # requests served in the window so far, all replicas
    requests_per_window: float | None = None   # the traffic the budget fraction refers to; None: unset


class BudgetState(Protocol):
    def flush(self, window: int, spend: float, requests: int, traffic: dict[int, int],
              lam: LambdaMix | None = None) -> BudgetSnapshot:
        """Atomically add this replica's deltas for ``window`` (and publish ``lam`` when given);
        return the global state."""
        ...

    def set_lambda(self, lam: LambdaMix) -> None: ...

    def set_budget(self, budget: float, requests_per_window: float | None = None) -> None:
        """Publish the budget (and, when given, the requests per window it was sized for) together."""
        ...

    def traffic(self) -> dict[int, int]: ...


@dataclass
class LocalBudgetState:
    lam: LambdaMix | None = None
    budget: float | None = None
    requests_per_window: float | None = None
    spend: dict[int, float] = field(default_factory=dict)
    requests: dict[int, int] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)

    def flush(self, window: int, spend: float, requests: int, traffic: dict[int, int],
              lam: LambdaMix | None = None) -> BudgetSnapshot:
        if lam is not None:
            self.lam = lam
        self.spend[window] = self.spend.get(window, 0.0) + spend
        self.requests[window] = self.requests.get(window, 0) + requests
        for c, n in traffic.items():
            self.counts[c] = self.counts.get(c, 0) + n
        return BudgetSnapshot(self.lam, self.budget, self.spend[window], self.requests[window],
                              self.requests_per_window)

    def set_lambda(self, lam: LambdaMix) -> None:
        self.lam = lam

    def set_budget(self, budget: float, requests_per_window: float | None = None) -> None:
        self.budget = budget
        if requests_per_window is not None:
            self.requests_per_window = requests_per_window

    def traffic(self) -> dict[int, int]:
        return dict(self.counts)


_FLUSH = """
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4]) end
local s = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
local n = redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
for i = 5, #ARGV, 2 do redis.call('HINCRBY', KEYS[5], ARGV[i], ARGV[i + 1]) end
return {s, n, redis.call('GET', KEYS[3]), redis.call('GET', KEYS[4]), redis.call('GET', KEYS[6])}
"""


class RedisBudgetState:
    """Keys under ``<namespace>:alloc:<name>:``: ``lambda``, ``budget``, ``traffic`` (hash chain →
    count), ``rpw`` (requests per window the budget was sized for) and ``w:<window>:spend`` / ``w:<window>:n`` (expire after ``ttl_s``). Every Redis error
    becomes :class:`StoreUnavailable`, which the controller answers with its fallback chain."""

    def __init__(self, client: redis.Redis, namespace: str, name: str = "recommend", ttl_s: int = 2 * 86400
                 ) -> None:
        self.client = client
        self.prefix = allocation_state_prefix(namespace, name, cluster=is_cluster(client))
        self.ttl_s = ttl_s
        self._flush = client.register_script(_FLUSH)

    def _call(self, fn, *args):  # type: ignore[no-untyped-def]
        with redis_unavailable("reaching the allocation state"):
            return fn(*args)

    def flush(self, window: int, spend: float, requests: int, traffic: dict[int, int],
              lam: LambdaMix | None = None) -> BudgetSnapshot:
        p = self.prefix
        args: list[str | int] = [repr(float(spend)), int(requests), self.ttl_s, lam.encode() if lam else ""]
        for c, n in traffic.items():
            args += [int(c), int(n)]
        s, n, raw_lam, budget, rpw = self._call(
            lambda: self._flush(keys=[f"{p}w:{window}:spend", f"{p}w:{window}:n", f"{p}lambda", f"{p}budget",
                                      f"{p}traffic", f"{p}rpw"], args=args))
        return BudgetSnapshot(LambdaMix.decode(raw_lam) if raw_lam is not None else None,
                              float(budget) if budget is not None else None, float(s), int(n),
                              float(rpw) if rpw is not None else None)

    def set_lambda(self, lam: LambdaMix) -> None:
        self._call(self.client.set, f"{self.prefix}lambda", lam.encode())

    def set_budget(self, budget: float, requests_per_window: float | None = None) -> None:
        values = {f"{self.prefix}budget": repr(float(budget))}
        if requests_per_window is not None:
            values[f"{self.prefix}rpw"] = repr(float(requests_per_window))
        self._call(self.client.mset, values)   # one command: replicas never see half an update

    def traffic(self) -> dict[int, int]:
        raw = self._call(self.client.hgetall, f"{self.prefix}traffic")
        return {int(k): int(v) for k, v in raw.items()}

    def clear(self) -> None:
        """Delete this state's keys (tests and resets)."""
        keys = list(self._call(self.client.scan_iter, f"{self.prefix}*"))
        if keys:
            self._call(self.client.delete, *keys)
