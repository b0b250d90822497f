"""Foreground patches by graph decomposition (GDC), specs/mutual_knowledge.md section 1.

Rows are L2-normalised, so A = f f^T is the patches' cosine affinity; its eigenvectors are the
left singular vectors of f. The second one splits the patches in two (Fiedler-like); its sign
is arbitrary, so it is fixed by which side is larger, and foreground = value >= 0. Each image
then keeps its largest connected foreground component (4-connected by default; the authors'
code uses 8), plus the second largest when it has at least 5 patches.

The sign rule: specs/mutual_knowledge.md says the majority is made positive (`"majority"`).
The authors' code (`get_pca_features`) does the opposite: it negates the component when more
than half of it is positive, so the minority becomes the foreground (`"minority"`), which is
what their CorLoc ablation measured. Both are offered; see `DEFAULT_POSITIVE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32, as_hw
from cliplens.explanation.base.components import largest_components

PositiveSide = Literal["majority", "minority"]
DEFAULT_POSITIVE: PositiveSide = "majority"
SECOND_COMPONENT_MIN_PATCHES = 5


def as_patch_batch(features: ArrayLike, grid_hw: Sequence[int]) -> tuple[np.ndarray,
                   tuple[int, int]]:
    """Features as float32 (B, N, C) checked against the (h, w) grid, and the grid."""
    values = as_float32("features", features, ndim=(2, 3))
    height, width = as_hw("grid_hw", grid_hw)
    if values.ndim == 2:  # (N, C) for one image, or (B*N, C) for B images pooled
        images = max(1, values.shape[0] // (height * width))
        values = values.reshape(images, -1, values.shape[-1])
    if values.shape[1] != height * width:
        raise InvalidArgument(
            f"features: expected {height}*{width} = {height * width} patches per image for grid "
            f"{(height, width)}, got {values.shape[1]} (drop the class token)")
    return values, (height, width)


def fiedler_component(features: ArrayLike) -> np.ndarray:
    """float64 (M,): the second left singular vector of the row-normalised (M, C) features,
    with the sign SVD happened to give."""
    rows = as_float32("features", features, ndim=2).astype(np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows = rows / np.where(norms > 0, norms, 1.0)
    if min(rows.shape) < 2:
        raise InvalidArgument(f"features: expected at least 2 patches and 2 channels, got "
                              f"{rows.shape}")
    # The eigenvectors of the smaller Gram matrix give the same singular vectors as a full SVD
    # of (M, C) at a fraction of the cost (M = 50 images x 196 patches in a class analysis).
    if rows.shape[0] <= rows.shape[1]:
        _, vectors = np.linalg.eigh(rows @ rows.T)
        return vectors[:, -2]
    values, vectors = np.linalg.eigh(rows.T @ rows)
    if values[-2] <= 0:
        return np.zeros(rows.shape[0])
    return rows @ vectors[:, -2] / np.sqrt(values[-2])


def fix_sign(component: np.ndarray, positive: PositiveSide = DEFAULT_POSITIVE) -> np.ndarray:
    """Negate `component` so the chosen side is positive when its signs are mixed.

    "majority": more than half of the values end up positive (unless exactly half are).
    "minority": fewer than half do (the authors' code).
    """
    share = float(np.mean(component > 0))
    if positive == "majority":
        flip = 0.0 < share < 0.5
    elif positive == "minority":
        flip = 0.5 < share < 1.0
    else:
        raise InvalidArgument(f"positive: expected 'majority' or 'minority', got {positive!r}")
    return -component if flip else component


def keep_main_regions(mask: np.ndarray, connectivity: int = 4) -> np.ndarray:
    """The largest connected region, plus the second when it has >= 5 patches."""
    regions = largest_components(mask, 2, connectivity=connectivity)
    kept = np.zeros(mask.shape, dtype=bool)
    if regions:
        kept |= regions[0]
    if len(regions) > 1 and regions[1].sum() >= SECOND_COMPONENT_MIN_PATCHES:
        kept |= regions[1]
    return kept


def gdc_foreground(features: ArrayLike, grid_hw: Sequence[int], *,
                   positive: PositiveSide = DEFAULT_POSITIVE,
                   connectivity: int = 4) -> np.ndarray:
    """Foreground patches of B images analysed together (a class analysis pools them).

    Args:
        features: (B, N, C), or (B*N, C) with the images one after another, patch features
            (last-layer tokens or last-layer keys), class token removed, patches in row-major
            grid order; N = h * w.
        grid_hw: (h, w).
        positive: which side of the second component is foreground (see the module docstring).
        connectivity: of the regions kept, 4 (cliplens) or 8 (the authors' code).

    Returns:
        bool (B, h, w). An image may have no foreground patch at all.
    """
    values, (height, width) = as_patch_batch(features, grid_hw)
    batch = values.shape[0]
    component = fix_sign(fiedler_component(values.reshape(batch * height * width, -1)), positive)
    raw = (component >= 0).reshape(batch, height, width)
    return np.stack([keep_main_regions(image, connectivity) for image in raw])
