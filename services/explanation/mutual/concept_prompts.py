"""Encoding a visual concept as prompted images (specs/mutual_knowledge.md section 1).

A concept is not cropped: its largest region gets an ellipse, and three images are made from
the whole picture - a red ellipse outline; the same with the outside turned grey-scale; the
same with the outside blurred 11 x 11 (OpenCV's sigma 2). The concept embedding is the mean of
the three normalised image embeddings.

The ellipse comes from the region's second moments (a filled ellipse with semi-axes a, b has
variances a^2/4 and b^2/4 along its axes), where the authors fit one to the region's contour
with OpenCV; for the convex-ish regions concepts are, both give nearly the same ellipse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image, ImageDraw

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32, as_hw
from cliplens.explanation.base.blur import gaussian_blur
from cliplens.explanation.base.components import largest_component

RED = (255, 0, 0)
BLUR_KSIZE = 11
# A pixel is a unit square: its own coordinate variance is 1/12 along each axis.
_PIXEL_VARIANCE = 1.0 / 12.0


@dataclass(frozen=True)
class Ellipse:
    """Centre (cx, cy) in pixel coordinates (pixel i spans [i, i + 1)), semi-axes a >= b,
    and the angle of the a axis from the x axis in radians."""

    cx: float
    cy: float
    a: float
    b: float
    angle: float

    def contains(self, height: int, width: int) -> np.ndarray:
        """bool (height, width): pixels whose centre lies in the filled ellipse."""
        y, x = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
        dx, dy = x - self.cx, y - self.cy
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        along = (dx * cos + dy * sin) / self.a
        across = (-dx * sin + dy * cos) / self.b
        return along ** 2 + across ** 2 <= 1.0

    def outline(self, points: int | None = None) -> list[tuple[float, float]]:
        """Closed polygon along the ellipse, in PIL's coordinates (pixel centres at integers)."""
        count = points or max(32, int(2 * math.pi * self.a))
        t = np.linspace(0.0, 2 * math.pi, count, endpoint=False)
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        x = self.cx + self.a * np.cos(t) * cos - self.b * np.sin(t) * sin - 0.5
        y = self.cy + self.a * np.cos(t) * sin + self.b * np.sin(t) * cos - 0.5
        polygon = list(zip(x.tolist(), y.tolist(), strict=True))
        return polygon + polygon[:1]


def fit_ellipse(region: ArrayLike) -> Ellipse:
    """The ellipse with the same centre and second moments as a region.

    Args:
        region: bool (H, W), non-empty.
    """
    mask = np.asarray(region).astype(bool, copy=False)
    if mask.ndim != 2 or not mask.any():
        raise InvalidArgument(f"concept_mask: expected a non-empty 2-D mask, got shape "
                              f"{mask.shape} with {int(mask.sum())} pixels")
    rows, cols = np.nonzero(mask)
    x, y = cols + 0.5, rows + 0.5
    covariance = np.cov(np.stack([x, y]), bias=True) + _PIXEL_VARIANCE * np.eye(2)
    values, vectors = np.linalg.eigh(covariance)  # ascending
    a, b = (2.0 * math.sqrt(max(v, 0.0)) for v in (values[1], values[0]))
    angle = math.atan2(vectors[1, 1], vectors[0, 1])
    return Ellipse(cx=float(x.mean()), cy=float(y.mean()), a=max(a, 1.0), b=max(b, 1.0),
                   angle=angle)


@dataclass(frozen=True)
class ConceptPrompts:
    """The three prompted images, uint8 (H, W, 3) each, and the ellipse they share."""

    outline: np.ndarray
    grey: np.ndarray
    blurred: np.ndarray
    ellipse: Ellipse

    def images(self) -> list[np.ndarray]:
        """[outline, grey, blurred], the order `concept_embeddings` expects."""
        return [self.outline, self.grey, self.blurred]


