"""The dense ConVis map (cliplens; not in the paper): one forward pass instead of windows.

Each CLIP Surgery patch token (specs/surgery.md section 1) is ranked against the dictionary as a
window would be; saliency = 1 - minmax(rank) per concept on the patch grid, upsampled bilinearly.
Patches of equal rank are ordered by their similarity to the concept (`ConceptRanker.tie_broken`):
with a hundred patches and integer ranks, a concept is often top-ranked on several, and the
map's peak should be the patch most like it, not the first in raster order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32, as_hw
from cliplens.explanation.base.resample import minmax, resize_bilinear
from cliplens.explanation.convis.concept_ranking import ConceptRanker


@dataclass(frozen=True)
class DenseMaps:
    """grid: float32 (n_concepts, h, w); full: float32 (n_concepts, H, W); both in [0, 1]."""

    grid: np.ndarray
    full: np.ndarray


def dense_concept_maps(patch_tokens: ArrayLike, grid_hw: Sequence[int],
                       dictionary_embeddings: ArrayLike, subtrees: Sequence,
                       out_hw: Sequence[int]) -> DenseMaps:
    """Dense concept maps of one image.

    Args:
        patch_tokens: (N, D) L2-normalised surgery tokens of the patches, row-major, class token
            removed (N = h * w).
        grid_hw: (h, w) patch grid.
        dictionary_embeddings: (T, D) L2-normalised definition embeddings.
        subtrees: one index array per concept.
        out_hw: (H, W) output size.

    Returns:
        DenseMaps; a concept whose rank is the same on every patch gets an all-zero map.
    """
    tokens = as_float32("patch_tokens", patch_tokens, ndim=2)
    height, width = as_hw("grid_hw", grid_hw)
    if tokens.shape[0] != height * width:
        raise InvalidArgument(
            f"patch_tokens: expected {height}*{width} = {height * width} tokens for grid "
            f"{(height, width)}, got {tokens.shape[0]} (drop the class token)")
    ranks = ConceptRanker(dictionary_embeddings, subtrees).tie_broken(tokens)  # (N, n_concepts)
    grid = minmax(-ranks.T, axis=1).reshape(-1, height, width)
    return DenseMaps(grid=grid, full=resize_bilinear(grid, out_hw))
