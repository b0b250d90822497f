"""The explanation service: thin servicers over the pipelines."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import grpc
import numpy as np

from cliplens.core.server import RunningServer, start_server
from cliplens.core.tensors import from_proto, to_proto
from cliplens.explanation import metrics
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.config import ExplanationConfig
from cliplens.explanation.evaluation import curve_auc
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.classify import rank, zero_shot
from cliplens.explanation.pipelines.common import InputImage, check_maps_size, decode_inputs
from cliplens.explanation.pipelines.convis import (
    ConvisOptions,
    ConvisOutcome,
    ConvisSettings,
    Progress,
    convis_maps,
    ood,
)
from cliplens.explanation.pipelines.localization import (
    EvaluationSettings,
    LocalizationOutcome,
    Sample,
    evaluate_localization,
)
from cliplens.explanation.pipelines.mutual import (
    Analysis,
    DatasetSummary,
    Options,
    analyse,
    analyse_dataset,
)
from cliplens.explanation.pipelines.surgery import SurgeryMaps, SurgeryOptions, surgery_maps
from cliplens.explanation.render import overlay_png
from cliplens.v1 import common_pb2, explanation_pb2_grpc
from cliplens.v1 import explanation_pb2 as pb

log = logging.getLogger(__name__)


def map_proto(label: str, grid: np.ndarray, full: np.ndarray, pixels: np.ndarray | None = None,
              overlay: bool = False) -> common_pb2.Map:
    """A Map message (with a PNG overlay on `pixels` when asked)."""
    return common_pb2.Map(label=label, grid=to_proto(grid.astype(np.float32)),
                          full=to_proto(full.astype(np.float32)),
                          overlay_png=overlay_png(pixels, full)
                          if overlay and pixels is not None else b"")


class ExplanationServicer(explanation_pb2_grpc.ExplanationServiceServicer):
    """ExplanationService: proto in, pipeline, proto out."""

    def __init__(self, config: ExplanationConfig, peers: Peers, cache: EmbeddingCache):
        self.config = config
        self.peers = peers
        self.cache = cache
        self.convis_settings = ConvisSettings(
            toyworld_dictionary=config.toyworld_dictionary,
            default_dictionary=config.default_dictionary, region_chunk=config.region_chunk,
            max_concepts=config.max_concepts)

    def _images(self, images: Sequence[common_pb2.Image], *,
                dataset: bool = False) -> list[InputImage]:
        limit = self.config.max_dataset_images if dataset else self.config.max_images
        return decode_inputs(images, max_images=limit, max_pixels=self.config.max_request_pixels)

    async def Classify(self, request: pb.ClassifyRequest,
                       context: grpc.aio.ServicerContext) -> pb.ClassifyResponse:
        zs = await zero_shot(self.peers, self.cache, model=request.model,
                             images=self._images(request.images), labels=request.labels,
                             templates=request.templates, max_labels=self.config.max_labels,
                             timeout=context.time_remaining())
        best = zs.probabilities.argmax(axis=1)
        return pb.ClassifyResponse(
            model=zs.model, labels=zs.labels, probabilities=to_proto(zs.probabilities),
            predictions=[pb.Prediction(label=zs.labels[k], index=int(k),
                                       probability=float(zs.probabilities[i, k]))
                         for i, k in enumerate(best)])

    async def Rank(self, request: pb.RankRequest,
                   context: grpc.aio.ServicerContext) -> pb.RankResponse:
        images = self._images(request.images)
        ref, sims = await rank(self.peers, model=request.model, images=images,
                               texts=request.texts, timeout=context.time_remaining())
        k = request.top_k or len(request.texts)
        rankings = [pb.RankedTexts(texts=[common_pb2.ScoredText(text=request.texts[j],
                                                                score=float(row[j]))
                                          for j in np.argsort(-row)[:k]]) for row in sims]
        return pb.RankResponse(model=ref, similarities=to_proto(sims), rankings=rankings)

    async def Surgery(self, request: pb.SurgeryRequest,
                      context: grpc.aio.ServicerContext) -> pb.SurgeryResponse:
        images = self._images(request.images)
        options = SurgeryOptions.from_proto(request)
        check_maps_size(images, len(request.labels), self.config.max_message_bytes,
                        field="labels", overlay=request.overlay)
        with metrics.METHOD_SECONDS.labels("surgery").time():
            out = await surgery_maps(self.peers, self.cache, model=request.model, images=images,
                                     labels=request.labels, options=options,
                                     max_labels=self.config.max_labels,
                                     timeout=context.time_remaining())
        return surgery_proto(out, images, request.overlay)

    async def Convis(self, request: pb.ConvisRequest,
                     context: grpc.aio.ServicerContext) -> AsyncIterator[pb.ConvisResponse]:
        (image,) = self._images([request.image])
        options = ConvisOptions.from_proto(request)
        check_maps_size([image], len(request.concepts), self.config.max_message_bytes,
                        field="concepts", overlay=request.overlay)
        async for event in convis_maps(self.peers, self.cache, model=request.model, image=image,
                                       options=options, settings=self.convis_settings,
                                       timeout=context.time_remaining()):
            if isinstance(event, Progress):
                yield pb.ConvisResponse(progress=progress_proto(event))
                continue
            metrics.METHOD_SECONDS.labels(f"convis_{event.parameters['mode']}").observe(
                event.seconds)
            yield pb.ConvisResponse(result=convis_proto(event, image, request.overlay))

    async def ScoreOod(self, request: pb.ScoreOodRequest,
                       context: grpc.aio.ServicerContext) -> pb.ScoreOodResponse:
        ref, scores, size = await ood(
            self.peers, self.cache, model=request.model, images=self._images(request.images),
            concept=request.concept, dictionary=request.dictionary, method=request.method,
            text_mode=request.concept_text, settings=self.convis_settings,
            timeout=context.time_remaining())
        return pb.ScoreOodResponse(model=ref, scores=scores.tolist(), subtree_size=size,
                                   method=request.method or pb.OOD_METHOD_HIERARCHY)

    async def EvaluateLocalization(self, request: pb.EvaluateLocalizationRequest,
                                   context: grpc.aio.ServicerContext
                                   ) -> AsyncIterator[pb.EvaluateLocalizationResponse]:
        images = self._images([s.image for s in request.samples], dataset=True)
        settings = EvaluationSettings(
            labels=tuple(request.labels),
            surgery_mode=request.surgery_mode or pb.SURGERY_MODE_LABEL_SET,
            template_set=request.template_set, dictionary=request.dictionary,
            seed=request.seed, convis=self.convis_settings)
        async for event in evaluate_localization(
                self.peers, self.cache, model=request.model,
                samples=samples_from_proto(request.samples, images),
                methods=list(request.methods), settings=settings,
                timeout=context.time_remaining()):
            if isinstance(event, Progress):
                yield pb.EvaluateLocalizationResponse(progress=progress_proto(event))
            else:
                yield pb.EvaluateLocalizationResponse(report=report_proto(event, len(images)))

    async def MutualKnowledge(self, request: pb.MutualKnowledgeRequest,
                              context: grpc.aio.ServicerContext
                              ) -> AsyncIterator[pb.MutualKnowledgeResponse]:
        (image,) = self._images([request.image])
        options = Options.from_proto(request.options)
        # One mask per concept and the foreground, all at image resolution.
        check_maps_size([image], options.num_concepts + 1, self.config.max_message_bytes,
                        field="options.num_concepts", overlay=request.options.overlay)
        async for event in analyse(self.peers, self.cache, model=request.model, image=image,
                                   labels=request.labels, bank=request.bank, options=options,
                                   max_labels=self.config.max_labels,
                                   timeout=context.time_remaining()):
            if isinstance(event, Progress):
                yield pb.MutualKnowledgeResponse(progress=progress_proto(event))
            else:
                yield pb.MutualKnowledgeResponse(
                    result=analysis_proto(event, image, request.options.overlay))

    async def MutualKnowledgeDataset(self, request: pb.MutualKnowledgeDatasetRequest,
                                     context: grpc.aio.ServicerContext
                                     ) -> AsyncIterator[pb.MutualKnowledgeDatasetResponse]:
        options = Options.from_proto(request.options)
        async for event in analyse_dataset(
                self.peers, self.cache, model=request.model,
                images=self._images(request.images, dataset=True), labels=request.labels,
                bank=request.bank, options=options, true_labels=request.true_labels,
                max_labels=self.config.max_labels, timeout=context.time_remaining()):
            if isinstance(event, Progress):
                yield pb.MutualKnowledgeDatasetResponse(progress=progress_proto(event))
            else:
                yield pb.MutualKnowledgeDatasetResponse(
                    analysis=dataset_proto(event, options))


def surgery_proto(out: SurgeryMaps, images: list[InputImage],
                  overlay: bool) -> pb.SurgeryResponse:
    """A SurgeryResponse from the pipeline's maps."""
    results = []
    for i, image in enumerate(images):
        maps = [map_proto(label, out.grids[i][k], out.fulls[i][k], image.pixels, overlay)
                for k, label in enumerate(out.labels)]
        points = [pb.PointPrompts(query=q, positive=[common_pb2.Point(x=x, y=y) for x, y in p],
                                  negative=[common_pb2.Point(x=x, y=y) for x, y in n])
                  for q, p, n in out.points[i]]
        results.append(pb.SurgeryImageResult(maps=maps, points=points))
    return pb.SurgeryResponse(model=out.model, labels=out.labels, results=results,
                              mode=pb.SurgeryMode.ValueType(out.mode), parameters=out.parameters)


