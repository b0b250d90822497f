"""The gateway's pass-through of EmbeddingService, LexiconService and ExplanationService.

Requests and responses travel as raw bytes (never parsed here): the peers validate them.
Each call is authenticated, authorised and rate-limited, then forwarded with the caller's
remaining deadline and request id; a server-streaming call's upstream is cancelled when the
caller goes away, so abandoned work stops on the peers too. Idempotent calls are retried with
backoff when a peer answers UNAVAILABLE (the channel also retries transparently and balances
over replicas).
"""

from __future__ import annotations

import asyncio
import logging
import random

import grpc

from cliplens.core.channels import NON_IDEMPOTENT, from_peer
from cliplens.core.errors import Overloaded, PermissionDenied, Unauthenticated
from cliplens.core.interceptors import REQUEST_ID_KEY
from cliplens.core.logs import REQUEST_ID
from cliplens.gateway import metrics
from cliplens.gateway.auth import Guard
from cliplens.v1 import embedding_pb2, explanation_pb2, lexicon_pb2

log = logging.getLogger(__name__)

# Proxied service -> the peer that serves it.
PROXIED = {
    embedding_pb2.DESCRIPTOR.services_by_name["EmbeddingService"]: "embedding",
    lexicon_pb2.DESCRIPTOR.services_by_name["LexiconService"]: "lexicon",
    explanation_pb2.DESCRIPTOR.services_by_name["ExplanationService"]: "explanation",
}
PROXIED_NAMES = [s.full_name for s in PROXIED]


def _forward_metadata(metadata) -> tuple[tuple[str, str], ...]:
    """What the peer sees: the request id, never the caller's credentials."""
    return ((REQUEST_ID_KEY, REQUEST_ID.get()),) if REQUEST_ID.get() else ()


def _timeout(context: grpc.aio.ServicerContext, default: float | None) -> float | None:
    """The caller's remaining time, or `default` when the caller set no deadline."""
    remaining = context.time_remaining()
    return default if remaining is None else max(remaining, 0.001)


class Proxy(grpc.GenericRpcHandler):
    """Generic handler that forwards the proxied services' methods to their peers."""

    def __init__(self, guard: Guard, channels: dict[str, grpc.aio.Channel], *,
                 attempts: int = 4, upstream_timeout: float | None = None):
        self.guard = guard
        self.channels = channels
        self.attempts = attempts
        self.upstream_timeout = upstream_timeout or None
        self.methods: dict[str, tuple[str, bool]] = {}
        for service, peer in PROXIED.items():
            for m in service.methods:
                self.methods[f"/{service.full_name}/{m.name}"] = (peer, m.server_streaming)

    def service(self, handler_call_details):
        entry = self.methods.get(handler_call_details.method)
        if entry is None:
            return None
        peer, streaming = entry
        method = handler_call_details.method
        if streaming:
            return grpc.unary_stream_rpc_method_handler(self._streaming(method, peer))
        return grpc.unary_unary_rpc_method_handler(self._unary(method, peer))

    def _admit(self, context, method: str) -> None:
        try:
            self.guard.check(context.invocation_metadata(), method)
        except Unauthenticated:
            metrics.AUTH_FAILURES.labels("unauthenticated").inc()
            raise
        except PermissionDenied:
            metrics.AUTH_FAILURES.labels("permission_denied").inc()
            raise
        except Overloaded:
            metrics.RATE_LIMITED.labels(self.guard.authenticate(
                context.invocation_metadata()).name).inc()
            raise

    def _unary(self, method: str, peer: str):
        retriable = method not in NON_IDEMPOTENT

        async def handle(request: bytes, context):
            self._admit(context, method)
            call = self.channels[peer].unary_unary(method)
            delay = 0.05
            for attempt in range(1, self.attempts + 1):
                try:
                    return await call(request, timeout=_timeout(context, self.upstream_timeout),
                                      metadata=_forward_metadata(context))
                except grpc.aio.AioRpcError as e:
                    again = (retriable and e.code() == grpc.StatusCode.UNAVAILABLE
                             and attempt < self.attempts)
                    remaining = context.time_remaining()
                    if again and (remaining is None or remaining > delay):
                        metrics.RETRIES.labels(peer).inc()
                        await asyncio.sleep(delay * (0.5 + random.random()))
                        delay = min(delay * 2, 1.0)
                        continue
                    metrics.UPSTREAM_ERRORS.labels(peer, e.code().name).inc()
                    raise from_peer(e, peer) from None
            raise AssertionError("unreachable")

        return handle

    def _streaming(self, method: str, peer: str):
        async def handle(request: bytes, context):
            self._admit(context, method)
            call = self.channels[peer].unary_stream(method)(
                request, timeout=_timeout(context, self.upstream_timeout),
                metadata=_forward_metadata(context))
            try:
                async for item in call:
                    yield item
            except grpc.aio.AioRpcError as e:
                metrics.UPSTREAM_ERRORS.labels(peer, e.code().name).inc()
                raise from_peer(e, peer) from None
            finally:
                if not call.done():
                    call.cancel()  # the caller left: stop the peer's work too

        return handle
