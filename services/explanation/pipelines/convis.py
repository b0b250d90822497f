"""ConVis maps: a concept dictionary from lexicon, its definitions embedded once per model,
the image's windows (grid, stochastic) or surgery patches (dense) ranked against it.

The pipeline is an async generator: it yields `Progress` while windows stream in and ends with
a `ConvisOutcome`. The embedding stream is cancelled if the caller goes away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from cliplens.core.errors import InvalidArgument, Unavailable
from cliplens.core.images import encode_png
from cliplens.explanation import convis
from cliplens.explanation.base.resample import resize_bilinear
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.methods import CONCEPT_TEXTS, CONVIS_MODES, OOD_METHODS, PADDINGS
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.common import InputImage
from cliplens.lexicon.ids import is_synset_id
from cliplens.v1 import common_pb2, embedding_pb2, lexicon_pb2
from cliplens.v1 import explanation_pb2 as pb

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


def concept_text(entry: lexicon_pb2.DictionaryEntry, mode: int) -> str:
    """What is embedded for a synset: its definition (default) or its lemmas."""
    if mode == pb.CONCEPT_TEXT_LEMMAS:
        return ", ".join(lemma.replace("_", " ") for lemma in entry.lemmas)
    return entry.definition


async def load_dictionary(peers: Peers, cache: EmbeddingCache, *, model: str,
                          info: embedding_pb2.ModelInfo, dictionary: str, content_hash: str,
                          text_mode: int, timeout: float | None = None) -> ConceptDictionary:
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
                           timeout: float | None = None) -> list[str]:
    """Synset names of the requested concepts (wnids and offsets accepted)."""
    if not concepts:
        raise InvalidArgument("concepts: expected at least one synset, got none")
    if len(concepts) > limit:
        raise InvalidArgument(f"concepts: at most {limit}, got {len(concepts)}")
    for i, concept in enumerate(concepts):
        if not is_synset_id(concept.strip()):
            raise InvalidArgument(
                f"concepts[{i}]: expected a synset id such as 'dog.n.01' or 'n02084071', "
                f"got {concept!r}")
    found = await peers.synsets([c.strip() for c in concepts], timeout=timeout)
    return [synset.name for synset in found]


async def subtrees_of(peers: Peers, dictionary: str, concepts: Sequence[str],
                      timeout: float | None = None) -> tuple[list[np.ndarray], list[list[str]],
str]:
    """Each concept's subtree inside the dictionary (indices, synset names), and the
    dictionary's content hash; NotFound from the lexicon for a concept not in it. The
    concepts are asked for concurrently."""
    replies = await asyncio.gather(*(peers.subtree(dictionary, concept, timeout=timeout)
                                     for concept in concepts))
    indices = [np.asarray(reply.indices, dtype=np.int64) for reply in replies]
    names = [list(reply.synsets) for reply in replies]
    hashes = {reply.dictionary_content_hash for reply in replies}
    if len(hashes) != 1:
        raise Unavailable(f"dictionary {dictionary!r} changed during the call; retry")
    return indices, names, hashes.pop()


def centre_crop(pixels: np.ndarray, size: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The centre square of the image resized to size x size, and the square (top, left, side)."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(pixels[top:top + side, left:left + side])
    return np.asarray(square.resize((size, size), Image.Resampling.BICUBIC)), (top, left, side)


def to_image_frame(maps: np.ndarray, hw: tuple[int, int],
                   square: tuple[int, int, int]) -> np.ndarray:
    """(n, R, R) maps on the crop -> (n, H, W) on the image, zero outside the crop."""
    top, left, side = square
    full = np.zeros((maps.shape[0], *hw), np.float32)
    full[:, top:top + side, left:left + side] = resize_bilinear(maps, (side, side))
    return np.clip(full, 0.0, 1.0)


@dataclass(frozen=True)
class ConvisSettings:
    """The service's side of a ConVis call: default dictionaries and limits."""

    toyworld_dictionary: str = "toyworld"
    default_dictionary: str = "physical"
    region_chunk: int = 256
    max_concepts: int = 16