def convis_proto(event: ConvisOutcome, image: InputImage, overlay: bool) -> pb.ConvisResult:
    """A ConvisResult from the pipeline's outcome."""
    maps = [pb.ConceptMap(concept=c, map=map_proto(c, g, f, image.pixels, overlay),
                          subtree_size=len(tree), subtree=tree[:100])
            for c, g, f, tree in zip(event.concepts, event.grid, event.full, event.subtrees,
                                     strict=True)]
    return pb.ConvisResult(
        model=event.model, maps=maps, dictionary_id=event.dictionary.id,
        dictionary_content_hash=event.dictionary.content_hash,
        dictionary_size=event.dictionary.size, windows=event.windows,
        parameters=event.parameters, seconds=event.seconds)


def samples_from_proto(samples: Sequence[pb.LocalizationSample],
                       images: list[InputImage]) -> list[Sample]:
    """Localization samples with their decoded images, masks and boxes."""
    return [Sample(image, s.concept,
                   from_proto(s.mask, name=f"samples[{i}].mask", ndim=2).astype(bool)
                   if s.mask.shape else None,
                   np.array([[b.x0, b.y0, b.x1, b.y1] for b in s.boxes],
                            np.float32).reshape(-1, 4))
            for i, (image, s) in enumerate(zip(images, samples, strict=True))]


