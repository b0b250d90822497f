"""The explanation service's view of its peers: typed async calls, errors passed on.

Every call carries the caller's remaining deadline, so work a caller abandoned stops on the
embedding side too; a peer's error comes back with the peer's status (UNAVAILABLE names it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc
import numpy as np
from google.protobuf.message import Message

from cliplens.core.channels import aio_channel, from_peer, peer_credentials
from cliplens.core.interceptors import REQUEST_ID_KEY
from cliplens.core.logs import REQUEST_ID
from cliplens.core.tensors import from_proto
from cliplens.explanation.config import ExplanationConfig
from cliplens.v1 import common_pb2, embedding_pb2, embedding_pb2_grpc, lexicon_pb2, lexicon_pb2_grpc

T = TypeVar("T")


@dataclass(frozen=True)
class Dense:
    """Dense tokens of a batch of images (class token first)."""

    model: common_pb2.ModelRef
    tokens: np.ndarray  # (B, 1 + h*w, D)
    grid: tuple[int, int]
    keys: np.ndarray | None


class Peers:
    """Stubs for embedding and lexicon, with deadlines and request ids applied."""

    def __init__(self, config: ExplanationConfig):
        creds = peer_credentials(config)
        self.embedding_channel = aio_channel(config.embedding_target, credentials=creds,
                                             max_message_bytes=config.max_message_bytes)
        self.lexicon_channel = aio_channel(config.lexicon_target, credentials=creds,
                                           max_message_bytes=config.max_message_bytes)
        self.embedding = embedding_pb2_grpc.EmbeddingServiceStub(self.embedding_channel)
        self.lexicon = lexicon_pb2_grpc.LexiconServiceStub(self.lexicon_channel)

    async def close(self) -> None:
        await self.embedding_channel.close()
        await self.lexicon_channel.close()

    @staticmethod
    def _kwargs(timeout: float | None) -> dict:
        rid = REQUEST_ID.get()
        return {"timeout": None if timeout is None else max(timeout, 0.001),
                "metadata": ((REQUEST_ID_KEY, rid),) if rid else ()}

    async def _call(self, peer: str, method: Callable[..., Awaitable[T]], request: Message,
                    timeout: float | None) -> T:
        try:
            return await method(request, **self._kwargs(timeout))
        except grpc.aio.AioRpcError as e:
            raise from_peer(e, peer) from None

    # embedding

    async def model_info(self, model: str, timeout: float | None = None) -> embedding_pb2.ModelInfo:
        reply = await self._call("embedding", self.embedding.GetModel,
                                 embedding_pb2.GetModelRequest(model=model), timeout)
        return reply.model

    async def encode_texts(self, model: str, texts: Sequence[str], timeout: float | None = None
                           ) -> tuple[common_pb2.ModelRef, np.ndarray]:
        reply = await self._call("embedding", self.embedding.EncodeTexts,
                                 embedding_pb2.EncodeTextsRequest(model=model, texts=list(texts),
                                                                  normalize=True), timeout)
        return reply.model, from_proto(reply.embeddings, name="embeddings")

    async def encode_images(self, model: str, images: Sequence[bytes],
                            timeout: float | None = None
                            ) -> tuple[common_pb2.ModelRef, np.ndarray]:
        reply = await self._call("embedding", self.embedding.EncodeImages,
                                 embedding_pb2.EncodeImagesRequest(
                                     model=model, normalize=True,
                                     images=[common_pb2.Image(data=b) for b in images]),
                                 timeout)
        return reply.model, from_proto(reply.embeddings, name="embeddings")

    async def dense(self, model: str, images: Sequence[bytes], *, surgery: bool,
                    keys: bool = False, size: tuple[int, int] = (0, 0), residual: bool = False,
                    keys_without_bias: bool = False, timeout: float | None = None) -> Dense:
        mode = embedding_pb2.DENSE_MODE_SURGERY if surgery else embedding_pb2.DENSE_MODE_RAW
        request = embedding_pb2.EncodeDenseRequest(
            model=model, images=[common_pb2.Image(data=b) for b in images], mode=mode,
            include_keys=keys, normalize=False, input_height=size[0], input_width=size[1],
            residual=residual, keys_without_bias=keys_without_bias)
        reply = await self._call("embedding", self.embedding.EncodeDense, request, timeout)
        return Dense(reply.model, from_proto(reply.tokens, name="tokens"),
                     (reply.grid_height, reply.grid_width),
                     from_proto(reply.keys, name="keys") if keys else None)

    async def regions(self, model: str, image: bytes, boxes: np.ndarray, *, seed: int,
                      padding: int, chunk: int,
                      timeout: float | None = None
                      ) -> AsyncIterator[tuple[common_pb2.ModelRef, int, np.ndarray]]:
        request = embedding_pb2.EncodeRegionsRequest(
            model=model, image=common_pb2.Image(data=image),
            padding=embedding_pb2.Padding.ValueType(padding), noise_seed=seed,
            normalize=True, chunk_size=chunk,
            windows=[common_pb2.Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3]) for b in boxes])
        call = self.embedding.EncodeRegions(request, **self._kwargs(timeout))
        try:
            async for reply in call:
                yield reply.model, reply.offset, from_proto(reply.embeddings, name="embeddings")
        except grpc.aio.AioRpcError as e:
            raise from_peer(e, "embedding") from None
        finally:
            if not call.done():
                call.cancel()

    # lexicon

    async def synset(self, ident: str, timeout: float | None = None) -> lexicon_pb2.Synset:
        reply = await self._call("lexicon", self.lexicon.GetSynset,
                                 lexicon_pb2.GetSynsetRequest(id=ident), timeout)
        return reply.synset

    async def synsets(self, idents: Sequence[str],
                      timeout: float | None = None) -> list[lexicon_pb2.Synset]:
        """Several synsets in one lexicon call, in order."""
        reply = await self._call("lexicon", self.lexicon.GetSynsets,
                                 lexicon_pb2.GetSynsetsRequest(ids=list(idents)), timeout)
        return list(reply.synsets)

    async def dictionary(self, ident: str,
                         timeout: float | None = None) -> lexicon_pb2.GetDictionaryResponse:
        return await self._call("lexicon", self.lexicon.GetDictionary,
                                lexicon_pb2.GetDictionaryRequest(id=ident), timeout)

    async def subtree(self, dictionary: str, synset: str,
                      timeout: float | None = None) -> lexicon_pb2.GetSubtreeResponse:
        return await self._call("lexicon", self.lexicon.GetSubtree,
                                lexicon_pb2.GetSubtreeRequest(dictionary_id=dictionary,
                                                              synset=synset), timeout)

    async def bank(self, ident: str, timeout: float | None = None) -> lexicon_pb2.GetBankResponse:
        return await self._call("lexicon", self.lexicon.GetBank,
                                lexicon_pb2.GetBankRequest(id=ident), timeout)

    async def generate_bank(self, name: str, synsets: Sequence[str],
                            timeout: float | None = None) -> lexicon_pb2.GenerateBankResponse:
        return await self._call("lexicon", self.lexicon.GenerateBank,
                                lexicon_pb2.GenerateBankRequest(name=name, synsets=list(synsets),
                                                                replace=True), timeout)
