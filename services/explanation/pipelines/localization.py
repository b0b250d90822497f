"""Localization quality of map methods against ground truth: pointing game and MaxBoxAcc.

Samples that share an image are computed together: one surgery pass gives every label's map,
one ConVis pass ranks every concept of that image.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.explanation import evaluation
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.common import InputImage
from cliplens.explanation.pipelines.convis import ConvisOutcome, Progress, convis_maps
from cliplens.explanation.pipelines.surgery import surgery_maps
from cliplens.explanation.texts import is_synset_id, resolve_labels
from cliplens.v1 import explanation_pb2 as pb

CONVIS_MODES = {pb.MAP_METHOD_CONVIS_GRID: pb.CONVIS_MODE_GRID,
                pb.MAP_METHOD_CONVIS_STOCHASTIC: pb.CONVIS_MODE_STOCHASTIC,
                pb.MAP_METHOD_CONVIS_DENSE: pb.CONVIS_MODE_DENSE}


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

    model: object
    results: list[MethodResult]
    parameters: dict[str, str]


def _image_key(image: InputImage) -> str:
    return hashlib.sha256(image.data).hexdigest()


async def _maps_for(peers, cache, method: int, *, model: str, images: dict[str, InputImage],
                    wanted: dict[str, list[str]], labels: Sequence[str], surgery_mode: int,
                    dictionary: str, seed: int, options: dict, timeout):
    """Maps keyed by (image key, concept) for one method, and the model that made them."""
    maps: dict[tuple[str, str], np.ndarray] = {}
    ref = None
    for key, concepts in wanted.items():
        image = images[key]
        if method in CONVIS_MODES:
            outcome = None
            async for event in convis_maps(peers, cache, model=model, image=image,
                                           concepts=concepts, dictionary=dictionary,
                                           mode=CONVIS_MODES[method], seed=seed, iterations=0,
                                           text_mode=0, padding=0, timeout=timeout, **options):
                if isinstance(event, ConvisOutcome):
                    outcome = event
            ref = outcome.model
            for concept, full in zip(concepts, outcome.full, strict=True):
                maps[(key, concept)] = full
        else:
            mode = pb.SURGERY_MODE_RAW if method == pb.MAP_METHOD_RAW else surgery_mode
            texts = list(labels) or list(concepts)
            if mode == pb.SURGERY_MODE_LABEL_SET and len(texts) < 2:
                mode = pb.SURGERY_MODE_SINGLE_TEXT
            out = await surgery_maps(peers, cache, model=model, images=[image], labels=texts,
                                     mode=mode, timeout=timeout)
            ref = out.model
            resolved = await resolve_labels(peers, concepts, max_labels=len(concepts),
                                            timeout=timeout)
            for concept, text in zip(concepts, resolved, strict=True):
                if text not in out.labels:
                    raise InvalidArgument(f"samples: concept {concept!r} ({text!r}) is not in "
                                          f"the label set {out.labels}")
                maps[(key, concept)] = out.fulls[0][out.labels.index(text)]
    return maps, ref


async def evaluate_localization(peers: Peers, cache: EmbeddingCache, *, model: str,
                                samples: Sequence[Sample], methods: Sequence[int],
                                labels: Sequence[str], surgery_mode: int, dictionary: str,
                                seed: int, convis_options: dict,
                                timeout=None) -> AsyncIterator[Progress | LocalizationOutcome]:
    """Pointing game and MaxBoxAcc of each method over the samples."""
    if not samples:
        raise InvalidArgument("samples: expected at least one sample, got none")
    if not methods:
        raise InvalidArgument("methods: expected at least one method, got none")
    for i, method in enumerate(methods):
        if method not in (pb.MAP_METHOD_RAW, pb.MAP_METHOD_SURGERY, *CONVIS_MODES):
            raise InvalidArgument(f"methods[{i}]: unknown value {method}")
    for i, s in enumerate(samples):
        if s.mask is not None and s.mask.shape != s.image.size:
            raise InvalidArgument(f"samples[{i}].mask: expected shape {s.image.size}, "
                                  f"got {s.mask.shape}")
        if any(method in CONVIS_MODES for method in methods) and not is_synset_id(s.concept):
            raise InvalidArgument(f"samples[{i}].concept: ConVis needs a synset id, "
                                  f"got {s.concept!r}")
    images: dict[str, InputImage] = {}
    wanted: dict[str, list[str]] = defaultdict(list)
    for s in samples:
        key = _image_key(s.image)
        images[key] = s.image
        if s.concept not in wanted[key]:
            wanted[key].append(s.concept)
    started = time.perf_counter()
    results, ref = [], None
    for done, method in enumerate(methods):
        yield Progress(pb.MapMethod.Name(method), done, len(methods),
                       time.perf_counter() - started)
        t0 = time.perf_counter()
        maps, ref = await _maps_for(peers, cache, method, model=model, images=images,
                                    wanted=wanted, labels=labels, surgery_mode=surgery_mode,
                                    dictionary=dictionary, seed=seed, options=convis_options,
                                    timeout=timeout)
        seconds = time.perf_counter() - t0
        per_sample = [maps[(_image_key(s.image), s.concept)] for s in samples]
        hits = [bool(evaluation.pointing_game(mp, s.mask)) for mp, s in zip(per_sample, samples,
                                                                    strict=True)
                if s.mask is not None]
        with_boxes = [(mp, s.boxes) for mp, s in zip(per_sample, samples, strict=True)
                      if len(s.boxes)]
        box_acc = (evaluation.max_box_acc([mp for mp, _ in with_boxes],
                                          [b for _, b in with_boxes]).score
                   if with_boxes else float("nan"))
        results.append(MethodResult(method, float(np.mean(hits)) if hits else float("nan"),
                                    float(box_acc), seconds, hits))
    yield LocalizationOutcome(ref, results, {
        "samples": str(len(samples)), "images": str(len(images)), "seed": str(seed),
        "surgery_mode": pb.SurgeryMode.Name(surgery_mode or pb.SURGERY_MODE_LABEL_SET),
        "dictionary": dictionary or "(model default)"})
