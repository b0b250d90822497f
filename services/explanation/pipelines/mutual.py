"""The mutual-knowledge analysis of a zero-shot prediction (specs/mutual_knowledge.md).

Per image: predict; find visual concepts in the patch features (GDC foreground, PCA or
K-means); encode each concept as three prompted images; describe the concepts with the bank
(intersection, relevance filter, Sinkhorn) -> D_v; the class's nearest descriptors -> D_y; MI,
its dynamics and AUC; optionally Deletion/Insertion walks against a random-order baseline.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.core.images import encode_png
from cliplens.explanation import evaluation, mutual
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.methods import (
    CONCEPT_FEATURES,
    CONCEPT_METHODS,
    DESCRIPTOR_TEXTS,
    KEY_BIASES,
    MI_ESTIMATORS,
    TOKEN_STAGES,
    Choices,
)
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.classify import ZeroShot, zero_shot
from cliplens.explanation.pipelines.common import InputImage, dense_input_size
from cliplens.explanation.pipelines.convis import Progress
from cliplens.explanation.texts import resolve_labels
from cliplens.lexicon.ids import is_synset_id
from cliplens.v1 import common_pb2, embedding_pb2
from cliplens.v1 import explanation_pb2 as pb

DESCRIPTOR_TEMPLATE = "a photo showing {}"
SCORE_SCALE = 2.5  # the paper's score: 2.5 x cosine


# Defaults of the choices where the spec and the authors' code differ, each the authors' by
# measurement on `cliplens eval quality` (the README's table of the papers' choices).
DEFAULT_TOP_DESCRIPTORS = 100  # the authors' op_initial_topk; the spec's 500
DEFAULT_RELEVANCE_MARGIN = 0.01  # the authors' mean_offset; the spec's 0.02
DEFAULT_CONNECTIVITY = 8  # the authors'; 4 before
DEFAULT_RELEVANCE_TEXT = "raw"  # the descriptor alone, as the authors; "templated" before
DEFAULT_TOKEN_STAGE = "residual"  # before ln_post and proj, as the authors; "projected" before
DEFAULT_KEY_BIAS = "without"  # the authors'; "with" before


@dataclass(frozen=True)
class Options:
    """The analysis parameters with the defaults filled in (see the constants above)."""

    features: str = "tokens"
    method: str = "pca"
    num_concepts: int = 5
    estimator: str = "paper"
    top_descriptors: int = DEFAULT_TOP_DESCRIPTORS
    relevance_margin: float | None = DEFAULT_RELEVANCE_MARGIN
    sinkhorn_iterations: int = 1000
    descriptors_per_concept: int = 3
    textual_top_u: int = 50
    templates: tuple[str, ...] = ()
    evaluate: bool = False
    seed: int = 0
    connectivity: int = DEFAULT_CONNECTIVITY
    relevance_text: str = DEFAULT_RELEVANCE_TEXT
    token_stage: str = DEFAULT_TOKEN_STAGE
    key_bias: str = DEFAULT_KEY_BIAS

    @classmethod
    def from_proto(cls, o: pb.MutualKnowledgeOptions) -> Options:
        """Zero values take the defaults; out-of-range values are INVALID_ARGUMENT."""
        def choice(table: Choices, value: int, field: str, default: str) -> str:
            return table.name(table.check(value, field=f"options.{field}")) if value else default

        opts = cls(
            features=choice(CONCEPT_FEATURES, o.features, "features", "tokens"),
            method=choice(CONCEPT_METHODS, o.method, "method", "pca"),
            num_concepts=o.num_concepts or 5,
            estimator=choice(MI_ESTIMATORS, o.estimator, "estimator", "paper"),
            top_descriptors=o.top_descriptors or DEFAULT_TOP_DESCRIPTORS,
            relevance_margin=(None if o.relevance_margin < 0
                              else (o.relevance_margin or DEFAULT_RELEVANCE_MARGIN)),
            sinkhorn_iterations=o.sinkhorn_iterations or 1000,
            descriptors_per_concept=o.descriptors_per_concept or 3,
            textual_top_u=o.textual_top_u or 50, templates=tuple(o.templates),
            evaluate=o.evaluate, seed=o.seed, connectivity=o.connectivity or DEFAULT_CONNECTIVITY,
            relevance_text=choice(DESCRIPTOR_TEXTS, o.relevance_text, "relevance_text",
                                  DEFAULT_RELEVANCE_TEXT),
            token_stage=choice(TOKEN_STAGES, o.token_stage, "token_stage", DEFAULT_TOKEN_STAGE),
            key_bias=choice(KEY_BIASES, o.key_bias, "key_bias", DEFAULT_KEY_BIAS))
        for name, value, lo, hi in (("num_concepts", opts.num_concepts, 1, 32),
                                    ("top_descriptors", opts.top_descriptors, 1, 100_000),
                                    ("sinkhorn_iterations", opts.sinkhorn_iterations, 1, 100_000),
                                    ("descriptors_per_concept", opts.descriptors_per_concept,
                                     1, 100),
                                    ("textual_top_u", opts.textual_top_u, 1, 100_000)):
            if not lo <= value <= hi:
                raise InvalidArgument(f"options.{name}: expected {lo}..{hi}, got {value}")
        if opts.connectivity not in (4, 8):
            raise InvalidArgument(f"options.connectivity: expected 4 or 8, got "
                                  f"{opts.connectivity}")
        return opts

    def parameters(self) -> dict[str, str]:
        """The options as the response's `parameters` map."""
        return {k: str(v) for k, v in self.__dict__.items() if k != "templates"} | {
            "templates": str(len(self.templates) or "model default")}


