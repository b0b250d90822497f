"""Typed exceptions of the SDK, one per gRPC status a caller can act on."""

from __future__ import annotations

import grpc


class CliplensClientError(Exception):
    """A call failed; `code` is the gRPC status, `details` the server's message."""

    def __init__(self, code: grpc.StatusCode, details: str, *, retry_after: float | None = None,
                 request_id: str | None = None):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.retry_after = retry_after
        self.request_id = request_id


class InvalidArgumentError(CliplensClientError):
    """The request was malformed; fix it before retrying."""


class NotFoundError(CliplensClientError):
    """An unknown model, synset, dictionary or bank."""


class AlreadyExistsError(CliplensClientError):
    """The name is taken (import with replace=True to overwrite)."""


class UnauthenticatedError(CliplensClientError):
    """Missing or unknown API key."""


class PermissionDeniedError(CliplensClientError):
    """The API key may not do this."""


class ResourceExhaustedError(CliplensClientError):
    """Rate-limited or overloaded; `retry_after` says when to come back, if known."""


class UnavailableError(CliplensClientError):
    """The service (or a peer behind it) is down; retrying later may work."""


class DeadlineExceededError(CliplensClientError):
    """The call ran past its deadline."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
}


def from_rpc_error(error: grpc.RpcError) -> CliplensClientError:
    """The typed exception for a failed call (reads retry-after and request id trailers)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    trailers = dict(error.trailing_metadata() or ()) if hasattr(error, "trailing_metadata") \
        else {}
    retry_after = trailers.get("retry-after-ms")
    cls = _BY_CODE.get(code, CliplensClientError)
    return cls(code, details or "",
               retry_after=float(retry_after) / 1000 if retry_after else None,
               request_id=trailers.get("x-request-id"))
