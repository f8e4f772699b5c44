"""Where the allocation controller's shared state lives in Redis (the state itself, λ and the budget
and spend counters, is read and written by ``models.allocation.RedisBudgetState``).

Keys under ``<namespace>:alloc:<controller>:``: ``lambda``, ``budget``, ``rpw`` (requests per window the
budget was sized for), ``traffic`` (hash chain → count), and ``w:<window>:spend`` / ``w:<window>:n``.
"""

from __future__ import annotations

__all__ = ["allocation_state_prefix"]


def allocation_state_prefix(namespace: str, controller: str, *, cluster: bool = False) -> str:
    """On a Redis Cluster the flush script's keys must share a slot: one hash tag for all of them."""
    return f"{{{namespace}:alloc:{controller}}}:" if cluster else f"{namespace}:alloc:{controller}:"
