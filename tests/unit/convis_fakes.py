"""A tiny fake world for the ConVis tests: an object square in an R x R crop.

Window embeddings mix an "object" direction and a "background" direction by how much of the
window the object fills, so windows centred on the object rank the object's synset first.
"""

from __future__ import annotations

import numpy as np

DIM = 8


def dictionary(extra: int = 20, seed: int = 0) -> np.ndarray:
    """T = 2 + extra unit vectors: 0 = the object, 1 = its hyponym, then distractors."""
    rng = np.random.default_rng(seed)
    base = np.eye(DIM, dtype=np.float32)
    obj = base[0]
    hyponym = 0.9 * base[0] + np.sqrt(1 - 0.81) * base[2]
    distractors = rng.normal(size=(extra, DIM)).astype(np.float32)
    distractors[:, 0] = -np.abs(distractors[:, 0])  # unlike the object
    distractors[:, 1] += 2.0  # like the background
    rows = np.vstack([obj, hyponym, distractors])
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


class SquareWorld:
    """encode(boxes) for an object occupying [x0, x1) x [y0, y1) of the crop."""

    def __init__(self, obj=(20.0, 30.0, 50.0, 60.0)):
        self.obj = np.asarray(obj, dtype=np.float64)
        self.calls = 0

    def fraction(self, boxes: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=np.float64)
        ix = np.clip(np.minimum(boxes[:, 2], self.obj[2]) - np.maximum(boxes[:, 0], self.obj[0]),
                     0, None)
        iy = np.clip(np.minimum(boxes[:, 3], self.obj[3]) - np.maximum(boxes[:, 1], self.obj[1]),
                     0, None)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return ix * iy / area

    def __call__(self, boxes: np.ndarray) -> np.ndarray:
        self.calls += 1
        f = self.fraction(boxes)[:, None]
        emb = f * np.eye(DIM)[0] + (1 - f) * np.eye(DIM)[1]
        return (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
