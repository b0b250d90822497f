"""The explanation service: thin servicers over the pipelines."""

from __future__ import annotations

import dataclasses
import logging

import grpc
import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.core.server import RunningServer, start_server
from cliplens.core.tensors import from_proto, to_proto
from cliplens.explanation import metrics
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.config import ExplanationConfig
from cliplens.explanation.evaluation import curve_auc
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.classify import rank, zero_shot
from cliplens.explanation.pipelines.common import check_maps_size, decode_inputs
from cliplens.explanation.pipelines.convis import Progress, convis_maps, ood
from cliplens.explanation.pipelines.localization import Sample, evaluate_localization
from cliplens.explanation.pipelines.mutual import Analysis, Options, analyse, summarise
from cliplens.explanation.pipelines.surgery import surgery_maps
from cliplens.explanation.render import overlay_png
from cliplens.explanation.texts import resolve_labels
from cliplens.v1 import common_pb2, explanation_pb2_grpc
from cliplens.v1 import explanation_pb2 as pb

log = logging.getLogger(__name__)


def map_proto(label: str, grid: np.ndarray, full: np.ndarray, pixels: np.ndarray | None = None,
              overlay: bool = False) -> common_pb2.Map:
    """A Map message (with a PNG overlay on `pixels` when asked)."""
    return common_pb2.Map(label=label, grid=to_proto(grid.astype(np.float32)),
                          full=to_proto(full.astype(np.float32)),
                          overlay_png=overlay_png(pixels, full) if overlay else b"")


