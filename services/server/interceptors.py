"""The one server interceptor: bearer auth, domain-error → status mapping, access log, metrics.

Servicers raise :mod:`core.errors` exceptions; this maps each branch of the tree to its status
code (``InvalidArgument`` carries ``google.rpc.BadRequest`` field violations as rich details), turns
anything unexpected into INTERNAL without leaking internals, and writes one JSON log line per call.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from core.errors import (
    FailedPrecondition,
    InvalidArgument,
    MDSError,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from services.server._metrics import ERRORS, LATENCY, REQUESTS

__all__ = ["MDSInterceptor", "status_for"]

log = logging.getLogger("mds.access")

# Health and reflection stay open so probes and grpcurl work without a token.
OPEN_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")

_CODES: list[tuple[type[MDSError], grpc.StatusCode]] = [
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
]


def status_for(exc: MDSError) -> status_pb2.Status:
    """The google.rpc.Status a domain error becomes."""
    code = next((c for cls, c in _CODES if isinstance(exc, cls)), grpc.StatusCode.INTERNAL)
    status = status_pb2.Status(code=code.value[0], message=exc.message)
    if isinstance(exc, InvalidArgument) and exc.violations:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in exc.violations
        ]))
        status.details.append(detail)
    return status


def _split(method: str) -> tuple[str, str]:
    _, service, name = method.split("/", 2) if method.count("/") >= 2 else ("", method, "")
    return service, name


class MDSInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, tokens: Sequence[str] = ()) -> None:
        self._tokens = [t.encode() for t in tokens]

    def _authorized(self, metadata: Sequence[tuple[str, Any]] | None) -> bool:
        if not self._tokens:
            return True
        for key, value in metadata or ():
            if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                offered = value[len("Bearer "):].encode()
                return any(hmac.compare_digest(offered, t) for t in self._tokens)
        return False

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        authorized = self._authorized(handler_call_details.invocation_metadata)
        service, name = _split(method)
        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await self._observe(service, name, inner, request, context, authorized)

            return grpc.unary_unary_rpc_method_handler(
                unary, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.stream_unary is not None:  # client streaming (CampaignService.RecordOutcomes)
            inner_stream = handler.stream_unary

            async def stream_unary(requests: Any, context: grpc.aio.ServicerContext) -> Any:
                return await self._observe(service, name, inner_stream, requests, context, authorized)

            return grpc.stream_unary_rpc_method_handler(
                stream_unary, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler  # server-streaming methods: none today

    async def _observe(self, service: str, name: str, behavior: Callable[..., Awaitable[Any]], request: Any,
                       context: grpc.aio.ServicerContext, authorized: bool) -> Any:
        start = time.perf_counter()
        code = grpc.StatusCode.OK
        message = ""
        try:
            if not authorized:
                raise Unauthenticated("a valid bearer token is required (metadata 'authorization: Bearer <token>')")
            return await behavior(request, context)
        except MDSError as exc:
            status = status_for(exc)
            code = next(c for c in grpc.StatusCode if c.value[0] == status.code)
            message = exc.message
            await context.abort_with_status(rpc_status.to_status(status))
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN  # a servicer aborted by itself
            raise
        except Exception:
            code = grpc.StatusCode.INTERNAL
            message = "internal error"
            log.exception("unhandled error in %s/%s", service, name)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the server log")
        finally:
            elapsed = time.perf_counter() - start
            code_name = code.name
            REQUESTS.labels(service, name, code_name).inc()
            LATENCY.labels(service, name).observe(elapsed)
            if code != grpc.StatusCode.OK:
                ERRORS.labels(service, name, code_name).inc()
            if log.isEnabledFor(logging.INFO):
                log.info(json.dumps({
                    "service": service, "method": name, "code": code_name,
                    "ms": round(elapsed * 1000, 3), "peer": context.peer(),
                    **({"error": message} if message else {}),
                }))


