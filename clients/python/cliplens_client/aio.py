"""The asyncio client: the same operations as `Client`, awaited."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable

import grpc

from cliplens.client import operations as ops
from cliplens.client.errors import CliplensClientError, from_rpc_error
from cliplens.client.sync import default_target
from cliplens.core.channels import aio_channel, channel_credentials
from cliplens.v1 import (
    embedding_pb2_grpc,
    explanation_pb2_grpc,
    gateway_pb2_grpc,
    lexicon_pb2_grpc,
)


class _Service:
    """One service's RPCs, awaitable (unary) or async-iterable (server-streaming)."""

    def __init__(self, stub, client: AsyncClient):
        self._stub = stub
        self._client = client

    def __getattr__(self, name: str):
        method = getattr(self._stub, name)
        client = self._client

        def call(request, *, timeout: float | None = None, metadata=()):
            kwargs = {"timeout": timeout if timeout is not None else client.timeout,
                      "metadata": (*client.metadata, *metadata)}
            result = method(request, **kwargs)
            if isinstance(result, grpc.aio.UnaryStreamCall):
                return _stream(result)
            return _unary(result)

        call.__name__ = name
        return call


async def _unary(call):
    try:
        return await call
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None


async def _stream(call) -> AsyncIterator:
    try:
        async for item in call:
            yield item
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None


def _operation(build: Callable[..., ops.Operation]):
    @functools.wraps(build)
    async def method(self, *args, progress=None, **kwargs):
        return await self.run(build(*args, **kwargs), progress=progress)
    return method


class AsyncClient:
    """An asyncio connection to a cliplens gateway; use `async with AsyncClient(...) as c`."""

    def __init__(self, target: str | None = None, *, api_key: str | None = None,
                 timeout: float | None = None, retries: int = 3, ca: str | None = None,
                 cert: str | None = None, key: str | None = None, max_message_mb: int = 64):
        creds = channel_credentials(ca, cert or "", key or "") if ca else None
        self.target = target = target or default_target()
        self.timeout = timeout
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_key}"),) if api_key else ())
        self.channel = aio_channel(target, credentials=creds, max_attempts=1 + retries,
                                   max_message_bytes=max_message_mb << 20)
        self.embedding = _Service(embedding_pb2_grpc.EmbeddingServiceStub(self.channel), self)
        self.lexicon = _Service(lexicon_pb2_grpc.LexiconServiceStub(self.channel), self)
        self.explanation = _Service(
            explanation_pb2_grpc.ExplanationServiceStub(self.channel), self)
        self.gateway = _Service(gateway_pb2_grpc.GatewayServiceStub(self.channel), self)

    async def run(self, op: ops.Operation, *, progress=None):
        """Run one operation; `progress(done, total, stage)` sees a long call's progress."""
        call = getattr(getattr(self, op.service), op.method)(op.request)
        if not op.streaming:
            return op.parse(await call)
        async for message in call:
            if message.HasField("progress"):
                if progress:
                    progress(message.progress.done, message.progress.total,
                             message.progress.stage)
                continue
            return op.parse(message)
        raise CliplensClientError(grpc.StatusCode.INTERNAL, "stream ended without a result")

    models = _operation(ops.models)
    status = _operation(ops.status)
    encode_images = _operation(ops.encode_images)
    encode_texts = _operation(ops.encode_texts)
    classify = _operation(ops.classify)
    rank = _operation(ops.rank)
    surgery = _operation(ops.surgery)
    convis = _operation(ops.convis)
    mutual_knowledge = _operation(ops.mutual_knowledge)
    synset = _operation(ops.synset)
    search = _operation(ops.search)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