def report_proto(event: LocalizationOutcome, samples: int) -> pb.LocalizationReport:
    """A LocalizationReport from the pipeline's outcome."""
    return pb.LocalizationReport(
        model=event.model, parameters=event.parameters,
        scores=[pb.MethodScores(method=pb.MapMethod.ValueType(r.method), pointing=r.pointing,
                                maxboxacc=r.maxboxacc, samples=samples, seconds=r.seconds,
                                hits=r.hits)
                for r in event.results])


def dataset_proto(s: DatasetSummary, options: Options) -> pb.DatasetAnalysis:
    """A DatasetAnalysis from the pipeline's summary."""
    return pb.DatasetAnalysis(
        model=s.model, images=len(s.analyses), mean_mutual_information=s.mean_mi,
        mean_mi_curve=s.mean_curve.tolist(), auc=s.auc, accuracy=s.accuracy,
        deletion=s.deletion, insertion=s.insertion, acc_drop=s.acc_drop, acc_inc=s.acc_inc,
        deletion_random=s.deletion_random, insertion_random=s.insertion_random,
        parameters=options.parameters(),
        per_image=[pb.ImageSummary(
            index=i, prediction=pb.Prediction(label=a.label, index=a.label_index,
                                              probability=a.probability),
            mutual_information=a.mi, auc=a.auc, mi_curve=a.curve.tolist(),
            visual_descriptors=len(a.dv)) for i, a in enumerate(s.analyses)])


def analysis_proto(a: Analysis, image: InputImage, overlay: bool) -> pb.MutualKnowledgeResult:
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
