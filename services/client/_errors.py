"""Reading MDS's rich error details on the client side."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from core.errors import FieldViolation

__all__ = ["field_violations"]


def field_violations(err: grpc.RpcError) -> list[FieldViolation]:
    """The ``google.rpc.BadRequest`` field violations of an INVALID_ARGUMENT error (empty if none)."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    found: list[FieldViolation] = []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
    return found
