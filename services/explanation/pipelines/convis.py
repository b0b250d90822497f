"""ConVis maps: a concept dictionary from lexicon, its definitions embedded once per model,
the image's windows (grid, stochastic) or surgery patches (dense) ranked against it.

The pipeline is an async generator: it yields `Progress` while windows stream in and ends with
a `ConvisOutcome`. The embedding stream is cancelled if the caller goes away.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from cliplens.core.errors import InvalidArgument, Unavailable
from cliplens.core.images import encode_png
from cliplens.explanation import convis
from cliplens.explanation.base.resample import resize_bilinear
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.common import InputImage
from cliplens.explanation.texts import is_synset_id
from cliplens.v1 import common_pb2, embedding_pb2
from cliplens.v1 import explanation_pb2 as pb

MODES = {pb.CONVIS_MODE_GRID: "grid", pb.CONVIS_MODE_STOCHASTIC: "stochastic",
         pb.CONVIS_MODE_DENSE: "dense"}
TEXT_CHUNK = 256


@dataclass(frozen=True)
class Progress:
    """How far a long computation got."""

    stage: str
    done: int
    total: int
    elapsed: float


@dataclass
class ConceptDictionary:
    """A dictionary's entry embeddings for one model (rows in the lexicon's dictionary order)."""

    id: str
    content_hash: str
    embeddings: np.ndarray  # (T, D), L2-normalised

    @property
    def size(self) -> int:
        return int(self.embeddings.shape[0])


@dataclass
class ConvisOutcome:
    """Maps of the concepts over the image (grid: (n, R, R) on the centre crop)."""

    model: common_pb2.ModelRef
    concepts: list[str]
    subtrees: list[list[str]]
    grid: np.ndarray
    full: np.ndarray  # (n, H, W) on the original image (zero outside the centre crop)
    dictionary: ConceptDictionary
    windows: int
    seconds: float
    parameters: dict[str, str] = field(default_factory=dict)


def default_dictionary(info: embedding_pb2.ModelInfo, toyworld: str, general: str) -> str:
    """toyworld models are explained over the toyworld dictionary, others over `general`."""
    return toyworld if info.ref.name == "toyworld" or info.architecture == "toyworld" \
        else general


def concept_text(entry, mode: int) -> str:
    """What is embedded for a synset: its definition (default) or its lemmas."""
    if mode == pb.CONCEPT_TEXT_LEMMAS:
        return ", ".join(lemma.replace("_", " ") for lemma in entry.lemmas)
    return entry.definition


async def load_dictionary(peers: Peers, cache: EmbeddingCache, *, model: str,
                          info: embedding_pb2.ModelInfo, dictionary: str, content_hash: str,
                          text_mode: int, timeout=None) -> ConceptDictionary:
    """The dictionary's entry embeddings, cached per model fingerprint and content hash.

    `content_hash` comes from `subtrees_of`, so a cached dictionary costs no lexicon call: the
    entries are fetched only to embed them. Fetching them on every call cost 35 ms for the
    general dictionary (7,194 synsets), more than a dense ConVis map's forward pass.
    """
    kind = "lemmas" if text_mode == pb.CONCEPT_TEXT_LEMMAS else "definitions"

    async def compute() -> np.ndarray:
        reply = await peers.dictionary(dictionary, timeout=timeout)
        if reply.info.content_hash != content_hash:
            raise Unavailable(f"dictionary {dictionary!r} changed during the call; retry")
        texts = [concept_text(e, text_mode) for e in reply.entries]
        parts = []
        for start in range(0, len(texts), TEXT_CHUNK):
            _, emb = await peers.encode_texts(model, texts[start:start + TEXT_CHUNK],
                                              timeout=timeout)
            parts.append(emb)
        return np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)

    emb = await cache.get(f"dictionary-{kind}", info.ref.fingerprint, content_hash, compute)
    return ConceptDictionary(dictionary, content_hash, emb)


async def resolve_concepts(peers: Peers, concepts: Sequence[str], *, limit: int,
                           timeout=None) -> list[str]:
    """Synset names of the requested concepts (wnids and offsets accepted)."""
    if not concepts:
        raise InvalidArgument("concepts: expected at least one synset, got none")
    if len(concepts) > limit:
        raise InvalidArgument(f"concepts: at most {limit}, got {len(concepts)}")
    names = []
    for i, concept in enumerate(concepts):
        if not is_synset_id(concept.strip()):
            raise InvalidArgument(
                f"concepts[{i}]: expected a synset id such as 'dog.n.01' or 'n02084071', "
                f"got {concept!r}")
        names.append((await peers.synset(concept.strip(), timeout=timeout)).name)
    return names


async def subtrees_of(peers: Peers, dictionary: str, concepts: Sequence[str],
                      timeout=None) -> tuple[list[np.ndarray], list[list[str]], str]:
    """Each concept's subtree inside the dictionary (indices, synset names), and the
    dictionary's content hash; NotFound from the lexicon for a concept not in it."""
    indices, names, hashes = [], [], set()
    for concept in concepts:
        reply = await peers.subtree(dictionary, concept, timeout=timeout)
        indices.append(np.asarray(reply.indices, dtype=np.int64))
        names.append(list(reply.synsets))
        hashes.add(reply.dictionary_content_hash)
    if len(hashes) != 1:
        raise Unavailable(f"dictionary {dictionary!r} changed during the call; retry")
    return indices, names, hashes.pop()


