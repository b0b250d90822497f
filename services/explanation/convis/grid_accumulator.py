"""The faithful ConVis grid map (the paper's Algorithm 1), accumulated chunk by chunk.

The caller encodes the windows of `grid_windows(R)` in chunks (EncodeRegions streams them),
ranks each chunk with a `ConceptRanker` and adds it here; only (R, R) sums per concept are kept.
Each window adds its rank to the pixels it covers (weighted by the covered fraction of a pixel
when the geometry is fractional); the map is the per-pixel mean rank over the central R x R,
saliency = 1 - minmax(mean rank).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import FailedPrecondition, InvalidArgument
from cliplens.explanation.base.arrays import as_float32
from cliplens.explanation.base.resample import minmax
from cliplens.explanation.convis.concept_ranking import ConceptRanker
from cliplens.explanation.convis.convis_geometry import grid_windows, pixel_coverage


@dataclass(frozen=True)
class ConvisMaps:
    """Saliency maps of several concepts: float32 (n_concepts, R, R) in [0, 1].

    `windows` is how many windows were encoded to make them.
    """

    maps: np.ndarray
    windows: int


class GridAccumulator:
    """Per-pixel mean rank of the windows covering each pixel, for several concepts.

    Args:
        size: R; maps are R x R in the coordinates the boxes use.
        boxes: (W, 4) windows (x0, y0, x1, y1) in crop coordinates, as `grid_windows` gives.
        n_concepts: number of rank columns `add` receives.
    """

    def __init__(self, size: int, boxes: ArrayLike, n_concepts: int):
        windows = as_float32("boxes", boxes, ndim=2)
        if windows.shape[1] != 4:
            raise InvalidArgument(f"boxes: expected shape (W, 4), got {windows.shape}")
        if n_concepts < 1:
            raise InvalidArgument(f"n_concepts: expected >= 1, got {n_concepts}")
        self.size = int(size)
        self.n_concepts = int(n_concepts)
        self._cover_x = pixel_coverage(windows[:, 0], windows[:, 2], self.size)
        self._cover_y = pixel_coverage(windows[:, 1], windows[:, 3], self.size)
        self._sums = np.zeros((self.n_concepts, self.size, self.size), dtype=np.float64)
        self._weights = np.zeros((self.size, self.size), dtype=np.float64)
        self._added = np.zeros(windows.shape[0], dtype=bool)

    @property
    def total(self) -> int:
        """Number of windows."""
        return int(self._added.size)

    @property
    def added(self) -> int:
        """Number of windows added so far."""
        return int(self._added.sum())

    def add(self, offset: int, ranks: ArrayLike) -> None:
        """Add the ranks of windows [offset, offset + n).

        Args:
            offset: index of the chunk's first window in `boxes`.
            ranks: (n, n_concepts) ranks from `ConceptRanker` (any real score works).

        Raises:
            InvalidArgument: out of range, wrong width, or a window added twice.
        """
        values = as_float32("ranks", ranks, ndim=2).astype(np.float64)
        count = values.shape[0]
        if values.shape[1] != self.n_concepts:
            raise InvalidArgument(
                f"ranks: expected {self.n_concepts} columns, got {values.shape[1]}")
        if offset < 0 or offset + count > self.total:
            raise InvalidArgument(
                f"offset: expected windows within [0, {self.total}), got [{offset}, "
                f"{offset + count})")
        if self._added[offset:offset + count].any():
            raise InvalidArgument(f"offset: windows from {offset} were already added")
        cover_x = self._cover_x[offset:offset + count].astype(np.float64)
        cover_y = self._cover_y[offset:offset + count].astype(np.float64)
        self._weights += cover_y.T @ cover_x
        self._sums += np.einsum("nc,ny,nx->cyx", values, cover_y, cover_x, optimize=True)
        self._added[offset:offset + count] = True

    def mean_ranks(self) -> np.ndarray:
        """float32 (n_concepts, R, R) mean rank per pixel.

        Pixels no added window covers yet (only before the grid is complete) take the largest
        mean, i.e. count as least salient.
        """
        if not self._added.any():
            raise FailedPrecondition("GridAccumulator: no windows added yet")
        covered = self._weights > 0
        mean = np.where(covered, self._sums / np.where(covered, self._weights, 1.0), 0.0)
        if not covered.all():
            worst = np.where(covered, mean, -np.inf).max(axis=(1, 2), keepdims=True)
            mean = np.where(covered, mean, worst)
        return mean.astype(np.float32)

    def maps(self) -> np.ndarray:
        """float32 (n_concepts, R, R) saliency 1 - minmax(mean rank); constant maps are zeros."""
        return minmax(-self.mean_ranks().astype(np.float64), axis=(1, 2))


def grid_maps(size: int, encode: Callable[[np.ndarray], np.ndarray],
              dictionary_embeddings: ArrayLike,
              subtrees: Sequence, *, chunk_size: int = 256) -> ConvisMaps:
    """Algorithm 1 end to end with a synchronous `encode` (in-process use and tests).

    Args:
        size: R.
        encode: boxes float32 (n, 4) in crop coordinates -> (n, D) L2-normalised embeddings of
            those windows (cropped from the noise-padded R x R image, resized to R).
        dictionary_embeddings: (T, D) L2-normalised.
        subtrees: one index array per concept.
        chunk_size: windows per `encode` call.

    Returns:
        ConvisMaps with maps (n_concepts, R, R).
    """
    if chunk_size < 1:
        raise InvalidArgument(f"chunk_size: expected >= 1, got {chunk_size}")
    ranker = ConceptRanker(dictionary_embeddings, subtrees)
    boxes = grid_windows(size)
    accumulator = GridAccumulator(size, boxes, len(ranker.subtrees))
    for offset in range(0, len(boxes), chunk_size):
        chunk = boxes[offset:offset + chunk_size]
        accumulator.add(offset, ranker(encode(chunk)))
    return ConvisMaps(maps=accumulator.maps(), windows=len(boxes))
