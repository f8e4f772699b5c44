"""What a failed gRPC call says: its status code and the ``google.rpc.BadRequest`` field violations."""

from __future__ import annotations

import grpc

from services.client import field_violations

__all__ = ["first_violation", "violations"]


def violations(err: grpc.RpcError) -> list[tuple[str, str]]:
    """(field, description) of every field violation of ``err``."""
    return [(v.field, v.description) for v in field_violations(err)]


def first_violation(err: grpc.RpcError) -> tuple[grpc.StatusCode, str, str]:
    """(status code, field, description) of ``err``'s first field violation; field and description are ''
    when it names none."""
    found = violations(err)
    field, description = found[0] if found else ("", "")
    return err.code(), field, description