class ExplanationServicer(explanation_pb2_grpc.ExplanationServiceServicer):
    """ExplanationService: proto in, pipeline, proto out."""

    def __init__(self, config: ExplanationConfig, peers: Peers, cache: EmbeddingCache):
        self.config = config
        self.peers = peers
        self.cache = cache

    def _images(self, images, *, dataset: bool = False):
        limit = self.config.max_dataset_images if dataset else self.config.max_images
        return decode_inputs(images, max_images=limit, max_pixels=self.config.max_request_pixels)

    async def Classify(self, request, context):
        images = self._images(request.images)
        zs = await zero_shot(self.peers, self.cache, model=request.model, images=images,
                             labels=request.labels, templates=request.templates,
                             max_labels=self.config.max_labels,
                             timeout=context.time_remaining())
        best = zs.probabilities.argmax(axis=1)
        return pb.ClassifyResponse(
            model=zs.model, labels=zs.labels, probabilities=to_proto(zs.probabilities),
            predictions=[pb.Prediction(label=zs.labels[k], index=int(k),
                                       probability=float(zs.probabilities[i, k]))
                         for i, k in enumerate(best)])

    async def Rank(self, request, context):
        images = self._images(request.images)
        ref, sims = await rank(self.peers, model=request.model, images=images,
                               texts=request.texts, timeout=context.time_remaining())
        k = request.top_k or len(request.texts)
        rankings = [pb.RankedTexts(texts=[common_pb2.ScoredText(text=request.texts[j],
                                                        score=float(row[j]))
                                          for j in np.argsort(-row)[:k]]) for row in sims]
        return pb.RankResponse(model=ref, similarities=to_proto(sims), rankings=rankings)

    async def Surgery(self, request, context):
        images = self._images(request.images)
        check_maps_size(images, len(request.labels), self.config.max_message_bytes,
                        field="labels", overlay=request.overlay)
        with metrics.METHOD_SECONDS.labels("surgery").time():
            out = await surgery_maps(
                self.peers, self.cache, model=request.model, images=images,
                labels=request.labels, mode=request.mode, templates=request.templates,
                point_threshold=request.point_threshold, point_queries=request.point_queries,
                want_points=request.point_prompts, max_labels=self.config.max_labels,
                timeout=context.time_remaining())
        results = []
        for i, image in enumerate(images):
            maps = [map_proto(label, out.grids[i][k], out.fulls[i][k], image.pixels,
                              request.overlay) for k, label in enumerate(out.labels)]
            points = [pb.PointPrompts(query=q, positive=[common_pb2.Point(x=x, y=y) for x, y in p],
                                      negative=[common_pb2.Point(x=x, y=y) for x, y in n])
                      for q, p, n in out.points[i]]
            results.append(pb.SurgeryImageResult(maps=maps, points=points))
        return pb.SurgeryResponse(model=out.model, labels=out.labels, results=results,
                                  mode=out.mode, parameters=out.parameters)


    def _convis_options(self) -> dict:
        return {"toyworld_dictionary": self.config.toyworld_dictionary,
                "default_dict": self.config.default_dictionary,
                "region_chunk": self.config.region_chunk,
                "max_concepts": self.config.max_concepts}

    async def Convis(self, request, context):
        (image,) = self._images([request.image])
        check_maps_size([image], len(request.concepts), self.config.max_message_bytes,
                        field="concepts", overlay=request.overlay)
        events = convis_maps(self.peers, self.cache, model=request.model, image=image,
                             concepts=request.concepts, dictionary=request.dictionary,
                             mode=request.mode, seed=request.seed, iterations=request.iterations,
                             text_mode=request.concept_text, padding=request.padding,
                             timeout=context.time_remaining(), **self._convis_options())
        async for event in events:
            if isinstance(event, Progress):
                yield pb.ConvisResponse(progress=progress_proto(event))
                continue
            metrics.METHOD_SECONDS.labels(f"convis_{event.parameters['mode']}").observe(
                event.seconds)
            maps = [pb.ConceptMap(concept=c, map=map_proto(c, g, f, image.pixels,
                                                           request.overlay),
                                  subtree_size=len(tree), subtree=tree[:100])
                    for c, g, f, tree in zip(event.concepts, event.grid, event.full,
                                             event.subtrees, strict=True)]
            yield pb.ConvisResponse(result=pb.ConvisResult(
                model=event.model, maps=maps, dictionary_id=event.dictionary.id,
                dictionary_content_hash=event.dictionary.content_hash,
                dictionary_size=event.dictionary.size, windows=event.windows,
                parameters=event.parameters, seconds=event.seconds))

    async def ScoreOod(self, request, context):
        images = self._images(request.images)
        ref, scores, size = await ood(
            self.peers, self.cache, model=request.model, images=images, concept=request.concept,
            dictionary=request.dictionary, method=request.method,
            text_mode=request.concept_text, toyworld_dictionary=self.config.toyworld_dictionary,
            default_dict=self.config.default_dictionary, timeout=context.time_remaining())
        return pb.ScoreOodResponse(model=ref, scores=scores.tolist(), subtree_size=size,
                                   method=request.method or pb.OOD_METHOD_HIERARCHY)

    async def EvaluateLocalization(self, request, context):
        images = self._images([s.image for s in request.samples], dataset=True)
        samples = [Sample(image, s.concept,
                          from_proto(s.mask, name=f"samples[{i}].mask", ndim=2).astype(bool)
                          if s.mask.shape else None,
                          np.array([[b.x0, b.y0, b.x1, b.y1] for b in s.boxes],
                                   np.float32).reshape(-1, 4))
                   for i, (image, s) in enumerate(zip(images, request.samples, strict=True))]
        events = evaluate_localization(
            self.peers, self.cache, model=request.model, samples=samples,
            methods=list(request.methods), labels=list(request.labels),
            surgery_mode=request.surgery_mode or pb.SURGERY_MODE_LABEL_SET,
            dictionary=request.dictionary, seed=request.seed,
            convis_options=self._convis_options(), timeout=context.time_remaining())
        async for event in events:
            if isinstance(event, Progress):
                yield pb.EvaluateLocalizationResponse(progress=progress_proto(event))
                continue
            yield pb.EvaluateLocalizationResponse(report=pb.LocalizationReport(
                model=event.model, parameters=event.parameters,
                scores=[pb.MethodScores(method=r.method, pointing=r.pointing,
                                        maxboxacc=r.maxboxacc, samples=len(samples),
                                        seconds=r.seconds, hits=r.hits)
                        for r in event.results]))


    async def MutualKnowledge(self, request, context):
        (image,) = self._images([request.image])
        options = Options.from_proto(request.options)
        # One mask per concept and the foreground, all at image resolution.
        check_maps_size([image], options.num_concepts + 1, self.config.max_message_bytes,
                        field="options.num_concepts", overlay=request.options.overlay)
        events = analyse(self.peers, self.cache, model=request.model, image=image,
                         labels=request.labels, bank=request.bank, options=options,
                         timeout=context.time_remaining())
        async for event in events:
            if isinstance(event, Progress):
                yield pb.MutualKnowledgeResponse(progress=progress_proto(event))
            else:
                yield pb.MutualKnowledgeResponse(
                    result=analysis_proto(event, image, request.options.overlay))

    async def MutualKnowledgeDataset(self, request, context):
        images = self._images(request.images, dataset=True)
        options = Options.from_proto(request.options)
        if request.true_labels and len(request.true_labels) != len(images):
            raise InvalidArgument(f"true_labels: expected one per image ({len(images)}), got "
                                  f"{len(request.true_labels)}")
        timeout = context.time_remaining()
        truths = (await resolve_labels(self.peers, request.true_labels,
                                       max_labels=len(images), timeout=timeout)
                  if request.true_labels else [])
        zs = await zero_shot(self.peers, self.cache, model=request.model, images=images,
                             labels=request.labels, templates=options.templates,
                             max_labels=self.config.max_labels, timeout=timeout)
        analyses = []
        for i, image in enumerate(images):
            yield pb.MutualKnowledgeDatasetResponse(progress=common_pb2.Progress(
                stage="images", done=i, total=len(images)))
            one = dataclasses.replace(zs, probabilities=zs.probabilities[i:i + 1],
                                      image_embeddings=zs.image_embeddings[i:i + 1])
            async for event in analyse(self.peers, self.cache, model=request.model,
                                       image=image, labels=request.labels, bank=request.bank,
                                       options=options, zs=one,
                                       true_label=truths[i] if truths else None,
                                       timeout=context.time_remaining()):
                if not isinstance(event, Progress):
                    analyses.append(event)
        s = summarise(analyses, truths)
        yield pb.MutualKnowledgeDatasetResponse(analysis=pb.DatasetAnalysis(
            model=s.model, images=len(analyses), mean_mutual_information=s.mean_mi,
            mean_mi_curve=s.mean_curve.tolist(), auc=s.auc, accuracy=s.accuracy,
            deletion=s.deletion, insertion=s.insertion, acc_drop=s.acc_drop, acc_inc=s.acc_inc,
            deletion_random=s.deletion_random, insertion_random=s.insertion_random,
            parameters=options.parameters(),
            per_image=[pb.ImageSummary(
                index=i, prediction=pb.Prediction(label=a.label, index=a.label_index,
                                                  probability=a.probability),
                mutual_information=a.mi, auc=a.auc, mi_curve=a.curve.tolist(),
                visual_descriptors=len(a.dv)) for i, a in enumerate(analyses)]))


