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

    def __init__(self, service: str, method: str, kind: str,
                 context: grpc.aio.ServicerContext):
        self.service, self.method, self.context = service, method, context
        self.labels = (service, method, kind)
        self.code = grpc.StatusCode.OK
        self.start = time.perf_counter()
        self.rid = _request_id(context)
        self.token = REQUEST_ID.set(self.rid)
        metrics.REQUESTS_STARTED.labels(*self.labels).inc()
        metrics.IN_FLIGHT.labels(*self.labels).inc()
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
        metrics.REQUESTS_HANDLED.labels(*self.labels, code).inc()
        metrics.REQUEST_SECONDS.labels(*self.labels).observe(elapsed)
        metrics.IN_FLIGHT.labels(*self.labels).dec()
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


_HANDLER_FACTORIES = {
    "unary": grpc.unary_unary_rpc_method_handler,
    "server_stream": grpc.unary_stream_rpc_method_handler,
    "client_stream": grpc.stream_unary_rpc_method_handler,
    "bidi_stream": grpc.stream_stream_rpc_method_handler,
}


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
        kind = metrics.grpc_type(handler.request_streaming, handler.response_streaming)
        inner = (handler.unary_unary or handler.unary_stream or handler.stream_unary
                 or handler.stream_stream)
        # gRPC parses each message of a request stream as the handler reads it; a single
        # request is parsed here (see `_parse`).
        deserialize = handler.request_deserializer if handler.request_streaming else None

        def parse(request: Any) -> Any:
            if handler.request_streaming:
                return request
            return _parse(handler.request_deserializer, request, method)

        async def streaming(request: Any,
                            context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            call = _Call(service, method, kind, context)
            try:
                async for item in inner(parse(request), context):
                    yield item
            except BaseException as e:  # noqa: BLE001 - re-raised by fail()
                await call.fail(e)
            finally:
                call.finish()

        async def single(request: Any, context: grpc.aio.ServicerContext) -> Any:
            call = _Call(service, method, kind, context)
            try:
                return await inner(parse(request), context)
            except BaseException as e:  # noqa: BLE001 - re-raised by fail()
                await call.fail(e)
            finally:
                call.finish()

        behaviour = streaming if handler.response_streaming else single
        return _HANDLER_FACTORIES[kind](behaviour, deserialize, handler.response_serializer)