@dataclass
class Bank:
    """A descriptor bank's unique texts and their embeddings for one model: templated ("a photo
    showing {}") and, when the relevance is scored with them, the raw texts'."""

    id: str
    content_hash: str
    texts: list[str]
    embeddings: np.ndarray
    raw_embeddings: np.ndarray | None = None


@dataclass
class Walks:
    """Deletion/insertion scores and per-step correctness, ours and random-order."""

    deletion: np.ndarray
    insertion: np.ndarray
    deletion_random: np.ndarray
    insertion_random: np.ndarray
    deletion_correct: np.ndarray | None = None
    insertion_correct: np.ndarray | None = None


@dataclass
class Analysis:
    """One image's mutual-knowledge analysis."""

    model: common_pb2.ModelRef
    label: str
    label_index: int
    probability: float
    masks: np.ndarray  # bool (L, H, W)
    grid_labels: np.ndarray  # int (h, w), -1 background
    foreground: np.ndarray  # bool (h, w)
    importance: np.ndarray  # (L,)
    concept_descriptors: list[list[tuple[str, float]]]
    dv: list[tuple[str, float]]
    dy: list[tuple[str, float]]
    mi: float
    curve: np.ndarray
    auc: float
    bank: Bank
    walks: Walks | None = None
    parameters: dict[str, str] = field(default_factory=dict)


async def _embed(peers: Peers, model: str, texts: Sequence[str],
                 timeout: float | None) -> np.ndarray:
    parts = []
    for start in range(0, len(texts), 256):
        _, emb = await peers.encode_texts(model, texts[start:start + 256], timeout=timeout)
        parts.append(emb)
    return np.concatenate(parts)


