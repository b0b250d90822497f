"""Rendering maps over their images as PNG overlays."""

from __future__ import annotations

import numpy as np

from cliplens.core.images import encode_png

# A perceptually ordered colour ramp (dark blue -> cyan -> yellow -> red), as in "jet"-like
# saliency figures, interpolated between these anchors.
_ANCHORS = np.array([[0, 0, 110], [0, 80, 255], [0, 220, 230], [120, 255, 120], [255, 230, 0],
                     [255, 90, 0], [170, 0, 0]], dtype=np.float32)


def colorize(values: np.ndarray) -> np.ndarray:
    """(H, W) values in [0, 1] -> (H, W, 3) uint8 colours."""
    v = np.clip(np.nan_to_num(values), 0, 1) * (len(_ANCHORS) - 1)
    lo = np.floor(v).astype(int)
    hi = np.minimum(lo + 1, len(_ANCHORS) - 1)
    t = (v - lo)[..., None]
    return (_ANCHORS[lo] * (1 - t) + _ANCHORS[hi] * t).astype(np.uint8)


def overlay_png(image: np.ndarray, saliency: np.ndarray, alpha: float = 0.5) -> bytes:
    """PNG of the map (same size as the image) blended over the image."""
    if saliency.shape != image.shape[:2]:
        raise ValueError(f"map {saliency.shape} does not match image {image.shape[:2]}")
    blended = image.astype(np.float32) * (1 - alpha) + colorize(saliency) * alpha
    return encode_png(np.clip(blended, 0, 255).astype(np.uint8))
