"""Deletion and insertion of visual concepts (specs/mutual_knowledge.md section 5).

Deletion blurs the concepts away in order of importance, one step per concept; insertion starts
from the fully blurred image and puts them back in the same order. Each walk has L + 1 images
(step 0 = nothing deleted / nothing inserted). The caller scores the images (2.5 x cosine to
the predicted class for Deletion/Insertion, top-1 correctness for AccDrop/AccInc).

Areas: `curve_auc` is the trapezoidal area with x scaled to [0, 1] (the RISE convention), so it
does not grow with L. The published table appears to use one unit of x per concept (area over
[0, L]); multiply by L to compare with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.blur import gaussian_blur

# Heavy blur: sigma = 10 px at 224, scaled with the image.
BLUR_SIGMA_AT_224 = 10.0


def default_blur_sigma(image_hw: Sequence[int]) -> float:
    """10 px per 224 px of the longer side."""
    return BLUR_SIGMA_AT_224 * max(image_hw) / 224.0


def curve_auc(curve: ArrayLike) -> float:
    """Trapezoidal area under a curve of evenly spaced points, x scaled to [0, 1].

    A single point is its own area.
    """
    points = np.asarray(curve, dtype=np.float64).reshape(-1)
    if points.size == 0:
        raise InvalidArgument("curve: expected at least one point, got none")
    if points.size == 1:
        return float(points[0])
    return float((points.sum() - 0.5 * (points[0] + points[-1])) / (points.size - 1))


def _check(image: ArrayLike, masks: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.asarray(image)
    if pixels.ndim != 3 or pixels.dtype != np.uint8:
        raise InvalidArgument(f"image: expected (H, W, 3) uint8, got {pixels.dtype} "
                              f"{pixels.shape}")
    regions = np.asarray(masks).astype(bool, copy=False)
    if regions.ndim != 3 or regions.shape[1:] != pixels.shape[:2]:
        raise InvalidArgument(f"concept_masks: expected (L, {pixels.shape[0]}, "
                              f"{pixels.shape[1]}), got {regions.shape}")
    return pixels, regions


def perturbation_walks(image: ArrayLike, concept_masks: ArrayLike, *,
                       blur_sigma: float | None = None
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The images of the deletion and insertion walks.

    Args:
        image: (H, W, 3) uint8.
        concept_masks: (L, H, W) bool, most important concept first.
        blur_sigma: Gaussian sigma of the blurred image (default: 10 px per 224 px).

    Returns:
        (deletion, insertion): two lists of L + 1 uint8 images. deletion[i] has concepts
        0..i-1 replaced by the blurred image; insertion[i] is the blurred image with concepts
        0..i-1 restored.
    """
    pixels, regions = _check(image, concept_masks)
    sigma = default_blur_sigma(pixels.shape[:2]) if blur_sigma is None else blur_sigma
    blurred = gaussian_blur(pixels, sigma)
    covered = np.zeros(pixels.shape[:2], dtype=bool)
    deletion, insertion = [pixels.copy()], [blurred.copy()]
    for region in regions:
        covered = covered | region
        deletion.append(np.where(covered[..., None], blurred, pixels))
        insertion.append(np.where(covered[..., None], pixels, blurred))
    return deletion, insertion


@dataclass(frozen=True)
class FaithfulnessCurves:
    """Scores along the walks: float64 (L + 1,) each, and their `curve_auc` areas."""

    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float


def deletion_insertion(image: ArrayLike, concept_masks: ArrayLike,
                       score_fn: Callable[[list[np.ndarray]], np.ndarray],
                       *, blur_sigma: float | None = None,
                       order: ArrayLike | None = None) -> FaithfulnessCurves:
    """Deletion (lower is better) and insertion (higher is better) curves of one image.

    Args:
        image: (H, W, 3) uint8.
        concept_masks: (L, H, W) bool, ordered by importance (most important first).
        score_fn: images -> float scores (n,), e.g. 2.5 x cosine to the predicted class;
            called once with all 2 (L + 1) images (deletion walk, then insertion walk).
        blur_sigma: see `perturbation_walks`.
        order: visit the concepts in this order instead (a permutation of range(L)).
    """
    pixels, regions = _check(image, concept_masks)
    if order is not None:
        visits = np.asarray(order)
        if sorted(visits.tolist()) != list(range(len(regions))):
            raise InvalidArgument(f"order: expected a permutation of range({len(regions)}), got "
                                  f"{visits.tolist()}")
        regions = regions[visits]
    deletion, insertion = perturbation_walks(pixels, regions, blur_sigma=blur_sigma)
    scores = np.asarray(score_fn(deletion + insertion), dtype=np.float64).reshape(-1)
    if scores.size != len(deletion) + len(insertion):
        raise InvalidArgument(f"score_fn: expected {len(deletion) + len(insertion)} scores, got "
                              f"{scores.size}")
    steps = len(deletion)
    return FaithfulnessCurves(deletion=scores[:steps], insertion=scores[steps:],
                              deletion_auc=curve_auc(scores[:steps]),
                              insertion_auc=curve_auc(scores[steps:]))


def random_order(count: int, seed: int) -> np.ndarray:
    """A seeded random permutation of range(count): the random-order baseline's walk."""
    return np.random.default_rng(seed).permutation(count)


def random_baseline(image: ArrayLike, concept_masks: ArrayLike,
                    score_fn: Callable[[list[np.ndarray]], np.ndarray],
                    *, seed: int, blur_sigma: float | None = None) -> FaithfulnessCurves:
    """`deletion_insertion` with the concepts in a seeded random order."""
    return deletion_insertion(image, concept_masks, score_fn, blur_sigma=blur_sigma,
                              order=random_order(len(np.asarray(concept_masks)), seed))


@dataclass(frozen=True)
class AccuracyCurve:
    """Top-1 accuracy per step over a dataset: float64 curve and its `curve_auc`."""

    curve: np.ndarray
    auc: float


def accuracy_curve(correct: Sequence) -> AccuracyCurve:
    """AccDrop (from deletion walks) or AccInc (from insertion walks) over a dataset.

    Args:
        correct: per image, a bool sequence: whether the top-1 prediction at each step of its
            walk was right. Shorter walks (images with fewer concepts) are extended with their
            last value: once everything is deleted (or inserted) the image no longer changes.
    """
    walks = [np.asarray(c, dtype=np.float64).reshape(-1) for c in correct]
    if not walks or any(w.size == 0 for w in walks):
        raise InvalidArgument("correct: expected at least one non-empty walk")
    length = max(w.size for w in walks)
    padded = np.stack([np.pad(w, (0, length - w.size), mode="edge") for w in walks])
    curve = padded.mean(axis=0)
    return AccuracyCurve(curve=curve, auc=curve_auc(curve))
