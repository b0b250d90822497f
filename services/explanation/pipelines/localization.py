"""Localization quality of map methods against ground truth: pointing game and MaxBoxAcc.

Samples that share an image are computed together: one surgery pass gives every label's map,
one ConVis pass ranks every concept of that image.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.explanation import evaluation
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.methods import SURGERY_MODES, TEMPLATE_SETS, MapMethod, map_method
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.common import InputImage
from cliplens.explanation.pipelines.convis import (
    ConvisOptions,
    ConvisOutcome,
    ConvisSettings,
    Progress,
    convis_maps,
)
from cliplens.explanation.pipelines.surgery import SurgeryOptions, surgery_maps
from cliplens.explanation.texts import resolve_labels
from cliplens.lexicon.ids import is_synset_id
from cliplens.v1 import common_pb2
from cliplens.v1 import explanation_pb2 as pb


@dataclass(frozen=True)
class Sample:
    """One object to find: the image, its concept, its mask and boxes."""

    image: InputImage
    concept: str
    mask: np.ndarray | None
    boxes: np.ndarray  # (B, 4)


@dataclass
class MethodResult:
    """Scores of one method: pointing accuracy, MaxBoxAcc, wall time, per-sample hits."""

    method: int
    pointing: float
    maxboxacc: float
    seconds: float
    hits: list[bool] = field(default_factory=list)


@dataclass
class LocalizationOutcome:
    """Scores of every method, the model that made the maps, the parameters used."""

    model: common_pb2.ModelRef | None
    results: list[MethodResult]
    parameters: dict[str, str]


@dataclass(frozen=True)
class EvaluationSettings:
    """What every method of one evaluation shares."""

    labels: tuple[str, ...] = ()  # surgery's label set (empty: each image's own concepts)
    surgery_mode: int = pb.SURGERY_MODE_LABEL_SET
    template_set: int = 0
    dictionary: str = ""
    seed: int = 0
    convis: ConvisSettings = ConvisSettings()

    def __post_init__(self) -> None:
        SURGERY_MODES.check(self.surgery_mode, field="surgery_mode")
        TEMPLATE_SETS.check(self.template_set, field="template_set")


def _image_key(image: InputImage) -> str:
    return hashlib.sha256(image.data).hexdigest()


async def _convis_maps(peers: Peers, cache: EmbeddingCache, method: MapMethod, *, model: str,
                       image: InputImage, concepts: list[str], settings: EvaluationSettings,
                       timeout: float | None) -> tuple[list[np.ndarray], common_pb2.ModelRef]:
    options = ConvisOptions.create(concepts, dictionary=settings.dictionary, mode=method.mode,
                                   seed=settings.seed)
    outcome = None
    async for event in convis_maps(peers, cache, model=model, image=image, options=options,
                                   settings=settings.convis, timeout=timeout):
        if isinstance(event, ConvisOutcome):
            outcome = event
    assert outcome is not None
    return list(outcome.full), outcome.model


async def _surgery_maps(peers: Peers, cache: EmbeddingCache, method: MapMethod, *, model: str,
                        image: InputImage, concepts: list[str], texts: dict[str, str],
                        settings: EvaluationSettings,
                        timeout: float | None) -> tuple[list[np.ndarray], common_pb2.ModelRef]:
    mode = method.mode or settings.surgery_mode
    labels = list(settings.labels) or [texts[c] for c in concepts]
    if mode == pb.SURGERY_MODE_LABEL_SET and len(labels) < 2:
        mode = pb.SURGERY_MODE_SINGLE_TEXT
    out = await surgery_maps(peers, cache, model=model, images=[image], labels=labels,
                             options=SurgeryOptions(mode=mode,
                                                    template_set=settings.template_set),
                             max_labels=len(labels), timeout=timeout)
    maps = []
    for concept in concepts:
        if texts[concept] not in out.labels:
            raise InvalidArgument(f"samples: concept {concept!r} ({texts[concept]!r}) is not in "
                                  f"the label set {out.labels}")
        maps.append(out.fulls[0][out.labels.index(texts[concept])])
    return maps, out.model


async def _maps_for(peers: Peers, cache: EmbeddingCache, method: MapMethod, *, model: str,
                    images: dict[str, InputImage], wanted: dict[str, list[str]],
                    texts: dict[str, str], settings: EvaluationSettings,
                    timeout: float | None
                    ) -> tuple[dict[tuple[str, str], np.ndarray], common_pb2.ModelRef | None]:
    """Maps keyed by (image key, concept) for one method, and the model that made them."""
    maps: dict[tuple[str, str], np.ndarray] = {}
    ref = None
    for key, concepts in wanted.items():
        if method.family == "convis":
            found, ref = await _convis_maps(peers, cache, method, model=model,
                                            image=images[key], concepts=concepts,
                                            settings=settings, timeout=timeout)
        else:
            found, ref = await _surgery_maps(peers, cache, method, model=model,
                                             image=images[key], concepts=concepts, texts=texts,
                                             settings=settings, timeout=timeout)
        maps.update({(key, c): m for c, m in zip(concepts, found, strict=True)})
    return maps, ref


def _check(samples: Sequence[Sample], methods: Sequence[int]) -> list[MapMethod]:
    if not samples:
        raise InvalidArgument("samples: expected at least one sample, got none")
    if not methods:
        raise InvalidArgument("methods: expected at least one method, got none")
    chosen = [map_method(m, field=f"methods[{i}]") for i, m in enumerate(methods)]
    convis_asked = any(m.family == "convis" for m in chosen)
    for i, s in enumerate(samples):
        if s.mask is not None and s.mask.shape != s.image.size:
            raise InvalidArgument(f"samples[{i}].mask: expected shape {s.image.size}, "
                                  f"got {s.mask.shape}")
        if convis_asked and not is_synset_id(s.concept):
            raise InvalidArgument(f"samples[{i}].concept: ConVis needs a synset id, "
                                  f"got {s.concept!r}")
    return chosen


def _score(method: MapMethod, maps: dict, samples: Sequence[Sample],
           seconds: float) -> MethodResult:
    per_sample = [maps[(_image_key(s.image), s.concept)] for s in samples]
    pairs = list(zip(per_sample, samples, strict=True))
    hits = [bool(evaluation.pointing_game(mp, s.mask)) for mp, s in pairs if s.mask is not None]
    with_boxes = [(mp, s.boxes) for mp, s in pairs if len(s.boxes)]
    box_acc = (evaluation.max_box_acc([mp for mp, _ in with_boxes],
                                      [b for _, b in with_boxes]).score
               if with_boxes else float("nan"))
    return MethodResult(method.value, float(np.mean(hits)) if hits else float("nan"),
                        float(box_acc), seconds, hits)


async def evaluate_localization(peers: Peers, cache: EmbeddingCache, *, model: str,
                                samples: Sequence[Sample], methods: Sequence[int],
                                settings: EvaluationSettings = EvaluationSettings(),
                                timeout: float | None = None
                                ) -> AsyncIterator[Progress | LocalizationOutcome]:
    """Pointing game and MaxBoxAcc of each method over the samples."""
    chosen = _check(samples, methods)
    images: dict[str, InputImage] = {}
    wanted: dict[str, list[str]] = defaultdict(list)
    for s in samples:
        key = _image_key(s.image)
        images[key] = s.image
        if s.concept not in wanted[key]:
            wanted[key].append(s.concept)
    concepts = list(dict.fromkeys(s.concept for s in samples))
    texts: dict[str, str] = {}
    if any(m.family == "surgery" for m in chosen):  # every label resolved once, up front
        texts = dict(zip(concepts, await resolve_labels(peers, concepts,
                                                        max_labels=len(concepts),
                                                        timeout=timeout), strict=True))
        if settings.labels:
            settings = dataclasses.replace(settings, labels=tuple(await resolve_labels(
                peers, settings.labels, max_labels=len(settings.labels), timeout=timeout)))
    started = time.perf_counter()
    results, ref = [], None
    for done, method in enumerate(chosen):
        yield Progress(method.name, done, len(chosen), time.perf_counter() - started)
        t0 = time.perf_counter()
        maps, ref = await _maps_for(peers, cache, method, model=model, images=images,
                                    wanted=wanted, texts=texts, settings=settings,
                                    timeout=timeout)
        results.append(_score(method, maps, samples, time.perf_counter() - t0))
    yield LocalizationOutcome(ref, results, {
        "samples": str(len(samples)), "images": str(len(images)), "seed": str(settings.seed),
        "surgery_mode": SURGERY_MODES.name(settings.surgery_mode),
        "template_set": TEMPLATE_SETS.name(settings.template_set),
        "dictionary": settings.dictionary or "(model default)"})
