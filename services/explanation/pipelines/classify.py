"""Zero-shot classification and image-text ranking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.common import InputImage
from cliplens.explanation.texts import (
    check_templates,
    class_embeddings,
    default_templates,
    resolve_labels,
)
from cliplens.v1 import common_pb2

DEFAULT_LOGIT_SCALE = 100.0  # OpenAI CLIP's, when a model does not report its own


@dataclass
class ZeroShot:
    """Zero-shot probabilities (N, K) of the labels, as prompted."""

    model: common_pb2.ModelRef
    labels: list[str]
    probabilities: np.ndarray
    image_embeddings: np.ndarray
    class_embeddings: np.ndarray
    logit_scale: float


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


async def zero_shot(peers: Peers, cache: EmbeddingCache, *, model: str,
                    images: Sequence[InputImage], labels: Sequence[str],
                    templates: Sequence[str] = (), max_labels: int = 1000,
                    timeout: float | None = None) -> ZeroShot:
    """Prompt-ensembled zero-shot classification of each image over the labels."""
    texts = await resolve_labels(peers, labels, max_labels=max_labels, timeout=timeout)
    info = await peers.model_info(model, timeout=timeout)
    templates = check_templates(templates) if templates else default_templates(info)
    classes = await class_embeddings(peers, cache, model, info.ref.fingerprint, texts,
                                     templates, timeout=timeout)
    ref, emb = await peers.encode_images(model, [i.data for i in images], timeout=timeout)
    scale = float(info.logit_scale) or DEFAULT_LOGIT_SCALE
    probs = softmax(scale * emb @ classes.T).astype(np.float32)
    return ZeroShot(ref, texts, probs, emb, classes, scale)


async def rank(peers: Peers, *, model: str, images: Sequence[InputImage],
               texts: Sequence[str], timeout: float | None = None
               ) -> tuple[common_pb2.ModelRef, np.ndarray]:
    """Cosine similarities (N, M) between images and texts."""
    if not texts:
        raise InvalidArgument("texts: expected at least one text, got none")
    _, text_emb = await peers.encode_texts(model, list(texts), timeout=timeout)
    ref, image_emb = await peers.encode_images(model, [i.data for i in images], timeout=timeout)
    return ref, (image_emb @ text_emb.T).astype(np.float32)