async def load_bank(peers: Peers, cache: EmbeddingCache, *, model: str, fingerprint: str,
                    bank: str, labels: Sequence[str], raw: bool = False,
                    timeout: float | None = None) -> Bank:
    """The named bank, or one generated from WordNet for synset labels, embedded (the raw
    texts too when `raw`)."""
    if not bank:
        if not all(is_synset_id(label) for label in labels):
            raise InvalidArgument(
                "bank: required when the labels are not all synset ids (a WordNet bank is "
                "generated only for synset labels)")
        digest = hashlib.sha256("\n".join(labels).encode()).hexdigest()[:12]
        bank = f"wordnet-{digest}"
        await peers.generate_bank(bank, list(labels), timeout=timeout)
    reply = await peers.bank(bank, timeout=timeout)
    texts = sorted({d for c in reply.classes for d in c.descriptors})
    if not texts:
        raise InvalidArgument(f"bank: {bank!r} has no descriptors")
    content = reply.info.content_hash
    templated = [DESCRIPTOR_TEMPLATE.format(t) for t in texts]
    emb = await cache.get("bank", fingerprint, content,
                          lambda: _embed(peers, model, templated, timeout))
    raw_emb = (await cache.get("bank-raw", fingerprint, content,
                               lambda: _embed(peers, model, texts, timeout)) if raw else None)
    return Bank(reply.info.id, content, texts, emb, raw_emb)


async def _walks(peers: Peers, model: str, image: np.ndarray, masks: np.ndarray,
                 order_ours: np.ndarray, classes: np.ndarray, label_index: int,
                 true_index: int | None, seed: int, timeout: float | None) -> Walks:
    """Deletion and insertion walks (ours and random order), scored with one encode call."""
    ours = evaluation.perturbation_walks(image, masks[order_ours])
    rnd = evaluation.perturbation_walks(image, masks[evaluation.random_order(len(masks), seed)])
    images = [*ours[0], *ours[1], *rnd[0], *rnd[1]]
    _, emb = await peers.encode_images(model, [encode_png(x) for x in images], timeout=timeout)
    sims = emb @ classes.T  # (steps, K)
    scores = SCORE_SCALE * sims[:, label_index]
    n = len(masks) + 1
    correct = sims.argmax(axis=1) == true_index if true_index is not None else None
    return Walks(scores[:n], scores[n:2 * n], scores[2 * n:3 * n], scores[3 * n:],
                 None if correct is None else correct[:n],
                 None if correct is None else correct[n:2 * n])


@dataclass(frozen=True)
class MutualContext:
    """What every image of a call shares, resolved once: the model, the classes and the
    descriptor bank."""

    model: str
    info: embedding_pb2.ModelInfo
    options: Options
    bank: Bank
    timeout: float | None


async def prepare(peers: Peers, cache: EmbeddingCache, *, model: str, labels: Sequence[str],
                  bank: str, options: Options, timeout: float | None = None) -> MutualContext:
    """The model and the embedded bank, once per call."""
    info = await peers.model_info(model, timeout=timeout)
    table = await load_bank(peers, cache, model=model, fingerprint=info.ref.fingerprint,
                            bank=bank, labels=labels, raw=options.relevance_text == "raw",
                            timeout=timeout)
    return MutualContext(model, info, options, table, timeout)


async def _concept_masks(peers: Peers, ctx: MutualContext,
                         image: InputImage) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The foreground and the visual concepts' masks of one image."""
    o = ctx.options
    size = dense_input_size(ctx.info, image.size)
    keys = o.features == "keys"
    dense = await peers.dense(ctx.model, [image.data], surgery=False, keys=keys, size=size,
                              residual=not keys and o.token_stage == "residual",
                              keys_without_bias=keys and o.key_bias == "without",
                              timeout=ctx.timeout)
    feats = dense.tokens[0, 1:]
    if keys:
        assert dense.keys is not None  # asked for
        feats = dense.keys[0, 1:]
    fg = mutual.gdc_foreground(feats, dense.grid, connectivity=o.connectivity)
    if not fg.any():
        # GDC found no split (the second component has one sign, which happens with the keys
        # and the residual tokens): the concepts are looked for over the whole image.
        fg = np.ones_like(fg)
    if o.method == "kmeans":
        grid_labels = mutual.concepts_kmeans(feats, fg, dense.grid, o.num_concepts,
                                             seed=o.seed)[0]
    else:
        grid_labels = mutual.concepts_pca(feats, fg, dense.grid, o.num_concepts)[0]
    present = [c for c in range(o.num_concepts) if (grid_labels == c).any()]
    if not present:
        raise InvalidArgument("image: no foreground concept was found (uniform image?)")
    masks = mutual.labels_to_masks(grid_labels, o.num_concepts, image.size)[present]
    return fg[0], grid_labels, masks


