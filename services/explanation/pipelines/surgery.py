"""CLIP Surgery maps: dense tokens from embedding, class texts, feature surgery, maps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.explanation import surgery
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.common import InputImage, dense_input_size
from cliplens.explanation.texts import (
    check_templates,
    class_embeddings,
    default_templates,
    resolve_labels,
)
from cliplens.v1 import common_pb2
from cliplens.v1 import explanation_pb2 as pb

MODES = {pb.SURGERY_MODE_LABEL_SET: "label_set", pb.SURGERY_MODE_SINGLE_TEXT: "single_text",
         pb.SURGERY_MODE_RAW: "raw"}


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
                       images: Sequence[InputImage], labels: Sequence[str], mode: int,
                       templates: Sequence[str] = (), point_threshold: float = 0.0,
                       point_queries: Sequence[str] = (), want_points: bool = False,
                       max_labels: int = 1000, timeout=None) -> SurgeryMaps:
    """Compute CLIP Surgery (or raw baseline) maps; mode UNSPECIFIED picks by label count."""
    texts = await resolve_labels(peers, labels, max_labels=max_labels, timeout=timeout)
    if mode == pb.SURGERY_MODE_UNSPECIFIED:
        mode = pb.SURGERY_MODE_LABEL_SET if len(texts) >= 2 else pb.SURGERY_MODE_SINGLE_TEXT
    if mode not in MODES:
        raise InvalidArgument(f"mode: unknown value {mode}")
    if mode == pb.SURGERY_MODE_LABEL_SET and len(texts) < 2:
        raise InvalidArgument(
            f"labels: label-set mode needs at least 2 labels, got {len(texts)} "
            "(use single-text mode for one)")
    info = await peers.model_info(model, timeout=timeout)
    templates = check_templates(templates) if templates else default_templates(info)
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
            similarity = surgery.single_text_similarity(tokens, text, empty)
        else:
            similarity = surgery.raw_similarity(tokens, text)
        for j, i in enumerate(indices):
            maps = surgery.similarity_maps(similarity[j:j + 1], dense.grid, images[i].size)
            result.grids[i], result.fulls[i] = maps.grid[0], maps.full[0]
            if want_points:
                result.points[i] = _points(maps.full[0], images[i].size, texts, point_queries,
                                           point_threshold)
    result.parameters = {"mode": MODES[mode], "templates": str(len(templates)),
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
