"""Labels, prompt templates and class text embeddings.

A label is free text ("a red car") or a WordNet synset id ("car.n.01", "n02958343"), which the
lexicon resolves to its first lemma. A class embedding is the normalised mean of the normalised
embeddings of the label in every prompt template (prompt ensembling).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.prompts import class_embeddings as ensemble
from cliplens.explanation.base.prompts import (
    clip_surgery_templates,
    format_prompts,
    openai_imagenet_templates,
)
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.peers import Peers
from cliplens.lexicon.ids import is_synset_id
from cliplens.v1 import embedding_pb2
from cliplens.v1 import explanation_pb2 as pb

MAX_LABEL_CHARS = 1000


TEMPLATE_SETS: dict[int, Callable[[], tuple[str, ...]]] = {
    pb.TEMPLATE_SET_OPENAI_IMAGENET: openai_imagenet_templates,
    pb.TEMPLATE_SET_CLIP_SURGERY: clip_surgery_templates}


def default_templates(info: embedding_pb2.ModelInfo,
                      template_set: int = pb.TEMPLATE_SET_OPENAI_IMAGENET) -> list[str]:
    """The model's own prompt templates, else the set's (OpenAI's 80 ImageNet templates)."""
    return list(info.prompt_templates) or list(TEMPLATE_SETS[template_set]())


def choose_templates(info: embedding_pb2.ModelInfo, templates: Sequence[str],
                     template_set: int, *, default_set: int) -> list[str]:
    """The caller's templates, else the caller's set, else the model's own or `default_set`."""
    if templates:
        return check_templates(templates)
    if template_set:
        if template_set not in TEMPLATE_SETS:
            raise InvalidArgument(f"template_set: unknown value {template_set}, expected one of "
                                  f"{sorted(TEMPLATE_SETS)}")
        return list(TEMPLATE_SETS[template_set]())
    return default_templates(info, default_set)


def check_templates(templates: Sequence[str]) -> list[str]:
    """Validated templates: each must contain exactly one "{}"."""
    for i, t in enumerate(templates):
        if t.count("{}") != 1:
            raise InvalidArgument(f"templates[{i}]: expected exactly one '{{}}', got {t!r}")
    return list(templates)


async def resolve_labels(peers: Peers, labels: Sequence[str], *, max_labels: int,
                         timeout: float | None = None) -> list[str]:
    """The text of every label; synset ids through the lexicon, all in one call (NOT_FOUND
    if one is unknown)."""
    if not labels:
        raise InvalidArgument("labels: expected at least one label, got none")
    if len(labels) > max_labels:
        raise InvalidArgument(f"labels: at most {max_labels}, got {len(labels)}")
    texts = []
    for i, label in enumerate(labels):
        label = label.strip()
        if not label:
            raise InvalidArgument(f"labels[{i}]: empty label")
        if len(label) > MAX_LABEL_CHARS:
            raise InvalidArgument(f"labels[{i}]: {len(label)} characters, max {MAX_LABEL_CHARS}")
        texts.append(label)
    ids = [i for i, label in enumerate(texts) if is_synset_id(label)]
    if ids:
        found = await peers.synsets([texts[i] for i in ids], timeout=timeout)
        for i, synset in zip(ids, found, strict=True):
            texts[i] = synset.lemmas[0].replace("_", " ")
    return texts


async def class_embeddings(peers: Peers, cache: EmbeddingCache, model: str, fingerprint: str,
                           labels: Sequence[str], templates: Sequence[str],
                           timeout: float | None = None) -> np.ndarray:
    """(K, D) prompt-ensembled, L2-normalised class embeddings."""
    texts = [p for label in labels for p in format_prompts(label, templates)]

    async def compute() -> np.ndarray:
        _, emb = await peers.encode_texts(model, texts, timeout=timeout)
        return emb

    content = "\x1f".join(texts)
    emb = await cache.get("prompts", fingerprint, content, compute)
    return ensemble(emb.reshape(len(labels), len(templates), -1))
