"""The SDK's high-level calls, written once: a request to build and a reply to parse.

`Client` (blocking) and `AsyncClient` (asyncio) run the same operations; only the waiting
differs. Long calls stream `Progress` before their result; `progress(done, total, stage)`
sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cliplens.client.convert import (
    Classification,
    ConceptMap,
    ConvisResult,
    ImageLike,
    Map,
    Model,
    MutualKnowledge,
    SurgeryResult,
    points_from_proto,
    to_image,
)
from cliplens.core.tensors import from_proto
from cliplens.explanation.methods import (
    CONCEPT_FEATURES,
    CONCEPT_METHODS,
    CONVIS_MODES,
    MI_ESTIMATORS,
    SURGERY_MODES,
    TEMPLATE_SETS,
    Choices,
)
from cliplens.v1 import embedding_pb2, explanation_pb2, gateway_pb2, lexicon_pb2


@dataclass(frozen=True)
class Operation:
    """One call: which RPC, with what request, and how to read the reply."""

    service: str  # "embedding", "lexicon", "explanation" or "gateway"
    method: str
    request: Any
    parse: Callable[[Any], Any]
    streaming: bool = False  # server-streaming: Progress messages, then one result


def _images(images: ImageLike | Sequence[ImageLike]) -> list:
    if isinstance(images, (list, tuple)):
        return [to_image(i) for i in images]
    return [to_image(images)]


def _choice(name: str, value: str, table: Choices) -> int:
    return table.value(value, field=name)


def models() -> Operation:
    """The models the embedding service holds (ListModelsResponse)."""
    return Operation("embedding", "ListModels", embedding_pb2.ListModelsRequest(),
                     lambda r: r)


def status() -> Operation:
    """The gateway's view: version, peers' health, who the caller is."""
    return Operation("gateway", "GetStatus", gateway_pb2.GetStatusRequest(), lambda r: r)


def encode_images(images, *, normalize: bool = True, model: str = "") -> Operation:
    """Image embeddings: float32 (N, D)."""
    return Operation("embedding", "EncodeImages", embedding_pb2.EncodeImagesRequest(
        model=model, images=_images(images), normalize=normalize),
        lambda r: from_proto(r.embeddings))


def encode_texts(texts: Sequence[str], *, normalize: bool = True, model: str = "") -> Operation:
    """Text embeddings: float32 (N, D)."""
    return Operation("embedding", "EncodeTexts", embedding_pb2.EncodeTextsRequest(
        model=model, texts=list(texts), normalize=normalize),
        lambda r: from_proto(r.embeddings))


def classify(images, labels: Sequence[str], *, templates: Sequence[str] = (),
             model: str = "") -> Operation:
    """Zero-shot probabilities of each label (names or synset ids) for each image."""
    return Operation("explanation", "Classify", explanation_pb2.ClassifyRequest(
        model=model, images=_images(images), labels=list(labels), templates=list(templates)),
        lambda r: Classification(Model.from_proto(r.model), list(r.labels),
                                 from_proto(r.probabilities)))


def rank(images, texts: Sequence[str], *, top_k: int = 0, model: str = "") -> Operation:
    """Cosine similarities (N images, M texts)."""
    return Operation("explanation", "Rank", explanation_pb2.RankRequest(
        model=model, images=_images(images), texts=list(texts), top_k=top_k),
        lambda r: from_proto(r.similarities))


def surgery(images, labels: Sequence[str], *, mode: str = "auto", overlay: bool = False,
            points: bool = False, templates: Sequence[str] = (), template_set: str = "default",
            model: str = "") -> Operation:
    """CLIP Surgery maps of each label on each image.

    `mode`: "auto" (label set for two or more labels, single text for one), "label_set",
    "single_text" or "raw" (the unmodified-CLIP baseline). `template_set` (when `templates`
    is empty): "default", "openai_imagenet" (80) or "clip_surgery" (85).
    """
    return Operation("explanation", "Surgery", explanation_pb2.SurgeryRequest(
        model=model, images=_images(images), labels=list(labels),
        mode=_choice("mode", mode, SURGERY_MODES), overlay=overlay, point_prompts=points,
        templates=list(templates),
        template_set=_choice("template_set", template_set, TEMPLATE_SETS)),
        lambda r: SurgeryResult(
            Model.from_proto(r.model), list(r.labels),
            [[Map.from_proto(m) for m in x.maps] for x in r.results],
            [[points_from_proto(p) for p in x.points] for x in r.results],
            dict(r.parameters)))


def convis(image, concepts: Sequence[str] | str, *, mode: str = "grid", dictionary: str = "",
           overlay: bool = False, seed: int = 0, model: str = "") -> Operation:
    """ConVis maps of WordNet concepts (synset ids) on one image."""
    concepts = [concepts] if isinstance(concepts, str) else list(concepts)

    def parse(reply) -> ConvisResult:
        r = reply.result
        return ConvisResult(
            Model.from_proto(r.model),
            [ConceptMap(c.concept, Map.from_proto(c.map), c.subtree_size) for c in r.maps],
            r.dictionary_id, r.dictionary_content_hash, r.windows, r.seconds,
            dict(r.parameters))

    return Operation("explanation", "Convis", explanation_pb2.ConvisRequest(
        model=model, image=to_image(image), concepts=concepts, dictionary=dictionary,
        mode=_choice("mode", mode, CONVIS_MODES), overlay=overlay, seed=seed), parse,
        streaming=True)


def mutual_knowledge(image, labels: Sequence[str], *, bank: str = "", method: str = "pca",
                     features: str = "tokens", estimator: str = "paper",
                     evaluate: bool = False, overlay: bool = False, seed: int = 0,
                     model: str = "") -> Operation:
    """The mutual-knowledge analysis of the zero-shot prediction over `labels`."""
    options = explanation_pb2.MutualKnowledgeOptions(
        method=_choice("method", method, CONCEPT_METHODS),
        features=_choice("features", features, CONCEPT_FEATURES),
        estimator=_choice("estimator", estimator, MI_ESTIMATORS),
        evaluate=evaluate, overlay=overlay, seed=seed)
    return Operation("explanation", "MutualKnowledge", explanation_pb2.MutualKnowledgeRequest(
        model=model, image=to_image(image), labels=list(labels), bank=bank, options=options),
        lambda reply: MutualKnowledge.from_proto(reply.result), streaming=True)


def synset(ident: str) -> Operation:
    """A WordNet synset by name, wnid or offset (lexicon Synset message)."""
    return Operation("lexicon", "GetSynset", lexicon_pb2.GetSynsetRequest(id=ident),
                     lambda r: r.synset)


def search(lemma: str, *, pos: str = "", limit: int = 0) -> Operation:
    """Synsets of a lemma."""
    code = lexicon_pb2.PartOfSpeech.Value(f"PART_OF_SPEECH_{pos.upper()}") if pos else 0
    return Operation("lexicon", "SearchSynsets", lexicon_pb2.SearchSynsetsRequest(
        lemma=lemma, pos=code, limit=limit), lambda r: list(r.synsets))


def overlay(image: ImageLike, saliency: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The map drawn over its image: (H, W, 3) uint8 (the map is resized to the image)."""
    from PIL import Image

    from cliplens.core.images import decode_image, to_array
    from cliplens.explanation.render import colorize

    pixels = to_array(decode_image(to_image(image).data))
    values = np.asarray(saliency, np.float32)
    if values.shape != pixels.shape[:2]:
        values = np.asarray(Image.fromarray(values).resize(
            (pixels.shape[1], pixels.shape[0]), Image.BILINEAR))
    blended = pixels * (1 - alpha) + colorize(values) * alpha
    return np.clip(blended, 0, 255).astype(np.uint8)