def analysis_proto(a: Analysis, image, overlay: bool) -> pb.MutualKnowledgeResult:
    """A MutualKnowledgeResult message from an Analysis."""
    h, w = a.grid_labels.shape
    concepts = []
    for i, mask in enumerate(a.masks):
        grid = np.zeros((h, w), np.float32)
        cells = sorted({int(v) for v in np.unique(a.grid_labels) if v >= 0})
        grid[a.grid_labels == cells[i]] = 1.0
        concepts.append(pb.VisualConcept(
            index=i, importance=float(a.importance[i]),
            mask=map_proto(f"concept {i}", grid, mask.astype(np.float32), image.pixels, overlay),
            descriptors=[common_pb2.ScoredText(text=t, score=s)
                         for t, s in a.concept_descriptors[i]]))
    fg_full = np.asarray(a.masks.any(axis=0), np.float32)
    evaluation = None
    if a.walks is not None:
        w_ = a.walks
        evaluation = pb.QualityCurves(
            deletion=w_.deletion.tolist(), insertion=w_.insertion.tolist(),
            deletion_auc=curve_auc(w_.deletion), insertion_auc=curve_auc(w_.insertion),
            deletion_random=w_.deletion_random.tolist(),
            insertion_random=w_.insertion_random.tolist(),
            deletion_random_auc=curve_auc(w_.deletion_random),
            insertion_random_auc=curve_auc(w_.insertion_random))
    return pb.MutualKnowledgeResult(
        model=a.model, prediction=pb.Prediction(label=a.label, index=a.label_index,
                                                probability=a.probability),
        concepts=concepts,
        visual_descriptors=[common_pb2.ScoredText(text=t, score=s) for t, s in a.dv],
        textual_descriptors=[common_pb2.ScoredText(text=t, score=s) for t, s in a.dy],
        mutual_information=a.mi, mi_curve=a.curve.tolist(), auc=a.auc,
        foreground=map_proto("foreground", a.foreground.astype(np.float32), fg_full,
                             image.pixels, overlay),
        evaluation=evaluation, bank_id=a.bank.id, bank_content_hash=a.bank.content_hash,
        parameters=a.parameters)


def progress_proto(event: Progress) -> common_pb2.Progress:
    """A Progress message."""
    return common_pb2.Progress(stage=event.stage, done=event.done, total=event.total,
                               elapsed_seconds=event.elapsed)


async def start(config: ExplanationConfig) -> RunningServer:
    """Start the explanation service (SERVING once both peers answer)."""
    peers = Peers(config)
    cache = EmbeddingCache(config.cache_dir, config.cache_entries)
    servicer = ExplanationServicer(config, peers, cache)

    def register(server: grpc.aio.Server) -> list[str]:
        explanation_pb2_grpc.add_ExplanationServiceServicer_to_server(servicer, server)
        return ["cliplens.v1.ExplanationService"]

    async def warmup() -> None:
        # Ready means the peers are reachable: wait for both channels to connect.
        for channel in (peers.embedding_channel, peers.lexicon_channel):
            await channel.channel_ready()

    return await start_server(config, name="explanation", register=register, warmup=warmup)
