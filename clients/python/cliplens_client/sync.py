"""The blocking client."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from google.protobuf.message import Message

from cliplens.client.convert import (
    Classification,
    ConceptMap,
    ConvisResult,
    Map,
    Model,
    MutualKnowledge,
    SurgeryResult,
    points_from_proto,
    to_image,
)
from cliplens.client.errors import CliplensClientError, from_rpc_error
from cliplens.core.channels import channel_credentials, sync_channel
from cliplens.core.tensors import from_proto
from cliplens.v1 import (
    embedding_pb2_grpc,
    explanation_pb2,
    explanation_pb2_grpc,
    gateway_pb2_grpc,
    lexicon_pb2_grpc,
)

DEFAULT_TARGET = "127.0.0.1:50150"
_SURGERY_MODES = {"auto": 0, "label_set": 1, "single_text": 2, "raw": 3}
_CONVIS_MODES = {"grid": 1, "stochastic": 2, "dense": 3}


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

    # High-level helpers: inputs as paths, bytes, arrays or PIL images; outputs as numpy
    # arrays and dataclasses.

    def classify(self, images, labels: list[str], *, templates: list[str] | None = None,
                 model: str = "") -> Classification:
        """Zero-shot probabilities of each label (names or synset ids) for each image."""
        images = images if isinstance(images, list) else [images]
        reply = self.explanation.Classify(explanation_pb2.ClassifyRequest(
            model=model, images=[to_image(i) for i in images], labels=labels,
            templates=templates or []))
        return Classification(Model.from_proto(reply.model), list(reply.labels),
                              from_proto(reply.probabilities))

    def surgery(self, images, labels: list[str], *, mode: str = "auto", overlay: bool = False,
                points: bool = False, templates: list[str] | None = None,
                model: str = "") -> SurgeryResult:
        """CLIP Surgery maps of each label on each image.

        `mode`: "auto" (label set for two or more labels, single text for one),
        "label_set", "single_text" or "raw" (the unmodified-CLIP baseline).
        """
        images = images if isinstance(images, list) else [images]
        reply = self.explanation.Surgery(explanation_pb2.SurgeryRequest(
            model=model, images=[to_image(i) for i in images], labels=labels,
            mode=_SURGERY_MODES[mode], overlay=overlay, point_prompts=points,
            templates=templates or []))
        return SurgeryResult(
            Model.from_proto(reply.model), list(reply.labels),
            [[Map.from_proto(m) for m in r.maps] for r in reply.results],
            [[points_from_proto(p) for p in r.points] for r in reply.results],
            dict(reply.parameters))

    def convis(self, image, concepts: list[str] | str, *, mode: str = "grid",
               dictionary: str = "", overlay: bool = False, seed: int = 0,
               progress=None, model: str = "") -> ConvisResult:
        """ConVis maps of WordNet concepts; `progress(done, total, stage)` sees long calls."""
        concepts = [concepts] if isinstance(concepts, str) else concepts
        request = explanation_pb2.ConvisRequest(
            model=model, image=to_image(image), concepts=concepts, dictionary=dictionary,
            mode=_CONVIS_MODES[mode], overlay=overlay, seed=seed)
        for reply in self.explanation.Convis(request):
            if reply.HasField("progress"):
                if progress:
                    progress(reply.progress.done, reply.progress.total, reply.progress.stage)
                continue
            r = reply.result
            return ConvisResult(
                Model.from_proto(r.model),
                [ConceptMap(c.concept, Map.from_proto(c.map), c.subtree_size) for c in r.maps],
                r.dictionary_id, r.dictionary_content_hash, r.windows, r.seconds,
                dict(r.parameters))
        raise CliplensClientError(grpc.StatusCode.INTERNAL, "stream ended without a result")

    def mutual_knowledge(self, image, labels: list[str], *, bank: str = "",
                         method: str = "pca", features: str = "tokens",
                         estimator: str = "contingency", evaluate: bool = False,
                         overlay: bool = False, seed: int = 0, progress=None,
                         model: str = "") -> MutualKnowledge:
        """The mutual-knowledge analysis of the zero-shot prediction over `labels`."""
        options = explanation_pb2.MutualKnowledgeOptions(
            method=2 if method == "kmeans" else 1, features=2 if features == "keys" else 1,
            estimator=2 if estimator == "paper" else 1, evaluate=evaluate, overlay=overlay,
            seed=seed)
        request = explanation_pb2.MutualKnowledgeRequest(
            model=model, image=to_image(image), labels=labels, bank=bank, options=options)
        for reply in self.explanation.MutualKnowledge(request):
            if reply.HasField("progress"):
                if progress:
                    progress(reply.progress.done, reply.progress.total, reply.progress.stage)
                continue
            return MutualKnowledge.from_proto(reply.result)
        raise CliplensClientError(grpc.StatusCode.INTERNAL, "stream ended without a result")

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
