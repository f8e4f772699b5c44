"""The one exception tree of MDS.

Every domain error raised by ``core``, ``features``, ``models`` and ``services`` derives from
:class:`MDSError`; the gRPC error interceptor maps each branch to one status code, so a servicer
never builds a status by hand::

    MDSError
    ├── InvalidArgument        → INVALID_ARGUMENT  (google.rpc.BadRequest field violations)
    │   └── UnknownFeature
    ├── NotFound               → NOT_FOUND
    │   ├── UnknownEntity
    │   └── ModelNotFound
    ├── FailedPrecondition     → FAILED_PRECONDITION
    │   └── ArtifactError      (corrupt or incompatible model artifact)
    ├── Unavailable            → UNAVAILABLE
    │   └── StoreUnavailable   (Redis unreachable or timed out)
    └── Unauthenticated        → UNAUTHENTICATED

CLI commands catch :class:`MDSError` and print its message (naming the flag or column) instead of
a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ArtifactError",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "MDSError",
    "ModelNotFound",
    "NotFound",
    "StoreUnavailable",
    "Unauthenticated",
    "Unavailable",
    "UnknownEntity",
    "UnknownFeature",
    "preview",
]

PREVIEW_CHARS = 40


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """``repr`` of at most the first ``limit`` characters of ``value``, for error messages and logs.

    Hostile input can be megabytes long; echoing it back would blow the client's metadata limit
    (trailers are capped at a few KB) and the access log. Every message quotes values through this.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request: ``field`` is a dotted path such as ``features[2]`` or ``--metrics``."""

    field: str
    description: str


class MDSError(Exception):
    """Base of every MDS domain error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(MDSError):
    """The caller sent something malformed; nothing was read or written."""

    def __init__(self, message: str, *, field: str | None = None,
                 violations: list[FieldViolation] | None = None) -> None:
        super().__init__(message)
        found = list(violations or [])
        if field is not None and not any(v.field == field for v in found):
            found.insert(0, FieldViolation(field, message))
        self.violations: list[FieldViolation] = found

    @property
    def field(self) -> str | None:
        return self.violations[0].field if self.violations else None


class UnknownFeature(InvalidArgument):
    """A feature name that the catalog does not define."""


class NotFound(MDSError):
    """A named thing (entity, model, segment) does not exist."""


class UnknownEntity(NotFound):
    """No cached features exist for an entity key."""


class ModelNotFound(NotFound):
    """No model artifact with that name or version exists in the registry."""


class FailedPrecondition(MDSError):
    """The system is not in a state that allows the request."""


class ArtifactError(FailedPrecondition):
    """A model artifact is corrupt or incompatible (e.g. trained on another catalog fingerprint)."""


class Unavailable(MDSError):
    """A dependency is down; the caller may retry."""


class StoreUnavailable(Unavailable):
    """The Redis feature cache is unreachable or did not answer in time."""


class Unauthenticated(MDSError):
    """The call carries no valid bearer token."""