def _draw_outline(image: np.ndarray, ellipse: Ellipse, thickness: int) -> np.ndarray:
    canvas = Image.fromarray(image)
    ImageDraw.Draw(canvas).line(ellipse.outline(), fill=RED, width=thickness, joint="curve")
    return np.asarray(canvas).copy()


def greyscale(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) grey image, ITU-R 601 luma (as PIL's "L" and OpenCV's RGB2GRAY)."""
    luma = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    grey = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def concept_prompt_images(image: ArrayLike, concept_mask: ArrayLike, *,
                          thickness: int | None = None,
                          connectivity: int = 4) -> ConceptPrompts:
    """The three prompted images of one concept.

    Args:
        image: uint8 (H, W, 3) RGB.
        concept_mask: bool (H, W) at image resolution (see `labels_to_masks`); its largest
            connected region gets the ellipse.
        thickness: outline width in pixels (default: 1 per 224 px of the longer side, >= 1).
        connectivity: of that region, 4 (cliplens) or 8 (the authors' code).

    Returns:
        ConceptPrompts; the image is left unchanged.
    """
    pixels = np.asarray(image)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise InvalidArgument(f"image: expected (H, W, 3) uint8, got {pixels.dtype} "
                              f"{pixels.shape}")
    mask = np.asarray(concept_mask).astype(bool, copy=False)
    if mask.shape != pixels.shape[:2]:
        raise InvalidArgument(f"concept_mask: expected shape {pixels.shape[:2]} (as the image), "
                              f"got {mask.shape}")
    ellipse = fit_ellipse(largest_component(mask, connectivity))
    width = thickness or max(1, round(max(pixels.shape[:2]) / 224))
    inside = ellipse.contains(*pixels.shape[:2])[..., None]
    grey = np.where(inside, pixels, greyscale(pixels))
    blurred = np.where(inside, pixels, gaussian_blur(pixels, ksize=BLUR_KSIZE))
    return ConceptPrompts(outline=_draw_outline(pixels, ellipse, width),
                          grey=_draw_outline(grey, ellipse, width),
                          blurred=_draw_outline(blurred, ellipse, width), ellipse=ellipse)


def concept_embeddings(prompt_embeddings: ArrayLike) -> np.ndarray:
    """Concept embeddings: the mean of each concept's normalised prompt-image embeddings.

    The mean is not renormalised (as the authors' code), so its norm shrinks when the three
    views disagree; retrieval ranks are unaffected, the transport sharpness is.

    Args:
        prompt_embeddings: (L, 3, D) image embeddings of [outline, grey, blurred] per concept.

    Returns:
        float32 (L, D).
    """
    values = as_float32("prompt_embeddings", prompt_embeddings, ndim=3).astype(np.float64)
    norms = np.linalg.norm(values, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise InvalidArgument("prompt_embeddings: expected non-zero embeddings, got a zero vector")
    return (values / norms).mean(axis=1).astype(np.float32)


def labels_to_masks(labels: ArrayLike, num_concepts: int, out_hw: Sequence[int]) -> np.ndarray:
    """Per-concept masks at image resolution from a patch-grid label map (nearest neighbour,
    as OpenCV's INTER_NEAREST: output pixel i reads cell floor(i * h / H)).

    Args:
        labels: int (h, w), concept index per patch, -1 for background.
        num_concepts: L.
        out_hw: (H, W).

    Returns:
        bool (L, H, W).
    """
    grid = np.asarray(labels)
    if grid.ndim != 2:
        raise InvalidArgument(f"labels: expected a 2-D label grid, got shape {grid.shape}")
    height, width = as_hw("out_hw", out_hw)
    rows = np.minimum((np.arange(height) * grid.shape[0]) // height, grid.shape[0] - 1)
    cols = np.minimum((np.arange(width) * grid.shape[1]) // width, grid.shape[1] - 1)
    full = grid[np.ix_(rows, cols)]
    return full[None, :, :] == np.arange(num_concepts)[:, None, None]
