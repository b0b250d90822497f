"""The blocking client."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from google.protobuf.message import Message

from cliplens.client.errors import from_rpc_error
from cliplens.core.channels import channel_credentials, sync_channel
from cliplens.v1 import (
    embedding_pb2_grpc,
    explanation_pb2_grpc,
    gateway_pb2_grpc,
    lexicon_pb2_grpc,
)

DEFAULT_TARGET = "127.0.0.1:50150"


class _Service:
    """One service's RPCs with the client's metadata, deadline and error mapping applied."""

    def __init__(self, stub, client: Client):
        self._stub = stub
        self._client = client

    def __getattr__(self, name: str):
        method = getattr(self._stub, name)
        client = self._client

        def call(request, *, timeout: float | None = None, metadata=()):
            kwargs = {"timeout": timeout if timeout is not None else client.timeout,
                      "metadata": (*client.metadata, *metadata)}
            try:
                result = method(request, **kwargs)
            except grpc.RpcError as e:
                raise from_rpc_error(e) from None
            if isinstance(result, Message):
                return result
            return _stream(result)  # server-streaming: errors surface while iterating

        call.__name__ = name
        return call


def _stream(responses) -> Iterator:
    try:
        yield from responses
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None


class Client:
    """A connection to a cliplens gateway (or directly to one service, for operators).

    `timeout` is the default deadline of every call in seconds (None: no deadline).
    `ca` turns on TLS (with `cert` and `key` for mutual TLS).
    """

    def __init__(self, target: str = DEFAULT_TARGET, *, api_key: str | None = None,
                 timeout: float | None = None, ca: str | None = None, cert: str | None = None,
                 key: str | None = None, max_message_mb: int = 64):
        creds = channel_credentials(ca, cert or "", key or "") if ca else None
        self.target = target
        self.timeout = timeout
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_key}"),) if api_key else ())
        self.channel = sync_channel(target, credentials=creds,
                                    max_message_bytes=max_message_mb << 20)
        self.embedding = _Service(embedding_pb2_grpc.EmbeddingServiceStub(self.channel), self)
        self.lexicon = _Service(lexicon_pb2_grpc.LexiconServiceStub(self.channel), self)
        self.explanation = _Service(
            explanation_pb2_grpc.ExplanationServiceStub(self.channel), self)
        self.gateway = _Service(gateway_pb2_grpc.GatewayServiceStub(self.channel), self)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
