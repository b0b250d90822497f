"""From token similarities to maps: the class token dropped, min-max per map, upsampled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32, as_hw
from cliplens.explanation.base.resample import minmax, resize_bilinear


@dataclass(frozen=True)
class SimilarityMaps:
    """Per-(image, class) maps in [0, 1].

    grid: float32 (B, K, h, w) at the patch grid. full: float32 (B, K, H, W) at the image size.
    """

    grid: np.ndarray
    full: np.ndarray


def similarity_maps(similarity: ArrayLike, grid_hw: Sequence[int],
                    out_hw: Sequence[int]) -> SimilarityMaps:
    """Turn token similarities into maps (specs/surgery.md section 3, "Map").

    Drops the class-token row, min-max scales each (image, class) over its tokens (a constant
    map becomes zeros), reshapes to the patch grid in row-major order and upsamples bilinearly
    to the image size.

    Args:
        similarity: (B, N+1, K) from `feature_surgery`, `single_text_similarity` or
            `raw_similarity`, class token first.
        grid_hw: (h, w) patch grid with h * w == N.
        out_hw: (H, W) image size.
    """
    values = as_float32("similarity", similarity, ndim=3)
    height, width = as_hw("grid_hw", grid_hw)
    batch, tokens, classes = values.shape
    if tokens - 1 != height * width:
        raise InvalidArgument(
            f"similarity: expected 1 + {height}*{width} = {1 + height * width} tokens for grid "
            f"{(height, width)}, got {tokens}")
    patches = np.moveaxis(values[:, 1:, :], 2, 1)  # (B, K, N)
    grid = minmax(patches, axis=-1).reshape(batch, classes, height, width)
    return SimilarityMaps(grid=grid, full=resize_bilinear(grid, out_hw))