@dataclass(frozen=True)
class ConvisOptions:
    """The caller's side of a ConVis call, validated (zero values take the defaults)."""

    concepts: tuple[str, ...]
    dictionary: str = ""
    mode: int = pb.CONVIS_MODE_GRID
    seed: int = 0
    iterations: int = 600
    text_mode: int = pb.CONCEPT_TEXT_DEFINITION
    padding: int = embedding_pb2.PADDING_NOISE

    def __post_init__(self) -> None:
        CONVIS_MODES.check(self.mode, field="mode")
        if not 1 <= self.iterations <= 10_000:
            raise InvalidArgument(f"iterations: expected 0..10000, got {self.iterations}")
        PADDINGS.check(self.padding, field="padding")
        CONCEPT_TEXTS.check(self.text_mode, field="concept_text")

    @classmethod
    def create(cls, concepts: Sequence[str], *, dictionary: str = "", mode: int = 0,
               seed: int = 0, iterations: int = 0, text_mode: int = 0,
               padding: int = 0) -> ConvisOptions:
        """Options with zero values replaced by the defaults."""
        if iterations < 0:
            raise InvalidArgument(f"iterations: expected 0..10000, got {iterations}")
        return cls(tuple(concepts), dictionary, mode or pb.CONVIS_MODE_GRID, seed,
                   iterations or 600, text_mode or pb.CONCEPT_TEXT_DEFINITION,
                   padding or embedding_pb2.PADDING_NOISE)

    @classmethod
    def from_proto(cls, r: pb.ConvisRequest) -> ConvisOptions:
        """The options of a ConvisRequest."""
        return cls.create(r.concepts, dictionary=r.dictionary, mode=r.mode, seed=r.seed,
                          iterations=r.iterations, text_mode=r.concept_text, padding=r.padding)


@dataclass(frozen=True)
class ConvisContext:
    """What the three modes share, resolved once per call: the model, the concepts and their
    subtrees, the dictionary's embeddings and ranker, and the square the maps are drawn on."""

    model: str
    info: embedding_pb2.ModelInfo
    options: ConvisOptions
    settings: ConvisSettings
    names: list[str]
    subtree_names: list[list[str]]
    table: ConceptDictionary
    ranker: convis.ConceptRanker
    size: int  # the side R of the square the maps are drawn on
    crop_png: bytes
    square: tuple[int, int, int]  # (top, left, side) of the square on the image
    started: float
    timeout: float | None

    def progress(self, stage: str, done: int, total: int) -> Progress:
        """A Progress event timed from the start of the call."""
        return Progress(stage, done, total, time.perf_counter() - self.started)


@dataclass(frozen=True)
class ModeMaps:
    """What a mode drew: (n, R, R) maps on the square, the windows encoded, the model used."""

    grid: np.ndarray
    windows: int
    model: common_pb2.ModelRef


async def prepare(peers: Peers, cache: EmbeddingCache, *, model: str, image: InputImage,
                  options: ConvisOptions, settings: ConvisSettings,
                  timeout: float | None = None) -> ConvisContext:
    """Resolve everything a ConVis call needs before any window is encoded."""
    started = time.perf_counter()
    info = await peers.model_info(model, timeout=timeout)
    names = await resolve_concepts(peers, options.concepts, limit=settings.max_concepts,
                                   timeout=timeout)
    dict_id = options.dictionary or default_dictionary(info, settings.toyworld_dictionary,
                                                       settings.default_dictionary)
    subtrees, subtree_names, content_hash = await subtrees_of(peers, dict_id, names,
                                                              timeout=timeout)
    table = await load_dictionary(peers, cache, model=model, info=info, dictionary=dict_id,
                                  content_hash=content_hash, text_mode=options.text_mode,
                                  timeout=timeout)
    size = min(info.image_height, info.image_width)
    crop, square = centre_crop(image.pixels, size)
    return ConvisContext(model, info, options, settings, names, subtree_names, table,
                         convis.ConceptRanker(table.embeddings, subtrees), size,
                         encode_png(crop), square, started, timeout)


async def dense_maps(peers: Peers, ctx: ConvisContext) -> AsyncIterator[Progress | ModeMaps]:
    """cliplens' dense mode: surgery patch tokens ranked per patch, one forward pass."""
    dense = await peers.dense(ctx.model, [ctx.crop_png], surgery=True, timeout=ctx.timeout)
    tokens = dense.tokens[0, 1:]
    tokens = tokens / np.linalg.norm(tokens, axis=-1, keepdims=True).clip(1e-12)
    grid = convis.dense_concept_maps(tokens, dense.grid, ctx.table.embeddings,
                                     ctx.ranker.subtrees, (ctx.size, ctx.size)).full
    yield ModeMaps(grid, 1, dense.model)


async def grid_maps(peers: Peers, ctx: ConvisContext) -> AsyncIterator[Progress | ModeMaps]:
    """The paper's Algorithm 1: every window of the grid, streamed and ranked as it comes."""
    boxes = convis.grid_windows(ctx.size)
    acc = convis.GridAccumulator(ctx.size, boxes, len(ctx.names))
    ref = ctx.info.ref
    async for chunk_ref, offset, emb in peers.regions(
            ctx.model, ctx.crop_png, boxes, seed=ctx.options.seed, padding=ctx.options.padding,
            chunk=ctx.settings.region_chunk, timeout=ctx.timeout):
        ref = chunk_ref
        acc.add(offset, ctx.ranker(emb))
        yield ctx.progress("windows", acc.added, acc.total)
    yield ModeMaps(acc.maps(), acc.total, ref)


