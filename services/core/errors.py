"""The one root of cliplens errors.

Domain code raises these; `cliplens.core.interceptors.status_of` maps each class to exactly one
gRPC status code. This module imports no transport, so the pure math can raise them without
importing grpc. Messages name the field and the expected and actual value.
"""

from __future__ import annotations


class CliplensError(Exception):
    """Base of every error cliplens raises on purpose.

    `trailers` are sent back as trailing metadata (e.g. a rate limit's retry-after-ms).
    """

    def __init__(self, message: str, *, trailers: dict[str, str] | None = None):
        super().__init__(message)
        self.trailers = dict(trailers or {})


class InvalidArgument(CliplensError):
    """The caller sent something malformed or out of range."""


class NotFound(CliplensError):
    """A named thing (model, synset, dictionary, bank) does not exist."""


class AlreadyExists(CliplensError):
    """Creating something whose name is taken."""


class Unavailable(CliplensError):
    """A peer or resource is down; retrying later may succeed."""


class Overloaded(CliplensError):
    """A bounded queue or rate limit is full; back off and retry."""


class DeadlineExceeded(CliplensError):
    """The caller's deadline passed before the work could finish."""


class FailedPrecondition(CliplensError):
    """The request is valid but the system is not in a state to serve it."""


class Unauthenticated(CliplensError):
    """No or unknown credentials."""


class PermissionDenied(CliplensError):
    """Known caller, not allowed to do this."""


class Unimplemented(CliplensError):
    """Valid request for something this model or deployment does not support."""


class PeerError(CliplensError):
    """A peer service answered with an error: passed on with the peer's status.

    `status` is the name of the peer's gRPC status code ("NOT_FOUND", "UNAVAILABLE", ...).
    """

    def __init__(self, status: str, message: str, *, trailers: dict[str, str] | None = None):
        super().__init__(message, trailers=trailers)
        self.status = status
