"""Where the allocation controller's shared state lives in Redis (the state itself, λ and the budget
and spend counters, is read and written by ``models.allocation.RedisBudgetState``).

Keys under ``<namespace>:alloc:<controller>:``: ``lambda``, ``budget``, ``rpw`` (requests per window the
budget was sized for), ``traffic`` (hash chain → count), and ``w:<window>:spend`` / ``w:<window>:n``.
"""

from __future__ import annotations

__all__ = ["allocation_state_prefix"]


def allocation_state_prefix(namespace: str, controller: str) -> str:
    return f"{namespace}:alloc:{controller}:"
