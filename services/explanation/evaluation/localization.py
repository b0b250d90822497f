"""Localization of saliency maps against ground truth: pointing game and MaxBoxAcc.

Boxes are (x0, y0, x1, y1) with exclusive ends, in the map's pixel coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32
from cliplens.explanation.base.components import largest_component_box

THRESHOLDS = np.round(np.arange(100) * 0.01, 2)  # 0, 0.01, ..., 0.99
IOU_THRESHOLD = 0.5


def pointing_game(map2d: ArrayLike, mask: ArrayLike) -> bool:
    """Whether the map's maximum falls inside the ground-truth mask.

    Args:
        map2d: (H, W) saliency.
        mask: (H, W) bool ground truth.

    Ties: the first maximum in raster order counts.
    """
    values = as_float32("map", map2d, ndim=2)
    truth = np.asarray(mask).astype(bool, copy=False)
    if truth.shape != values.shape:
        raise InvalidArgument(f"mask: expected shape {values.shape} (as the map), got "
                              f"{truth.shape}")
    return bool(truth.reshape(-1)[int(np.argmax(values))])


def box_iou(box: Sequence[float], boxes: ArrayLike) -> np.ndarray:
    """IoU of one box with each of `boxes`.

    Args:
        box: (4,) x0, y0, x1, y1.
        boxes: (n, 4).

    Returns:
        float64 (n,) in [0, 1] (0 where both are empty).
    """
    a = np.asarray(box, dtype=np.float64).reshape(4)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    width = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    height = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = width * height
    area_a = max(a[2] - a[0], 0.0) * max(a[3] - a[1], 0.0)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


@dataclass(frozen=True)
class MaxBoxAccuracy:
    """MaxBoxAcc: `score` = max over thresholds of `accuracies`, at `best_threshold` (the first
    threshold reaching it). accuracies and thresholds are float64 (100,)."""

    score: float
    best_threshold: float
    accuracies: np.ndarray
    thresholds: np.ndarray


def box_hits(map2d: ArrayLike, gt_boxes: ArrayLike, thresholds: ArrayLike = THRESHOLDS,
             iou_threshold: float = IOU_THRESHOLD) -> np.ndarray:
    """For one map, whether each threshold's box matches a ground-truth box.

    Binarise at map >= t, keep the largest 4-connected component, take its box; a hit when its
    IoU with any ground-truth box exceeds `iou_threshold`. Thresholds that give the same binary
    mask are evaluated once.

    Returns:
        bool (len(thresholds),).
    """
    values = as_float32("map", map2d, ndim=2)
    truth = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    levels = np.asarray(thresholds, dtype=np.float64)
    hits = np.zeros(levels.size, dtype=bool)
    if truth.shape[0] == 0:
        return hits
    distinct = np.unique(values)
    # Every threshold between two consecutive map values gives the same mask.
    group = np.searchsorted(distinct, levels, side="left")
    for key in np.unique(group):
        if key >= distinct.size:
            continue  # above the maximum: empty mask, no box
        box = largest_component_box(values >= distinct[key])
        if box is not None and np.any(box_iou(box, truth) > iou_threshold):
            hits[group == key] = True
    return hits


def max_box_acc(maps: Sequence, gt_boxes: Sequence, thresholds: ArrayLike = THRESHOLDS,
                iou_threshold: float = IOU_THRESHOLD) -> MaxBoxAccuracy:
    """MaxBoxAcc over a dataset (the ConVis paper's WSOL metric).

    Args:
        maps: per image an (H, W) map in [0, 1] (sizes may differ between images).
        gt_boxes: per image a list of ground-truth boxes; a hit matches any of them.
        thresholds: 0, 0.01, ..., 0.99 by default.
        iou_threshold: IoU must exceed it (0.5).
    """
    if len(maps) != len(gt_boxes) or len(maps) == 0:
        raise InvalidArgument(f"gt_boxes: expected one list per map ({len(maps)} maps), got "
                              f"{len(gt_boxes)}")
    levels = np.asarray(thresholds, dtype=np.float64)
    hits = np.stack([box_hits(m, b, levels, iou_threshold)
                     for m, b in zip(maps, gt_boxes, strict=True)])
    accuracies = hits.mean(axis=0)
    best = int(np.argmax(accuracies))
    return MaxBoxAccuracy(score=float(accuracies[best]), best_threshold=float(levels[best]),
                          accuracies=accuracies, thresholds=levels)
