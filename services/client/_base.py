"""What every sub-client shares: the channel, auth metadata and a default deadline."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

__all__ = ["CallOptions"]


@dataclass(frozen=True)
class CallOptions:
    channel: grpc.Channel
    metadata: tuple[tuple[str, str], ...]
    timeout_s: float

    def deadline(self, timeout_s: float | None) -> float:
        return self.timeout_s if timeout_s is None else timeout_s