async def stochastic_maps(peers: Peers,
                          ctx: ConvisContext) -> AsyncIterator[Progress | ModeMaps]:
    """The paper's sampler: windows drawn from the running map, a batch at a time."""
    sampler = convis.StochasticSampler(ctx.size, ctx.ranker, iterations=ctx.options.iterations,
                                       seed=ctx.options.seed)
    windows, ref = 0, ctx.info.ref
    while (boxes := sampler.propose()) is not None:
        chunks = []
        async for chunk_ref, offset, emb in peers.regions(
                ctx.model, ctx.crop_png, boxes, seed=(ctx.options.seed + windows) % 2**64,
                padding=ctx.options.padding,
                chunk=max(ctx.settings.region_chunk, len(boxes)), timeout=ctx.timeout):
            ref = chunk_ref
            chunks.append((offset, emb))
        sampler.feed(np.concatenate([emb for _, emb in sorted(chunks, key=lambda c: c[0])]))
        windows += len(boxes)
        yield ctx.progress("iterations", sampler.done, sampler.iterations)
    yield ModeMaps(sampler.maps(), windows, ref)


# One drawing function per ConVis mode (the keys are the registry's, `methods.CONVIS_MODES`).
MODE_MAPS: dict[int, Callable[[Peers, ConvisContext], AsyncIterator[Progress | ModeMaps]]] = {
    pb.CONVIS_MODE_GRID: grid_maps, pb.CONVIS_MODE_STOCHASTIC: stochastic_maps,
             pb.CONVIS_MODE_DENSE: dense_maps}


def _parameters(ctx: ConvisContext) -> dict[str, str]:
    o = ctx.options
    return {"mode": CONVIS_MODES.name(o.mode), "dictionary": ctx.table.id,
            "input_size": str(ctx.size), "seed": str(o.seed),
            "padding": PADDINGS.name(o.padding), "concept_text": CONCEPT_TEXTS.name(o.text_mode),
            **({"iterations": str(o.iterations)} if o.mode == pb.CONVIS_MODE_STOCHASTIC else {})}


async def convis_maps(peers: Peers, cache: EmbeddingCache, *, model: str, image: InputImage,
                      options: ConvisOptions, settings: ConvisSettings = ConvisSettings(),
                      timeout: float | None = None) -> AsyncIterator[Progress | ConvisOutcome]:
    """ConVis maps of the concepts on one image; yields Progress, then the ConvisOutcome."""
    ctx = await prepare(peers, cache, model=model, image=image, options=options,
                        settings=settings, timeout=timeout)
    yield ctx.progress("dictionary", 1, 1)
    drawn = None
    async for event in MODE_MAPS[options.mode](peers, ctx):
        if isinstance(event, ModeMaps):
            drawn = event
        else:
            yield event
    assert drawn is not None  # every mode ends with its maps
    yield ConvisOutcome(
        model=drawn.model, concepts=ctx.names, subtrees=ctx.subtree_names,
        grid=drawn.grid.astype(np.float32),
        full=to_image_frame(drawn.grid, image.size, ctx.square), dictionary=ctx.table,
        windows=drawn.windows, seconds=time.perf_counter() - ctx.started,
        parameters=_parameters(ctx))


async def ood(peers: Peers, cache: EmbeddingCache, *, model: str, images: Sequence[InputImage],
              concept: str, dictionary: str, method: int, text_mode: int,
              settings: ConvisSettings = ConvisSettings(), timeout: float | None = None
              ) -> tuple[common_pb2.ModelRef, np.ndarray, int]:
    """ConVis's zero-shot OOD scores of the images for an in-distribution synset."""
    method = OOD_METHODS.check(method or pb.OOD_METHOD_HIERARCHY, field="method")
    text_mode = CONCEPT_TEXTS.check(text_mode or pb.CONCEPT_TEXT_DEFINITION,
                                    field="concept_text")
    info = await peers.model_info(model, timeout=timeout)
    (name,) = await resolve_concepts(peers, [concept], limit=1, timeout=timeout)
    dict_id = dictionary or default_dictionary(info, settings.toyworld_dictionary,
                                               settings.default_dictionary)
    (subtree,), (names,), content_hash = await subtrees_of(peers, dict_id, [name],
                                                           timeout=timeout)
    table = await load_dictionary(peers, cache, model=model, info=info, dictionary=dict_id,
                                  content_hash=content_hash, text_mode=text_mode,
                                  timeout=timeout)
    ref, emb = await peers.encode_images(model, [i.data for i in images], timeout=timeout)
    kind = OOD_METHODS.name(method)
    own = int(subtree[names.index(name)])
    scores = convis.ood_scores(emb, table.embeddings, own, subtree, kind)
    return ref, scores, len(subtree)