async def analyse_image(peers: Peers, ctx: MutualContext, image: InputImage, zs: ZeroShot,
                        row: int, *, true_label: str | None = None,
                        started: float | None = None) -> AsyncIterator[Progress | Analysis]:
    """The analysis of image `row` of the zero-shot result `zs`: Progress, then the Analysis."""
    o, table = ctx.options, ctx.bank
    t0 = time.perf_counter() if started is None else started

    def progress(stage: str, done: int) -> Progress:
        return Progress(stage, done, 5, time.perf_counter() - t0)

    k = int(zs.probabilities[row].argmax())
    image_emb = zs.image_embeddings[row]
    yield progress("concepts", 2)
    fg, grid_labels, masks = await _concept_masks(peers, ctx, image)
    prompts = [mutual.concept_prompt_images(image.pixels, mask, connectivity=o.connectivity)
               for mask in masks]
    _, prompt_emb = await peers.encode_images(
        ctx.model, [encode_png(x) for p in prompts for x in p.images()], timeout=ctx.timeout)
    concepts = mutual.concept_embeddings(prompt_emb.reshape(len(masks), 3, -1))
    yield progress("transport", 3)
    dv = mutual.retrieve_visual_descriptors(
        concepts, image_emb, table.embeddings, table.texts, top=o.top_descriptors,
        margin=o.relevance_margin, sinkhorn_iterations=o.sinkhorn_iterations,
        per_concept=o.descriptors_per_concept, relevance_embeddings=table.raw_embeddings)
    dy = mutual.textual_descriptors(zs.class_embeddings[k], table.embeddings, table.texts,
                                    u=o.textual_top_u)
    importance = mutual.concept_importance(concepts, image_emb, table.embeddings,
                                           dv.per_concept)
    curve = mutual.mi_dynamics(dv.texts, dy.texts, o.estimator)
    per_concept = [[(table.texts[i], float(SCORE_SCALE * image_emb @ table.embeddings[i]))
                    for i in idx] for idx in dv.per_concept]
    analysis = Analysis(
        model=zs.model, label=zs.labels[k], label_index=k,
        probability=float(zs.probabilities[row, k]), masks=masks, grid_labels=grid_labels,
        foreground=fg, importance=importance, concept_descriptors=per_concept,
        dv=list(zip(dv.texts, dv.relevance.tolist(), strict=True)),
        dy=list(zip(dy.texts, dy.scores.tolist(), strict=True)),
        mi=float(mutual.mutual_information(dv.texts, dy.texts, o.estimator)),
        curve=np.asarray(curve, np.float64), auc=float(mutual.auc(curve)), bank=table,
        parameters=o.parameters() | {"bank": table.id, "fallback": str(dv.fallback)})
    if o.evaluate:
        yield progress("evaluation", 4)
        true_index = zs.labels.index(true_label) if true_label in zs.labels else None
        analysis.walks = await _walks(peers, ctx.model, image.pixels, masks,
                                      np.argsort(-importance), zs.class_embeddings, k,
                                      true_index, o.seed, ctx.timeout)
    yield analysis


