"""CLIP Surgery maps: dense tokens from embedding, class texts, feature surgery, maps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.explanation import surgery
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.methods import SURGERY_MODES
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.common import InputImage, dense_input_size
from cliplens.explanation.texts import choose_templates, class_embeddings, resolve_labels
from cliplens.v1 import common_pb2
from cliplens.v1 import explanation_pb2 as pb

# The template set when neither the caller nor the model names templates: see the README's
# table of the papers' choices for the measurement behind it.
DEFAULT_TEMPLATE_SET = pb.TEMPLATE_SET_OPENAI_IMAGENET


@dataclass(frozen=True)
class SurgeryOptions:
    """How to draw the maps: the mode (0: by label count), templates and point prompts."""

    mode: int = 0
    templates: tuple[str, ...] = ()
    template_set: int = 0
    points: bool = False
    point_threshold: float = 0.0
    point_queries: tuple[str, ...] = ()

    @classmethod
    def from_proto(cls, r: pb.SurgeryRequest) -> SurgeryOptions:
        """The options of a SurgeryRequest (unknown enum values are INVALID_ARGUMENT)."""
        return cls(mode=SURGERY_MODES.check(r.mode, field="mode"),
                   templates=tuple(r.templates), template_set=r.template_set,
                   points=r.point_prompts, point_threshold=r.point_threshold,
                   point_queries=tuple(r.point_queries))


@dataclass
class SurgeryMaps:
    """Maps of every label on every image, at grid and image resolution."""

    model: common_pb2.ModelRef
    labels: list[str]
    mode: int
    grids: list[np.ndarray] = field(default_factory=list)  # per image (K, h, w)
    fulls: list[np.ndarray] = field(default_factory=list)  # per image (K, H, W)
    points: list[list[tuple[str, np.ndarray, np.ndarray]]] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)


async def surgery_maps(peers: Peers, cache: EmbeddingCache, *, model: str,
                       images: Sequence[InputImage], labels: Sequence[str],
                       options: SurgeryOptions = SurgeryOptions(), max_labels: int = 1000,
                       timeout: float | None = None) -> SurgeryMaps:
    """Compute CLIP Surgery (or raw baseline) maps; mode UNSPECIFIED picks by label count."""
    texts = await resolve_labels(peers, labels, max_labels=max_labels, timeout=timeout)
    mode = SURGERY_MODES.check(options.mode, field="mode")
    if mode == pb.SURGERY_MODE_UNSPECIFIED:
        mode = pb.SURGERY_MODE_LABEL_SET if len(texts) >= 2 else pb.SURGERY_MODE_SINGLE_TEXT
    if mode == pb.SURGERY_MODE_LABEL_SET and len(texts) < 2:
        raise InvalidArgument(
            f"labels: label-set mode needs at least 2 labels, got {len(texts)} "
            "(use single-text mode for one)")
    info = await peers.model_info(model, timeout=timeout)
    templates = choose_templates(info, options.templates, options.template_set,
                                 default_set=DEFAULT_TEMPLATE_SET)
    fingerprint = info.ref.fingerprint
    text = await class_embeddings(peers, cache, model, fingerprint, texts, templates,
                                  timeout=timeout)
    empty = None
    if mode == pb.SURGERY_MODE_SINGLE_TEXT:
        empty = (await class_embeddings(peers, cache, model, fingerprint, [""], templates,
                                        timeout=timeout))[0]
    # One dense pass per distinct input size (aspect ratios differ), images keep their order.
    by_size: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, image in enumerate(images):
        by_size[dense_input_size(info, image.size)].append(i)
    result = SurgeryMaps(model=info.ref, labels=texts, mode=mode)
    result.grids = [None] * len(images)  # type: ignore[list-item]
    result.fulls = [None] * len(images)  # type: ignore[list-item]
    result.points = [[] for _ in images]
    for size, indices in by_size.items():
        dense = await peers.dense(model, [images[i].data for i in indices],
                                  surgery=mode != pb.SURGERY_MODE_RAW, size=size,
                                  timeout=timeout)
        result.model = dense.model
        tokens = dense.tokens / np.linalg.norm(dense.tokens, axis=-1, keepdims=True).clip(1e-12)
        if mode == pb.SURGERY_MODE_LABEL_SET:
            similarity = surgery.feature_surgery(tokens, text)
        elif mode == pb.SURGERY_MODE_SINGLE_TEXT:
            assert empty is not None  # embedded above for this mode
            similarity = surgery.single_text_similarity(tokens, text, empty)
        else:
            similarity = surgery.raw_similarity(tokens, text)
        for j, i in enumerate(indices):
            maps = surgery.similarity_maps(similarity[j:j + 1], dense.grid, images[i].size)
            result.grids[i], result.fulls[i] = maps.grid[0], maps.full[0]
            if options.points:
                result.points[i] = _points(maps.full[0], images[i].size, texts,
                                           options.point_queries, options.point_threshold)
    result.parameters = {"mode": SURGERY_MODES.name(mode), "templates": str(len(templates)),
                         "grid": f"{dense.grid[0]}x{dense.grid[1]}"}
    return result


def _points(fulls: np.ndarray, image_hw: tuple[int, int], texts: list[str],
            queries: Sequence[str], threshold: float) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Point prompts per label, or per combined query ("a+b")."""
    threshold = threshold or 0.8
    out = []
    for query in queries or texts:
        indices = surgery.parse_point_query(query, texts)
        if len(indices) == 1:
            points = surgery.point_prompts(fulls[indices[0]], image_hw, threshold)
        else:
            points = surgery.combined_point_prompts(fulls[indices], image_hw, threshold)
        out.append((query, points.positive, points.negative))
    return out
