"""Point prompts for SAM-style segmenters from similarity maps (specs/surgery.md section 4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32, as_hw
from cliplens.explanation.base.resample import minmax, resize_bilinear

DEFAULT_THRESHOLD = 0.8
DOWNSAMPLE = 2


@dataclass(frozen=True)
class PointPrompts:
    """Points in image pixel coordinates, float32 (P, 2) as (x, y) columns.

    `positive` is ordered from the strongest cell down, `negative` from the weakest up.
    """

    positive: np.ndarray
    negative: np.ndarray


def _cells(map2d: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The map downsampled x2 (bilinear, as the reference) and min-max scaled, flattened."""
    height, width = map2d.shape
    coarse_hw = (max(1, height // DOWNSAMPLE), max(1, width // DOWNSAMPLE))
    coarse = minmax(resize_bilinear(map2d, coarse_hw))
    return coarse.reshape(-1), coarse_hw


def _count(cells: np.ndarray, threshold: float) -> int:
    """n = min(#cells >= threshold, cells / 2)."""
    return min(int(np.count_nonzero(cells >= threshold)), cells.size // 2)


def _centres(indices: np.ndarray, coarse_hw: tuple[int, int],
             image_hw: tuple[int, int]) -> np.ndarray:
    rows, cols = np.divmod(indices, coarse_hw[1])
    x = (cols + 0.5) * (image_hw[1] / coarse_hw[1])
    y = (rows + 0.5) * (image_hw[0] / coarse_hw[0])
    return np.stack([x, y], axis=1).astype(np.float32).reshape(-1, 2)


def _check_threshold(threshold: float) -> float:
    if not 0.0 < threshold <= 1.0:
        raise InvalidArgument(f"threshold: expected a value in (0, 1], got {threshold}")
    return float(threshold)


def point_prompts(map2d: ArrayLike, image_hw: Sequence[int],
                  threshold: float = DEFAULT_THRESHOLD) -> PointPrompts:
    """Positive and negative point prompts from one map.

    Downsample the map x2, min-max scale it, n = min(#cells >= threshold, cells / 2); the top-n
    cells are positives, the bottom-n negatives, each at its cell centre in image coordinates.
    Ties are broken by cell order (row-major).

    Args:
        map2d: (h, w) map, usually the patch-grid map (any monotone scaling gives the same
            points).
        image_hw: (H, W) of the image the points refer to.
        threshold: cells at or above it (after scaling) count as confident.
    """
    values = as_float32("map", map2d, ndim=2)
    size = as_hw("image_hw", image_hw)
    cells, coarse_hw = _cells(values)
    count = _count(cells, _check_threshold(threshold))
    strongest = np.argsort(-cells, kind="stable")[:count]
    weakest = np.argsort(cells, kind="stable")[:count]
    return PointPrompts(positive=_centres(strongest, coarse_hw, size),
                        negative=_centres(weakest, coarse_hw, size))


def combined_point_prompts(maps: ArrayLike, image_hw: Sequence[int],
                           threshold: float = DEFAULT_THRESHOLD) -> PointPrompts:
    """Point prompts for a combined query such as "person+bench".

    Positives are the top cells of each class's map (in class order); negatives are the bottom
    cells of the mean of the min-max-scaled maps, as the CLIP Surgery demo does.

    Args:
        maps: (K, h, w) the maps of the query's classes.
        image_hw: (H, W) of the image.
        threshold: as in `point_prompts`.
    """
    values = as_float32("maps", maps, ndim=3)
    scaled = minmax(values, axis=(1, 2))
    mean = point_prompts(scaled.mean(axis=0), image_hw, threshold)
    positives = [point_prompts(one, image_hw, threshold).positive for one in scaled]
    return PointPrompts(positive=np.concatenate(positives, axis=0), negative=mean.negative)


def parse_point_query(query: str, labels: Sequence[str]) -> list[int]:
    """Indices into `labels` of a query's '+'-joined parts ("person+bench" -> [i, j]).

    Raises:
        InvalidArgument: an empty part or a part that is not one of the labels.
    """
    indices = []
    for part in (p.strip() for p in query.split("+")):
        if not part:
            raise InvalidArgument(f"point_queries: empty label in query {query!r}")
        if part not in labels:
            raise InvalidArgument(
                f"point_queries: expected labels from {list(labels)}, got {part!r} in {query!r}")
        indices.append(list(labels).index(part))
    return indices