async def analyse(peers: Peers, cache: EmbeddingCache, *, model: str, image: InputImage,
                  labels: Sequence[str], bank: str, options: Options, max_labels: int = 1000,
                  timeout: float | None = None) -> AsyncIterator[Progress | Analysis]:
    """The analysis of one image; yields Progress, then the Analysis."""
    started = time.perf_counter()
    yield Progress("prediction", 0, 5, 0.0)
    zs = await zero_shot(peers, cache, model=model, images=[image], labels=labels,
                         templates=options.templates, max_labels=max_labels, timeout=timeout)
    yield Progress("descriptors", 1, 5, time.perf_counter() - started)
    ctx = await prepare(peers, cache, model=model, labels=labels, bank=bank, options=options,
                        timeout=timeout)
    async for event in analyse_image(peers, ctx, image, zs, 0, started=started):
        yield event


async def analyse_dataset(peers: Peers, cache: EmbeddingCache, *, model: str,
                          images: Sequence[InputImage], labels: Sequence[str], bank: str,
                          options: Options, true_labels: Sequence[str] = (),
                          max_labels: int = 1000, timeout: float | None = None
                          ) -> AsyncIterator[Progress | DatasetSummary]:
    """The analysis of many images: the model, the labels, the classes and the bank are
    resolved once for the call; yields Progress per image, then the DatasetSummary."""
    started = time.perf_counter()
    if true_labels and len(true_labels) != len(images):
        raise InvalidArgument(f"true_labels: expected one per image ({len(images)}), got "
                              f"{len(true_labels)}")
    truths = (await resolve_labels(peers, true_labels, max_labels=len(images), timeout=timeout)
              if true_labels else [])
    zs = await zero_shot(peers, cache, model=model, images=images, labels=labels,
                         templates=options.templates, max_labels=max_labels, timeout=timeout)
    ctx = await prepare(peers, cache, model=model, labels=labels, bank=bank, options=options,
                        timeout=timeout)
    analyses = []
    for i, image in enumerate(images):
        yield Progress("images", i, len(images), time.perf_counter() - started)
        async for event in analyse_image(peers, ctx, image, zs, i,
                                         true_label=truths[i] if truths else None):
            if isinstance(event, Analysis):
                analyses.append(event)
    yield summarise(analyses, truths)


@dataclass
class DatasetSummary:
    """Aggregates over images: MI, the zero-padded mean MI curve and its AUC, accuracy,
    deletion/insertion areas and AccDrop/AccInc."""

    model: common_pb2.ModelRef
    analyses: list[Analysis]
    mean_mi: float
    mean_curve: np.ndarray
    auc: float
    accuracy: float
    deletion: float
    insertion: float
    deletion_random: float
    insertion_random: float
    acc_drop: float
    acc_inc: float


def summarise(analyses: list[Analysis], true_labels: Sequence[str]) -> DatasetSummary:
    """Dataset-level aggregation (specs/mutual_knowledge.md sections 4-5)."""
    mean_curve, auc = mutual.aggregate_curves([a.curve for a in analyses])
    nan = float("nan")
    accuracy = (float(np.mean([a.label == t for a, t in zip(analyses, true_labels,
                                                               strict=True)]))
                if true_labels else nan)
    walks = [a.walks for a in analyses if a.walks is not None]

    def mean_auc(curves: list[np.ndarray]) -> float:
        return float(np.mean([evaluation.curve_auc(c) for c in curves])) if curves else nan

    drops = [w.deletion_correct for w in walks if w.deletion_correct is not None]
    incs = [w.insertion_correct for w in walks if w.insertion_correct is not None]
    return DatasetSummary(
        model=analyses[0].model, analyses=analyses,
        mean_mi=float(np.mean([a.mi for a in analyses])), mean_curve=mean_curve, auc=auc,
        accuracy=accuracy, deletion=mean_auc([w.deletion for w in walks]),
        insertion=mean_auc([w.insertion for w in walks]),
        deletion_random=mean_auc([w.deletion_random for w in walks]),
        insertion_random=mean_auc([w.insertion_random for w in walks]),
        acc_drop=evaluation.accuracy_curve(drops).auc if drops else nan,
        acc_inc=evaluation.accuracy_curve(incs).auc if incs else nan)
