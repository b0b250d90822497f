"""The blocking client."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence

import grpc
import numpy as np
from google.protobuf.message import Message

from cliplens.client import operations as ops
from cliplens.client.convert import Classification
from cliplens.client.errors import CliplensClientError, from_rpc_error
from cliplens.client.progress import ProgressBar
from cliplens.core.channels import channel_credentials, sync_channel
from cliplens.v1 import (
    embedding_pb2_grpc,
    explanation_pb2_grpc,
    gateway_pb2_grpc,
    lexicon_pb2_grpc,
)

DEFAULT_TARGET = "127.0.0.1:50150"


def default_target() -> str:
    """`$CLIPLENS_TARGET`, else the local deployment's gateway."""
    return os.environ.get("CLIPLENS_TARGET", DEFAULT_TARGET)


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


def _operation(build: Callable[..., ops.Operation]):
    """A Client method running the operation `build` makes (docstring included)."""
    @functools.wraps(build)
    def method(self, *args, progress=None, **kwargs):
        return self.run(build(*args, **kwargs), progress=progress)
    return method


class Client:
    """A connection to a cliplens gateway (or directly to one service, for operators).

    `timeout`: default deadline of every call in seconds (None: none). `retries`: extra
    attempts after UNAVAILABLE, with backoff. `ca` turns on TLS (with `cert` and `key` for
    mutual TLS).
    """

    def __init__(self, target: str | None = None, *, api_key: str | None = None,
                 timeout: float | None = None, retries: int = 3, ca: str | None = None,
                 cert: str | None = None, key: str | None = None, max_message_mb: int = 64):
        creds = channel_credentials(ca, cert or "", key or "") if ca else None
        self.target = target = target or default_target()
        self.timeout = timeout
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_key}"),) if api_key else ())
        self.channel = sync_channel(target, credentials=creds, max_attempts=1 + retries,
                                    max_message_bytes=max_message_mb << 20)
        self.embedding = _Service(embedding_pb2_grpc.EmbeddingServiceStub(self.channel), self)
        self.lexicon = _Service(lexicon_pb2_grpc.LexiconServiceStub(self.channel), self)
        self.explanation = _Service(
            explanation_pb2_grpc.ExplanationServiceStub(self.channel), self)
        self.gateway = _Service(gateway_pb2_grpc.GatewayServiceStub(self.channel), self)

    def run(self, op: ops.Operation, *, progress=None):
        """Run one operation; `progress(done, total, stage)` sees a long call's progress."""
        reply = getattr(getattr(self, op.service), op.method)(op.request)
        if not op.streaming:
            return op.parse(reply)
        for message in reply:
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

    def classify_many(self, images: Sequence, labels: Sequence[str], *, batch_size: int = 32,
                      progress: bool = True, **kwargs) -> Classification:
        """`classify` over a long list in batches, with a progress bar on stderr."""
        parts, bar = [], ProgressBar(len(images), "classify", enabled=progress)
        for start in range(0, len(images), batch_size):
            parts.append(self.classify(list(images[start:start + batch_size]), labels, **kwargs))
            bar.advance(len(parts[-1].probabilities))
        bar.close()
        return Classification(parts[0].model, parts[0].labels,
                              np.concatenate([p.probabilities for p in parts]))

    def encode_images_many(self, images: Sequence, *, batch_size: int = 64,
                           progress: bool = True, **kwargs) -> np.ndarray:
        """`encode_images` over a long list in batches, with a progress bar on stderr."""
        parts, bar = [], ProgressBar(len(images), "encode", enabled=progress)
        for start in range(0, len(images), batch_size):
            parts.append(self.encode_images(list(images[start:start + batch_size]), **kwargs))
            bar.advance(len(parts[-1]))
        bar.close()
        return np.concatenate(parts)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