def centre_crop(pixels: np.ndarray, size: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The centre square of the image resized to size x size, and the square (top, left, side)."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(pixels[top:top + side, left:left + side])
    return np.asarray(square.resize((size, size), Image.BICUBIC)), (top, left, side)


def to_image_frame(maps: np.ndarray, hw: tuple[int, int], square: tuple[int, int, int]):
    """(n, R, R) maps on the crop -> (n, H, W) on the image, zero outside the crop."""
    top, left, side = square
    full = np.zeros((maps.shape[0], *hw), np.float32)
    full[:, top:top + side, left:left + side] = resize_bilinear(maps, (side, side))
    return np.clip(full, 0.0, 1.0)


async def convis_maps(peers: Peers, cache: EmbeddingCache, *, model: str, image: InputImage,
                      concepts: Sequence[str], dictionary: str, mode: int, seed: int,
                      iterations: int, text_mode: int, padding: int, toyworld_dictionary: str,
                      default_dict: str, region_chunk: int, max_concepts: int,
                      timeout=None) -> AsyncIterator[Progress | ConvisOutcome]:
    """ConVis maps of `concepts` on one image; yields Progress, then the ConvisOutcome."""
    started = time.perf_counter()
    mode = mode or pb.CONVIS_MODE_GRID
    if mode not in MODES:
        raise InvalidArgument(f"mode: unknown value {mode}")
    if iterations < 0 or iterations > 10_000:
        raise InvalidArgument(f"iterations: expected 0..10000, got {iterations}")
    if padding not in embedding_pb2.Padding.values():
        raise InvalidArgument(f"padding: expected one of {embedding_pb2.Padding.values()}, "
                              f"got {padding}")
    if text_mode not in pb.ConceptText.values():
        raise InvalidArgument(f"concept_text: expected one of {pb.ConceptText.values()}, "
                              f"got {text_mode}")
    info = await peers.model_info(model, timeout=timeout)
    names = await resolve_concepts(peers, concepts, limit=max_concepts, timeout=timeout)
    dict_id = dictionary or default_dictionary(info, toyworld_dictionary, default_dict)
    yield Progress("dictionary", 0, 1, time.perf_counter() - started)
    subtrees, subtree_names, content_hash = await subtrees_of(peers, dict_id, names,
                                                              timeout=timeout)
    table = await load_dictionary(peers, cache, model=model, info=info, dictionary=dict_id,
                                  content_hash=content_hash, text_mode=text_mode,
                                  timeout=timeout)
    ranker = convis.ConceptRanker(table.embeddings, subtrees)
    size = min(info.image_height, info.image_width)
    crop, square = centre_crop(image.pixels, size)
    crop_png = encode_png(crop)
    padding = padding or embedding_pb2.PADDING_NOISE
    ref = info.ref
    windows = 0
    if mode == pb.CONVIS_MODE_DENSE:
        dense = await peers.dense(model, [crop_png], surgery=True, timeout=timeout)
        ref = dense.model
        tokens = dense.tokens[0, 1:]
        tokens = tokens / np.linalg.norm(tokens, axis=-1, keepdims=True).clip(1e-12)
        grid = convis.dense_concept_maps(tokens, dense.grid, table.embeddings, subtrees,
                                       (size, size)).full
        windows = 1
    elif mode == pb.CONVIS_MODE_GRID:
        boxes = convis.grid_windows(size)
        acc = convis.GridAccumulator(size, boxes, len(names))
        async for chunk_ref, offset, emb in peers.regions(model, crop_png, boxes, seed=seed,
                                                          padding=padding, chunk=region_chunk,
                                                          timeout=timeout):
            ref = chunk_ref
            acc.add(offset, ranker(emb))
            yield Progress("windows", acc.added, acc.total, time.perf_counter() - started)
        grid, windows = acc.maps(), acc.total
    else:
        sampler = convis.StochasticSampler(size, ranker, iterations=iterations or 600, seed=seed)
        while (boxes := sampler.propose()) is not None:
            chunks = [(offset, emb) async for ref, offset, emb in peers.regions(
                model, crop_png, boxes, seed=(seed + windows) % 2**64, padding=padding,
                chunk=max(region_chunk, len(boxes)), timeout=timeout)]
            sampler.feed(np.concatenate([emb for _, emb in sorted(chunks, key=lambda c: c[0])]))
            windows += len(boxes)
            yield Progress("iterations", sampler.done, sampler.iterations,
                           time.perf_counter() - started)
        grid = sampler.maps()
    full = to_image_frame(grid, image.size, square)
    yield ConvisOutcome(
        model=ref, concepts=names, subtrees=subtree_names, grid=grid.astype(np.float32),
        full=full, dictionary=table, windows=windows, seconds=time.perf_counter() - started,
        parameters={"mode": MODES[mode], "dictionary": table.id, "input_size": str(size),
                    "seed": str(seed), "padding": embedding_pb2.Padding.Name(padding),
                    "concept_text": "lemmas" if text_mode == pb.CONCEPT_TEXT_LEMMAS
                    else "definition",
                    **({"iterations": str(iterations or 600)}
                       if mode == pb.CONVIS_MODE_STOCHASTIC else {})})


async def ood(peers: Peers, cache: EmbeddingCache, *, model: str, images: Sequence[InputImage],
              concept: str, dictionary: str, method: int, text_mode: int,
              toyworld_dictionary: str, default_dict: str, timeout=None):
    """ConVis's zero-shot OOD scores of the images for an in-distribution synset."""
    info = await peers.model_info(model, timeout=timeout)
    (name,) = await resolve_concepts(peers, [concept], limit=1, timeout=timeout)
    dict_id = dictionary or default_dictionary(info, toyworld_dictionary, default_dict)
    (subtree,), (names,), content_hash = await subtrees_of(peers, dict_id, [name],
                                                           timeout=timeout)
    table = await load_dictionary(peers, cache, model=model, info=info, dictionary=dict_id,
                                  content_hash=content_hash, text_mode=text_mode,
                                  timeout=timeout)
    ref, emb = await peers.encode_images(model, [i.data for i in images], timeout=timeout)
    kind = "naive" if method == pb.OOD_METHOD_NAIVE else "hierarchy"
    own = int(subtree[names.index(name)])
    scores = convis.ood_scores(emb, table.embeddings, own, subtree, kind)
    return ref, scores, len(subtree)
