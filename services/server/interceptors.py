"""The one server interceptor: bearer auth, domain-error → status mapping, access log, metrics.

Servicers raise :mod:`core.errors` exceptions; this maps each branch of the tree to its status
code (``InvalidArgument`` carries ``google.rpc.BadRequest`` field violations as rich details), turns
anything unexpected into INTERNAL without leaking internals, and writes one JSON log line per call.

Hardening that holds for every RPC, whatever its servicer does:

* requests arrive as raw bytes and are decoded here, *after* the bearer token was checked, so an
  unauthenticated caller never reaches the protobuf decoder, and a malformed message is
  INVALID_ARGUMENT (field ``request``), logged and counted like any other call;
* status messages, field violations and the access log are capped in length (a hostile value
  echoed back would exceed the client's metadata limit) and absolute server paths are reduced to
  their last component.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from core.errors import (
    FailedPrecondition,
    InvalidArgument,
    MDSError,
    NotFound,
    Unauthenticated,
    Unavailable,
    preview,
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


# Trailers must stay well under gRPC's 8 KB default metadata limit (details travel base64-encoded).
MAX_MESSAGE_CHARS = 500
MAX_FIELD_CHARS = 120
MAX_VIOLATIONS = 10
# An absolute path of two or more components (not a URL, not 'spend/visit'): keep only its last part.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.\-]+/)+([\w.\-]+)")


def safe_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` without server file paths, cut to ``limit`` characters."""
    text = _ABSOLUTE_PATH.sub(r"\1", text)
    return text if len(text) <= limit else text[:limit - 30] + f"... ({len(text):,} characters)"


def status_for(exc: MDSError) -> status_pb2.Status:
    """The google.rpc.Status a domain error becomes (lengths capped, server paths removed)."""
    code = next((c for cls, c in _CODES if isinstance(exc, cls)), grpc.StatusCode.INTERNAL)
    status = status_pb2.Status(code=code.value[0], message=safe_text(exc.message))
    if isinstance(exc, InvalidArgument) and exc.violations:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=safe_text(v.field, MAX_FIELD_CHARS),
                                                        description=safe_text(v.description, 300))
            for v in exc.violations[:MAX_VIOLATIONS]
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
            decode = handler.request_deserializer

            async def unary(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
                return await self._observe(service, name, inner, raw, decode, context, authorized)

            # No request_deserializer: the raw bytes reach _observe, which decodes after the auth check.
            return grpc.unary_unary_rpc_method_handler(unary, response_serializer=handler.response_serializer)
        if handler.stream_unary is not None:  # client streaming (CampaignService.RecordOutcomes)
            inner_stream = handler.stream_unary
            decode_each = handler.request_deserializer

            async def stream_unary(raw_requests: Any, context: grpc.aio.ServicerContext) -> Any:
                async def decoded() -> Any:  # each message decoded as the servicer reads it, after auth
                    async for raw in raw_requests:
                        yield _decode(decode_each, raw, name)

                return await self._observe(service, name, inner_stream, decoded(), None, context, authorized)

            return grpc.stream_unary_rpc_method_handler(stream_unary,
                                                        response_serializer=handler.response_serializer)
        return handler  # server-streaming methods: none today

    async def _observe(self, service: str, name: str, behavior: Callable[..., Awaitable[Any]], raw: Any,
                       decode: Callable[[bytes], Any] | None, context: grpc.aio.ServicerContext,
                       authorized: bool) -> Any:
        start = time.perf_counter()
        code = grpc.StatusCode.OK
        message = ""
        try:
            if not authorized:
                raise Unauthenticated("a valid bearer token is required (metadata 'authorization: Bearer <token>')")
            request = _decode(decode, raw, name)
            return await behavior(request, context)
        except MDSError as exc:
            status = status_for(exc)
            code = next(c for c in grpc.StatusCode if c.value[0] == status.code)
            message = status.message
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
                    **({"error": safe_text(message, 300)} if message else {}),
                }))




def _decode(decode: Callable[[bytes], Any] | None, raw: bytes, method: str) -> Any:
    """The request message; malformed bytes are INVALID_ARGUMENT without the decoder's internals."""
    if decode is None:
        return raw
    try:
        return decode(raw)
    except (DecodeError, ValueError, TypeError, RuntimeError) as exc:
        log.info("malformed %s request (%d bytes): %s", method, len(raw), preview(str(exc), 80))
        raise InvalidArgument(f"the request is not a valid {method} message ({len(raw):,} bytes)",
                              field="request") from None
