"""The window geometry of ConVis (specs/convis.md; the paper's Algorithm 1).

Everything is in the pixel coordinates of the centre-cropped R x R image: x to the right, y down,
boxes as (x0, y0, x1, y1) with x1 and y1 exclusive (the API's `Box`). The paper pads the image by
128/224 R on each side and slides windows of 128/224 R and 64/224 R with stride 16/224 R, so
boxes run into the padding (negative coordinates and coordinates past R). At R = 224 all of
this is whole pixels; at other sizes (toyworld's 80) the boxes are fractional and the
accumulators weigh each pixel by the fraction of it a window covers.

How many windows: the stated geometry gives ceil((R + 2P) / stride) = (224 + 256) / 16 = 30
start positions per axis and size, 2 x 30 x 30 = 1,800 windows, for every R. Only 21 x 21
large and 17 x 17 small ones (730) overlap the central R x R; the other 1,070 see nothing but
padding, which Algorithm 1 crops away, so they cannot change the map. `grid_windows` returns the
730 by default (`include_padding_only=True` gives the 1,800).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument

REFERENCE_SIZE = 224.0
PADDING = 128.0
LARGE_WINDOW = 128.0
SMALL_WINDOW = 64.0
STRIDE = 16.0
# Coordinates computed from ratios of R carry float error; overlaps below this are none.
_EPS = 1e-6


@dataclass(frozen=True)
class ConvisGeometry:
    """The paper's sizes scaled to an input size R (floats, pixels)."""

    size: int
    padding: float
    large: float
    small: float
    stride: float

    @classmethod
    def for_size(cls, size: int) -> ConvisGeometry:
        """The geometry of Algorithm 1 at input size `size` (224 for ViT-B)."""
        if int(size) != size or size < 8:
            raise InvalidArgument(f"size: expected an integer input size >= 8, got {size}")
        scale = size / REFERENCE_SIZE
        return cls(size=int(size), padding=PADDING * scale, large=LARGE_WINDOW * scale,
                   small=SMALL_WINDOW * scale, stride=STRIDE * scale)

    def starts(self) -> np.ndarray:
        """The window start positions along one axis (30 of them), crop coordinates."""
        count = math.ceil((self.size + 2 * self.padding) / self.stride - _EPS)
        return -self.padding + self.stride * np.arange(count, dtype=np.float64)


def _boxes(starts: np.ndarray, side: float) -> np.ndarray:
    y0, x0 = np.meshgrid(starts, starts, indexing="ij")
    x0, y0 = x0.reshape(-1), y0.reshape(-1)
    return np.stack([x0, y0, x0 + side, y0 + side], axis=1)


def overlaps_crop(boxes: np.ndarray, size: int) -> np.ndarray:
    """bool (W,): which boxes cover some of the central [0, size) x [0, size)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return ((boxes[:, 2] > _EPS) & (boxes[:, 0] < size - _EPS)
            & (boxes[:, 3] > _EPS) & (boxes[:, 1] < size - _EPS))


def grid_windows(size: int, *, include_padding_only: bool = False) -> np.ndarray:
    """The grid of windows of Algorithm 1 at input size R = `size`.

    Large windows first, then small; within a size row-major (y, then x).

    Args:
        size: R, the model's input size.
        include_padding_only: also return the windows that cover only padding (1,800 in all
            instead of 730; they do not change the map).

    Returns:
        float32 (W, 4) boxes (x0, y0, x1, y1) in crop coordinates, x1/y1 exclusive.
    """
    geometry = ConvisGeometry.for_size(size)
    starts = geometry.starts()
    boxes = np.concatenate([_boxes(starts, geometry.large), _boxes(starts, geometry.small)])
    if not include_padding_only:
        boxes = boxes[overlaps_crop(boxes, geometry.size)]
    return boxes.astype(np.float32)


def pixel_coverage(starts: ArrayLike, ends: ArrayLike, length: int,
                   offset: float = 0.0) -> np.ndarray:
    """How much of each unit pixel [offset + i, offset + i + 1) each interval covers.

    Args:
        starts, ends: (W,) interval bounds along one axis.
        length: number of pixels.
        offset: coordinate of pixel 0's left edge.

    Returns:
        float32 (W, length) in [0, 1]: 1 for fully covered pixels, fractions at the ends.
    """
    left = offset + np.arange(length, dtype=np.float64)
    lo = np.maximum(np.asarray(starts, dtype=np.float64)[:, None], left[None, :])
    hi = np.minimum(np.asarray(ends, dtype=np.float64)[:, None], left[None, :] + 1.0)
    coverage = np.clip(hi - lo, 0.0, 1.0)
    coverage[coverage < _EPS] = 0.0
    coverage[coverage > 1.0 - _EPS] = 1.0
    return coverage.astype(np.float32)
