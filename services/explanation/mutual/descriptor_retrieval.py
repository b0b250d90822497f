"""Describing visual concepts with descriptors, and the class's textual concepts
(specs/mutual_knowledge.md sections 2-3).

Visual side, per image: C = concept embeddings x descriptor embeddings (L x |D|); keep each
concept's top-500 descriptors and intersect across concepts; keep those whose cosine to the
whole image is above the mean (over the intersection) minus 0.02; transport on exp(2.5 C) by
Sinkhorn (alternating row and column normalisation, 1,000 iterations); each concept takes its 3
highest-mass descriptors; D_v is their union without duplicates, sorted by relevance =
2.5 cos(image, descriptor).

Empty intersection (concepts that share no top-500 descriptor, e.g. a small bank): each concept
takes its own top-3 descriptors by similarity, with no relevance filter and no transport - the
authors' code path without optimal transport. `VisualDescriptors.fallback` says when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import (
    as_float32,
    check_same_width,
    check_unit_rows,
)

TOP_DESCRIPTORS = 500
RELEVANCE_MARGIN = 0.02
SCALE = 2.5
SINKHORN_ITERATIONS = 1000
PER_CONCEPT = 3
TEXTUAL_TOP_U = 50


def sinkhorn(scores: ArrayLike, iterations: int = SINKHORN_ITERATIONS) -> np.ndarray:
    """Sinkhorn-Knopp on exp(scores): alternately normalise rows then columns to sum 1.

    Args:
        scores: (L, n) logits (the authors' scaled similarities).
        iterations: row-then-column rounds.

    Returns:
        float64 (L, n) transport plan (columns sum to 1 after the last round).
    """
    values = np.asarray(scores, dtype=np.float64)
    # Shifting by a constant cancels in the first normalisation and keeps exp finite.
    plan = np.exp(values - values.max())
    for _ in range(iterations):
        plan = plan / plan.sum(axis=1, keepdims=True)
        plan = plan / plan.sum(axis=0, keepdims=True)
    return plan


def _top_indices(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` largest entries of each row, best first (ties: lower index)."""
    return np.argsort(-scores, axis=-1, kind="stable")[..., :count]


@dataclass(frozen=True)
class VisualDescriptors:
    """D_v and how it was found.

    texts: D_v, by descending relevance. relevance: float32 (|D_v|,) 2.5 cos(image, d).
    indices: int64 (|D_v|,) into the bank. per_concept: for each concept, the bank indices it
    was assigned, best first. candidates: descriptors left after intersection and filter.
    fallback: True when the intersection was empty (see the module docstring).
    """

    texts: list[str]
    relevance: np.ndarray
    indices: np.ndarray
    per_concept: list[list[int]]
    candidates: int
    fallback: bool


def _check_bank(descriptor_embeddings: ArrayLike, descriptors: Sequence[str]) -> np.ndarray:
    bank = as_float32("descriptor_embeddings", descriptor_embeddings, ndim=2)
    if len(descriptors) != bank.shape[0]:
        raise InvalidArgument(f"descriptors: expected {bank.shape[0]} texts (one per embedding), "
                              f"got {len(descriptors)}")
    return bank


def retrieve_visual_descriptors(concept_embeddings: ArrayLike, image_embedding: ArrayLike,
                                descriptor_embeddings: ArrayLike,
                                descriptors: Sequence[str], *, top: int = TOP_DESCRIPTORS,
                                margin: float | None = RELEVANCE_MARGIN, scale: float = SCALE,
                                sinkhorn_iterations: int = SINKHORN_ITERATIONS,
                                per_concept: int = PER_CONCEPT,
                                relevance_embeddings: ArrayLike | None = None) -> VisualDescriptors:
    """D_v of one image from its visual concepts.

    Args:
        concept_embeddings: (L, D) from `concept_embeddings`.
        image_embedding: (D,) L2-normalised embedding of the whole image.
        descriptor_embeddings: (M, D) L2-normalised ("a photo showing {descriptor}").
        descriptors: the M descriptor texts.
        top: descriptors kept per concept before intersecting (500).
        margin: relevance filter, keep cos > mean - margin; None keeps all.
        scale: 2.5, for the transport logits and for the relevance.
        sinkhorn_iterations: 1,000.
        per_concept: descriptors each concept takes from the plan (3).
        relevance_embeddings: (M, D) L2-normalised embeddings the relevance to the image is
            scored with (the filter and D_v's order); None: `descriptor_embeddings`. The
            authors' code scores the raw descriptor text here, the bank's templated one above.
    """
    concepts = as_float32("concept_embeddings", concept_embeddings, ndim=2)
    image = as_float32("image_embedding", image_embedding, ndim=1)
    bank = _check_bank(descriptor_embeddings, descriptors)
    check_same_width("descriptor_embeddings", bank, "concept_embeddings", concepts)
    check_same_width("descriptor_embeddings", bank, "image_embedding", image)
    check_unit_rows("descriptor_embeddings", bank)
    check_unit_rows("image_embedding", image)
    for name, value in (("top", top), ("per_concept", per_concept),
                        ("sinkhorn_iterations", sinkhorn_iterations)):
        if value < 1:
            raise InvalidArgument(f"{name}: expected >= 1, got {value}")
    similarity = concepts.astype(np.float64) @ bank.T.astype(np.float64)  # (L, M)
    scored = bank
    if relevance_embeddings is not None:
        scored = as_float32("relevance_embeddings", relevance_embeddings, ndim=2)
        if scored.shape != bank.shape:
            raise InvalidArgument(f"relevance_embeddings: expected shape {bank.shape} (as "
                                  f"descriptor_embeddings), got {scored.shape}")
        check_unit_rows("relevance_embeddings", scored)
    relevance_all = scored.astype(np.float64) @ image.astype(np.float64)  # (M,)
    shortlist = _top_indices(similarity, min(top, bank.shape[0]))
    common = shortlist[0]
    for row in shortlist[1:]:
        common = np.intersect1d(common, row)
    common = np.sort(common)
    if common.size and margin is not None:
        cosines = relevance_all[common]
        common = common[cosines > cosines.mean() - margin]
    fallback = common.size == 0
    if fallback:
        assigned = _top_indices(similarity, min(per_concept, bank.shape[0]))
    else:
        plan = sinkhorn(scale * similarity[:, common], sinkhorn_iterations)
        assigned = common[_top_indices(plan, min(per_concept, common.size))]
    per_concept_lists = [list(dict.fromkeys(int(i) for i in row)) for row in assigned]
    return _rank_by_relevance(per_concept_lists, relevance_all, descriptors, scale,
                              candidates=int(common.size), fallback=fallback)


def _rank_by_relevance(per_concept: list[list[int]], relevance_all: np.ndarray,
                       descriptors: Sequence[str], scale: float, *, candidates: int,
                       fallback: bool) -> VisualDescriptors:
    chosen: dict[str, int] = {}
    for index in (i for row in per_concept for i in row):
        chosen.setdefault(descriptors[index], index)  # duplicate texts count once
    indices = np.array(list(chosen.values()), dtype=np.int64)
    relevance = scale * relevance_all[indices]
    order = np.argsort(-relevance, kind="stable")
    return VisualDescriptors(texts=[descriptors[i] for i in indices[order]],
                             relevance=relevance[order].astype(np.float32),
                             indices=indices[order], per_concept=per_concept,
                             candidates=candidates, fallback=fallback)


def concept_importance(concept_embeddings: ArrayLike, image_embedding: ArrayLike,
                       descriptor_embeddings: ArrayLike,
                       per_concept: Sequence[Sequence[int]]) -> np.ndarray:
    """cos(image, concept) x cos(image, the concept's first descriptor), per concept.

    The first descriptor is the one with the most transport mass (the concept's best match).
    A concept with no descriptor gets 0.

    Returns:
        float32 (L,).
    """
    concepts = as_float32("concept_embeddings", concept_embeddings, ndim=2).astype(np.float64)
    image = as_float32("image_embedding", image_embedding, ndim=1).astype(np.float64)
    bank = as_float32("descriptor_embeddings", descriptor_embeddings, ndim=2)
    if len(per_concept) != concepts.shape[0]:
        raise InvalidArgument(f"per_concept: expected {concepts.shape[0]} lists, got "
                              f"{len(per_concept)}")
    image = image / np.linalg.norm(image)
    concept_cos = concepts @ image / np.linalg.norm(concepts, axis=1)
    out = np.zeros(concepts.shape[0], dtype=np.float64)
    for row, assigned in enumerate(per_concept):
        if len(assigned):
            descriptor = bank[int(assigned[0])].astype(np.float64)
            out[row] = concept_cos[row] * (descriptor @ image) / np.linalg.norm(descriptor)
    return out.astype(np.float32)


@dataclass(frozen=True)
class TextualDescriptors:
    """D_y: texts by descending similarity, float32 cosines, int64 bank indices."""

    texts: list[str]
    scores: np.ndarray
    indices: np.ndarray


def textual_descriptors(class_embedding: ArrayLike, descriptor_embeddings: ArrayLike,
                        descriptors: Sequence[str],
                        u: int = TEXTUAL_TOP_U) -> TextualDescriptors:
    """D_y: the top-u descriptors by cosine to the predicted class's text embedding.

    Args:
        class_embedding: (D,) the class's prompt-ensembled text embedding.
        descriptor_embeddings: (M, D) L2-normalised.
        descriptors: the M texts (duplicate texts count once, at their best score).
        u: 50 in the authors' code.
    """
    target = as_float32("class_embedding", class_embedding, ndim=1).astype(np.float64)
    bank = _check_bank(descriptor_embeddings, descriptors)
    check_same_width("descriptor_embeddings", bank, "class_embedding", target)
    check_unit_rows("descriptor_embeddings", bank)
    if u < 1:
        raise InvalidArgument(f"u: expected >= 1, got {u}")
    scores = bank.astype(np.float64) @ (target / np.linalg.norm(target))
    chosen: dict[str, int] = {}
    for index in np.argsort(-scores, kind="stable"):
        chosen.setdefault(descriptors[int(index)], int(index))
        if len(chosen) == u:
            break
    indices = np.array(list(chosen.values()), dtype=np.int64)
    return TextualDescriptors(texts=[descriptors[i] for i in indices],
                              scores=scores[indices].astype(np.float32), indices=indices)
