"""The explanation service: thin servicers over the pipelines."""

from __future__ import annotations

import logging

import grpc
import numpy as np

from cliplens.core.server import RunningServer, start_server
from cliplens.core.tensors import to_proto
from cliplens.explanation import metrics
from cliplens.explanation.cache import EmbeddingCache
from cliplens.explanation.config import ExplanationConfig
from cliplens.explanation.peers import Peers
from cliplens.explanation.pipelines.classify import rank, zero_shot
from cliplens.explanation.pipelines.common import decode_inputs
from cliplens.explanation.pipelines.surgery import surgery_maps
from cliplens.explanation.render import overlay_png
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

    def _images(self, images):
        return decode_inputs(images, max_images=self.config.max_images)

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
        rankings = [pb.RankedTexts(texts=[pb.ScoredText(text=request.texts[j],
                                                        score=float(row[j]))
                                          for j in np.argsort(-row)[:k]]) for row in sims]
        return pb.RankResponse(model=ref, similarities=to_proto(sims), rankings=rankings)

    async def Surgery(self, request, context):
        images = self._images(request.images)
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
