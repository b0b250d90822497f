"""The one root of cliplens errors, and the gRPC status each maps to.

Domain code raises these; `cliplens.core.interceptors` turns each into exactly one status code
with its message. Messages name the field and the expected and actual value.
"""

from __future__ import annotations

import grpc


class CliplensError(Exception):
    """Base of every error cliplens raises on purpose.

    `trailers` are sent back as trailing metadata (e.g. a rate limit's retry-after-ms).
    """

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, *, trailers: dict[str, str] | None = None):
        super().__init__(message)
        self.trailers = dict(trailers or {})


class InvalidArgument(CliplensError):
    """The caller sent something malformed or out of range."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(CliplensError):
    """A named thing (model, synset, dictionary, bank) does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(CliplensError):
    """Creating something whose name is taken."""

    code = grpc.StatusCode.ALREADY_EXISTS


class Unavailable(CliplensError):
    """A peer or resource is down; retrying later may succeed."""

    code = grpc.StatusCode.UNAVAILABLE


class Overloaded(CliplensError):
    """A bounded queue or rate limit is full; back off and retry."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(CliplensError):
    """The caller's deadline passed before the work could finish."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class FailedPrecondition(CliplensError):
    """The request is valid but the system is not in a state to serve it."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Unauthenticated(CliplensError):
    """No or unknown credentials."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(CliplensError):
    """Known caller, not allowed to do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


class Unimplemented(CliplensError):
    """Valid request for something this model or deployment does not support."""

    code = grpc.StatusCode.UNIMPLEMENTED


def require(condition: bool, message: str, error: type[CliplensError] = InvalidArgument) -> None:
    """Raise `error(message)` unless `condition` holds."""
    if not condition:
        raise error(message)


# Status codes a client maps back to these classes (the SDK's typed exceptions).
BY_CODE: dict[grpc.StatusCode, type[CliplensError]] = {
    cls.code: cls for cls in (InvalidArgument, NotFound, AlreadyExists, Unavailable, Overloaded,
                              DeadlineExceeded, FailedPrecondition, Unauthenticated,
                              PermissionDenied, Unimplemented)
}


class PeerError(CliplensError):
    """A peer service answered with an error: passed on with the peer's status code."""

    def __init__(self, code: grpc.StatusCode, message: str, **kwargs):
        super().__init__(message, **kwargs)
        self.code = code


def from_peer(error: grpc.RpcError, peer: str) -> PeerError:
    """The error to raise when a call to `peer` failed (UNAVAILABLE names the peer)."""
    code = error.code()
    details = error.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        details = f"{peer} unavailable: {details}"
    return PeerError(code, details)
