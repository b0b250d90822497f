"""Connected components of binary maps, and the box around a mask (shared geometry helpers).

Boxes are (x0, y0, x1, y1) in pixels with x1 and y1 exclusive, as the API's `Box`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from cliplens.core.errors import InvalidArgument

_STRUCTURES = {4: ndimage.generate_binary_structure(2, 1),
               8: ndimage.generate_binary_structure(2, 2)}


def _as_mask(name: str, mask: ArrayLike) -> np.ndarray:
    array = np.asarray(mask)
    if array.ndim != 2:
        raise InvalidArgument(f"{name}: expected a 2-D mask, got shape {array.shape}")
    return array.astype(bool, copy=False)


def label_components(mask: ArrayLike, connectivity: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Label the connected components of a 2-D mask.

    Args:
        mask: (H, W) bool.
        connectivity: 4 (edges) or 8 (edges and corners).

    Returns:
        labels int32 (H, W) with 0 for background and 1..n in raster order of first pixel,
        and sizes int64 (n,) (sizes[i] is the size of label i + 1).
    """
    if connectivity not in _STRUCTURES:
        raise InvalidArgument(f"connectivity: expected 4 or 8, got {connectivity}")
    labels, count = ndimage.label(_as_mask("mask", mask), structure=_STRUCTURES[connectivity])
    sizes = np.bincount(labels.reshape(-1), minlength=count + 1)[1:]
    return labels.astype(np.int32, copy=False), sizes.astype(np.int64)


def largest_components(mask: ArrayLike, count: int = 1, connectivity: int = 4) -> list[np.ndarray]:
    """The `count` largest components as bool masks, largest first (ties: first in raster
    order); fewer when the mask has fewer components."""
    labels, sizes = label_components(mask, connectivity)
    order = np.argsort(-sizes, kind="stable")[:count]
    return [labels == (index + 1) for index in order]


def largest_component(mask: ArrayLike, connectivity: int = 4) -> np.ndarray:
    """bool (H, W): the largest connected component (all False for an empty mask)."""
    found = largest_components(mask, 1, connectivity)
    return found[0] if found else np.zeros(np.shape(mask), dtype=bool)


def mask_box(mask: ArrayLike) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels set in `mask` (exclusive ends), None when empty."""
    array = _as_mask("mask", mask)
    rows, cols = np.any(array, axis=1), np.any(array, axis=0)
    if not rows.any():
        return None
    y0, y1 = np.flatnonzero(rows)[[0, -1]]
    x0, x1 = np.flatnonzero(cols)[[0, -1]]
    return int(x0), int(y0), int(x1) + 1, int(y1) + 1


def largest_component_box(mask: ArrayLike, connectivity: int = 4) -> tuple[int, int, int,
                          int] | None:
    """The box of the largest connected component of `mask`, None when the mask is empty."""
    return mask_box(largest_component(mask, connectivity))
