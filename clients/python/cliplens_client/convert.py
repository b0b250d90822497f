"""Turning what callers have into request messages, and responses into numpy/dataclasses."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cliplens.core.tensors import from_proto
from cliplens.v1 import common_pb2

ImageLike = str | os.PathLike | bytes | np.ndarray | Any  # Any: a PIL image


def to_image(image: ImageLike) -> common_pb2.Image:
    """An Image message from a path, encoded bytes, an (H, W, 3) uint8 array or a PIL image."""
    if isinstance(image, (str, os.PathLike)):
        return common_pb2.Image(data=Path(image).read_bytes())
    if isinstance(image, (bytes, bytearray, memoryview)):
        return common_pb2.Image(data=bytes(image))
    from PIL import Image as PILImage

    if isinstance(image, np.ndarray):
        array = image
        if array.dtype != np.uint8:
            if array.dtype.kind == "f" and array.size and np.nanmax(array) <= 1.0:
                array = array * 255.0
            array = np.clip(np.nan_to_num(array), 0, 255).astype(np.uint8)
        image = PILImage.fromarray(array)
    if isinstance(image, PILImage.Image):
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="PNG")
        return common_pb2.Image(data=buf.getvalue())
    raise TypeError(f"cannot send {type(image).__name__} as an image "
                    "(use a path, bytes, a numpy array or a PIL image)")


@dataclass(frozen=True)
class Model:
    """Which model (and exact weights) produced a result."""

    name: str
    fingerprint: str
    random_weights: bool = False
    backend: str = ""
    device: str = ""

    @classmethod
    def from_proto(cls, ref) -> Model:
        return cls(ref.name, ref.fingerprint, ref.random_weights, ref.backend, ref.device)


@dataclass(frozen=True)
class Map:
    """A map at the method's grid resolution and at image resolution, values in [0, 1]."""

    label: str
    grid: np.ndarray
    full: np.ndarray
    overlay_png: bytes = b""

    @classmethod
    def from_proto(cls, m) -> Map:
        grid = from_proto(m.grid, name="map.grid") if m.grid.shape else np.zeros((0, 0))
        full = from_proto(m.full, name="map.full") if m.full.shape else np.zeros((0, 0))
        return cls(m.label, grid, full, m.overlay_png)


@dataclass(frozen=True)
class Points:
    """Point prompts for a SAM-style segmenter, (x, y) in image pixels."""

    query: str
    positive: np.ndarray
    negative: np.ndarray


@dataclass(frozen=True)
class SurgeryResult:
    """CLIP Surgery maps of each label on each image."""

    model: Model
    labels: list[str]
    maps: list[list[Map]]  # [image][label]
    points: list[list[Points]] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConceptMap:
    """The ConVis map of one concept."""

    concept: str
    map: Map
    subtree_size: int


@dataclass(frozen=True)
class ConvisResult:
    """ConVis maps of one image, with the dictionary they were ranked against."""

    model: Model
    maps: list[ConceptMap]
    dictionary: str
    dictionary_hash: str
    windows: int
    seconds: float
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Classification:
    """Zero-shot probabilities of each label for each image."""

    model: Model
    labels: list[str]
    probabilities: np.ndarray  # (N, K)

    def top(self, i: int = 0) -> tuple[str, float]:
        k = int(np.argmax(self.probabilities[i]))
        return self.labels[k], float(self.probabilities[i, k])


def points_from_proto(p) -> Points:
    """Points from a PointPrompts message."""
    return Points(p.query, np.array([[q.x, q.y] for q in p.positive], np.float32).reshape(-1, 2),
                  np.array([[q.x, q.y] for q in p.negative], np.float32).reshape(-1, 2))


@dataclass(frozen=True)
class VisualConcept:
    """One visual concept: its mask, importance and descriptors."""

    index: int
    mask: Map
    importance: float
    descriptors: list[tuple[str, float]]


@dataclass(frozen=True)
class MutualKnowledge:
    """The mutual-knowledge analysis of one prediction."""

    model: Model
    label: str
    probability: float
    concepts: list[VisualConcept]
    visual_descriptors: list[tuple[str, float]]
    textual_descriptors: list[tuple[str, float]]
    mutual_information: float
    mi_curve: np.ndarray
    auc: float
    evaluation: dict[str, Any] | None
    parameters: dict[str, str]

    @classmethod
    def from_proto(cls, r) -> MutualKnowledge:
        evaluation = None
        if r.HasField("evaluation"):
            e = r.evaluation
            evaluation = {k: (list(getattr(e, k)) if k in ("deletion", "insertion",
                                                            "deletion_random",
                                                            "insertion_random")
                              else getattr(e, k))
                          for k in ("deletion", "insertion", "deletion_auc", "insertion_auc",
                                    "deletion_random", "insertion_random",
                                    "deletion_random_auc", "insertion_random_auc")}
        return cls(
            Model.from_proto(r.model), r.prediction.label, r.prediction.probability,
            [VisualConcept(c.index, Map.from_proto(c.mask), c.importance,
                           [(d.text, d.score) for d in c.descriptors]) for c in r.concepts],
            [(d.text, d.score) for d in r.visual_descriptors],
            [(d.text, d.score) for d in r.textual_descriptors],
            r.mutual_information, np.asarray(r.mi_curve), r.auc, evaluation,
            dict(r.parameters))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (masks left out)."""
        return {"model": self.model.__dict__, "label": self.label,
                "probability": self.probability,
                "concepts": [{"index": c.index, "importance": c.importance,
                              "descriptors": c.descriptors} for c in self.concepts],
                "visual_descriptors": self.visual_descriptors,
                "textual_descriptors": self.textual_descriptors,
                "mutual_information": self.mutual_information,
                "mi_curve": self.mi_curve.tolist(), "auc": self.auc,
                "evaluation": self.evaluation, "parameters": self.parameters}
