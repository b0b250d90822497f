"""Splitting the foreground patches into L visual concepts (specs/mutual_knowledge.md sec. 1).

Two methods, both over the foreground patches of all images analysed together:
- PCA: the L principal components of the foreground features, each min-max scaled over the
  foreground, argmax per patch. Signs are fixed as scikit-learn >= 1.5 does (the largest
  loading of each component positive) because the argmax depends on them.
- K-means: L clusters of the L2-normalised features, Euclidean, k-means++ seeding from `seed`,
  Lloyd iterations until no patch moves. Clusters are numbered by size, largest first.
Labels are int32 per patch: 0..L-1 for concepts, -1 for background.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.resample import minmax
from cliplens.explanation.mutual.gdc import as_patch_batch

DEFAULT_CONCEPTS = 5
KMEANS_MAX_ITERATIONS = 300


def _foreground_rows(features: ArrayLike, foreground: ArrayLike,
                     grid_hw: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    values, (height, width) = as_patch_batch(features, grid_hw)
    mask = np.asarray(foreground).astype(bool, copy=False).reshape(-1, height, width)
    if mask.shape[0] != values.shape[0]:
        raise InvalidArgument(f"foreground: expected {values.shape[0]} masks of {height}x{width} "
                              f"(one per image), got shape {np.shape(foreground)}")
    flat = mask.reshape(-1)
    rows = values.reshape(-1, values.shape[-1])[flat].astype(np.float64)
    return rows, mask


def _scatter(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.full(mask.size, -1, dtype=np.int32)
    out[mask.reshape(-1)] = labels
    return out.reshape(mask.shape)


def _check_concepts(count: int) -> int:
    if int(count) != count or count < 1:
        raise InvalidArgument(f"num_concepts: expected an integer >= 1, got {count}")
    return int(count)


def concepts_pca(features: ArrayLike, foreground: ArrayLike, grid_hw: Sequence[int],
                 num_concepts: int = DEFAULT_CONCEPTS
                 ) -> np.ndarray:
    """Concept label per patch by PCA of the foreground features.

    Args:
        features: (B, N, C) or (N, C) patch features (N = h * w, row-major).
        foreground: bool (B, h, w) from `gdc_foreground`.
        grid_hw: (h, w).
        num_concepts: L (5); fewer when the foreground has fewer patches or dimensions.

    Returns:
        int32 (B, h, w): concept index per foreground patch, -1 elsewhere.
    """
    count = _check_concepts(num_concepts)
    rows, mask = _foreground_rows(features, foreground, grid_hw)
    if rows.shape[0] == 0:
        return _scatter(np.zeros(0, dtype=np.int32), mask)
    centred = rows - rows.mean(axis=0, keepdims=True)
    # Principal axes from the (C, C) scatter matrix: cheaper than an SVD of the rows.
    values, vectors = np.linalg.eigh(centred.T @ centred)
    keep = min(count, *centred.shape)
    components = vectors[:, ::-1][:, :keep].T
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    scores = minmax(centred @ components.T, axis=0)  # per component, over the foreground
    return _scatter(np.argmax(scores, axis=1).astype(np.int32), mask)


def _kmeans_plus_plus(points: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    centres = [points[rng.integers(points.shape[0])]]
    nearest = np.sum((points - centres[0]) ** 2, axis=1)
    for _ in range(1, count):
        total = nearest.sum()
        if total <= 0:  # all points already on a centre
            pick = int(rng.integers(points.shape[0]))
        else:
            pick = int(np.searchsorted(np.cumsum(nearest), rng.random() * total, side="right"))
            pick = min(pick, points.shape[0] - 1)
        centres.append(points[pick])
        nearest = np.minimum(nearest, np.sum((points - points[pick]) ** 2, axis=1))
    return np.stack(centres)


def kmeans(points: np.ndarray, count: int, seed: int,
           max_iterations: int = KMEANS_MAX_ITERATIONS) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding; labels int32 (n,) numbered by cluster size.

    At most as many clusters as distinct points. An emptied cluster takes the point farthest
    from its centre among clusters with more than one point.
    """
    rng = np.random.default_rng(seed)
    count = min(count, np.unique(points, axis=0).shape[0])
    centres = _kmeans_plus_plus(points, count, rng)
    labels = None
    for _ in range(max_iterations):
        distances = ((points ** 2).sum(1)[:, None] - 2 * points @ centres.T
                     + (centres ** 2).sum(1)[None, :])
        new = np.argmin(distances, axis=1)
        for cluster in range(count):
            if not np.any(new == cluster):
                # the farthest point of a cluster that can spare one
                spare = np.bincount(new, minlength=count)[new] > 1
                own = np.where(spare, distances[np.arange(len(new)), new], -np.inf)
                new[int(np.argmax(own))] = cluster
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centres = np.stack([points[labels == c].mean(axis=0) for c in range(count)])
    assert labels is not None  # the loop runs at least once
    sizes = np.bincount(labels, minlength=count)
    order = np.argsort(-sizes, kind="stable")  # ties: lower cluster id first
    rename = np.empty(count, dtype=np.int32)
    rename[order] = np.arange(count, dtype=np.int32)
    return rename[labels]


def concepts_kmeans(features: ArrayLike, foreground: ArrayLike, grid_hw: Sequence[int],
                    num_concepts: int = DEFAULT_CONCEPTS, *,
                    seed: int = 0) -> np.ndarray:
    """Concept label per patch by k-means of the L2-normalised foreground features.

    Args:
        features: (B, N, C) or (N, C) patch features.
        foreground: bool (B, h, w).
        grid_hw: (h, w).
        num_concepts: L (5); fewer when there are fewer foreground patches.
        seed: seeds k-means++ (same seed, same labels).

    Returns:
        int32 (B, h, w): concept index per foreground patch (0 = largest cluster), -1 elsewhere.
    """
    count = _check_concepts(num_concepts)
    rows, mask = _foreground_rows(features, foreground, grid_hw)
    if rows.shape[0] == 0:
        return _scatter(np.zeros(0, dtype=np.int32), mask)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    points = rows / np.where(norms > 0, norms, 1.0)
    return _scatter(kmeans(points, count, seed), mask)
