"""The server interceptor every service runs: request ids, logs, metrics and error mapping.

Each `CliplensError` becomes exactly one status code with its message (`STATUS`, the one
mapping; `cliplens.core.errors` itself knows no transport); any other exception is logged with
its traceback and becomes INTERNAL with the request id (never the traceback).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from cliplens.core import metrics
from cliplens.core.errors import (
    AlreadyExists,
    CliplensError,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Overloaded,
    PeerError,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    Unimplemented,
)
from cliplens.core.logs import REQUEST_ID

log = logging.getLogger("cliplens.rpc")
REQUEST_ID_KEY = "x-request-id"
MAX_MESSAGE_CHARS = 1000

# The one mapping of error classes to status codes (a subclass takes its nearest base's).
STATUS: dict[type[CliplensError], grpc.StatusCode] = {
    CliplensError: grpc.StatusCode.INTERNAL,
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unimplemented: grpc.StatusCode.UNIMPLEMENTED,
}


def status_of(exc: CliplensError) -> grpc.StatusCode:
    """The status code an error is answered with: a peer's own, else its class's."""
    if isinstance(exc, PeerError):
        return grpc.StatusCode[exc.status]
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    raise AssertionError("unreachable: CliplensError is in STATUS")


def _clip(message: str) -> str:
    """A status message short enough for gRPC's 16 KiB metadata limit.

    Messages quote the value they refuse; a long value quoted whole made the status itself too
    large, and the caller saw RESOURCE_EXHAUSTED (metadata size) instead of the real status.
    """
    if len(message) <= MAX_MESSAGE_CHARS + 100:  # a peer's clipped message passes unchanged
        return message
    return f"{message[:MAX_MESSAGE_CHARS]}... ({len(message)} characters in all)"


def _request_id(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_KEY and value and len(value) <= 128:
            return value
    return uuid.uuid4().hex[:16]


class _Call:
    """Book-keeping of one RPC: metrics, the log line and the mapping of errors."""

    def __init__(self, service: str, method: str, context: grpc.aio.ServicerContext):
        self.service, self.method, self.context = service, method, context
        self.code = grpc.StatusCode.OK
        self.start = time.perf_counter()
        self.rid = _request_id(context)
        self.token = REQUEST_ID.set(self.rid)
        metrics.REQUESTS_STARTED.labels(service, method).inc()
        metrics.IN_FLIGHT.labels(service, method).inc()
        context.set_trailing_metadata(((REQUEST_ID_KEY, self.rid),))

    async def fail(self, exc: BaseException) -> None:
        """Record the status `exc` stands for and abort the call with it (always raises)."""
        if isinstance(exc, CliplensError):
            self.code = status_of(exc)
            if exc.trailers:
                self.context.set_trailing_metadata(
                    ((REQUEST_ID_KEY, self.rid), *exc.trailers.items()))
            await self.context.abort(self.code, _clip(str(exc)))
        if isinstance(exc, grpc.aio.AbortError):
            self.code = self.context.code() or grpc.StatusCode.UNKNOWN
            raise exc
        if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
            self.code = grpc.StatusCode.CANCELLED
            raise exc
        self.code = grpc.StatusCode.INTERNAL
        log.error("unhandled error in %s", self.method, exc_info=exc)
        await self.context.abort(grpc.StatusCode.INTERNAL,
                                 f"internal error (request id {self.rid})")

    def finish(self) -> None:
        elapsed = time.perf_counter() - self.start
        code = self.code.name
        metrics.REQUESTS_HANDLED.labels(self.service, self.method, code).inc()
        metrics.REQUEST_SECONDS.labels(self.service, self.method).observe(elapsed)
        metrics.IN_FLIGHT.labels(self.service, self.method).dec()
        level = logging.INFO if self.code == grpc.StatusCode.OK else logging.WARNING
        if self.code == grpc.StatusCode.INTERNAL:
            level = logging.ERROR
        log.log(level, "%s %s %.1f ms", self.method, code, elapsed * 1000,
                extra={"method": self.method, "code": code,
                       "duration_ms": round(elapsed * 1000, 2)})
        REQUEST_ID.reset(self.token)


def _parse(deserialize: Callable[[bytes], Any] | None, raw: bytes, method: str) -> Any:
    """The request message of `raw` bytes; INVALID_ARGUMENT when they do not parse.

    Parsing happens here rather than in gRPC, which answers an undecodable request with
    UNKNOWN before any handler (or this interceptor's book-keeping) runs.
    """
    if deserialize is None:
        return raw
    try:
        return deserialize(raw)
    except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError, and others on junk
        raise InvalidArgument(f"request: not a valid request message for {method} "
                              f"({type(e).__name__}: {e})") from None


class StandardInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every handler of a service with `_Call` book-keeping."""

    def __init__(self, service: str, *, quiet_methods: tuple[str, ...] = ()):
        self.service = service
        self.quiet = quiet_methods

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]],
                                handler_call_details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if method.startswith(self.quiet):
            return handler
        service = self.service

        deserialize = handler.request_deserializer

        if handler.unary_unary:
            inner = handler.unary_unary

            async def unary_unary(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
                call = _Call(service, method, context)
                try:
                    return await inner(_parse(deserialize, raw, method), context)
                except BaseException as e:  # noqa: BLE001 - re-raised by fail()
                    await call.fail(e)
                finally:
                    call.finish()

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, None, handler.response_serializer)
        if handler.unary_stream:
            inner_stream = handler.unary_stream

            async def unary_stream(raw: bytes,
                                   context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                call = _Call(service, method, context)
                try:
                    async for item in inner_stream(_parse(deserialize, raw, method), context):
                        yield item
                except BaseException as e:  # noqa: BLE001 - re-raised by fail()
                    await call.fail(e)
                finally:
                    call.finish()

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, None, handler.response_serializer)
        return handler  # client-streaming methods: none in the v1 API
