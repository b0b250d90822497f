"""Map helpers every explanation method shares: min-max scaling and bilinear resampling.

`resize_bilinear` matches `torch.nn.functional.interpolate(mode="bilinear",
align_corners=False)` without antialiasing, as a pair of small interpolation matrices, so it
costs two matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32, as_hw


def minmax(values: ArrayLike, axis: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Scale to [0, 1] over `axis` (all axes when None); float32.

    A constant slice carries no location and becomes all zeros rather than dividing by zero.
    """
    array = np.asarray(values, dtype=np.float64)
    low = array.min(axis=axis, keepdims=True)
    span = array.max(axis=axis, keepdims=True) - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (array - low) / safe, 0.0).astype(np.float32)


@lru_cache(maxsize=256)
def _interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of 1-D linear interpolation with half-pixel centres."""
    scale = n_in / n_out
    source = (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
    source = np.maximum(source, 0.0)  # as torch: clamp before flooring
    left = np.minimum(np.floor(source).astype(np.int64), n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    frac = source - left
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, left), 1.0 - frac)
    np.add.at(matrix, (rows, right), frac)
    matrix.setflags(write=False)
    return matrix


def resize_bilinear(maps: ArrayLike, out_hw: Sequence[int]) -> np.ndarray:
    """Bilinear resampling of the last two axes (align_corners=False, no antialiasing).

    Args:
        maps: (..., h, w) array.
        out_hw: (H, W) output size (larger or smaller).

    Returns:
        float32 (..., H, W). Values stay within the input's range (convex combinations).
    """
    array = as_float32("maps", maps)
    if array.ndim < 2:
        raise InvalidArgument(f"maps: expected at least 2 dimensions, got shape {array.shape}")
    height, width = as_hw("out_hw", out_hw)
    rows = _interpolation_matrix(array.shape[-2], height)
    cols = _interpolation_matrix(array.shape[-1], width)
    return (rows @ array.astype(np.float64) @ cols.T).astype(np.float32)
