"""The EmbeddingService servicer (thin: proto -> arrays -> engine -> proto) and `start`."""

from __future__ import annotations

import asyncio
import logging

import grpc
import numpy as np

from cliplens.core.errors import InvalidArgument, Unimplemented
from cliplens.core.server import RunningServer, start_server
from cliplens.core.tensors import from_proto, to_proto
from cliplens.embedding import regions
from cliplens.embedding.config import EmbeddingConfig
from cliplens.embedding.engine import Engine, LoadedModel
from cliplens.v1 import common_pb2 as cpb
from cliplens.v1 import embedding_pb2 as pb
from cliplens.v1 import embedding_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EmbeddingService"].full_name
_KINDS = {"vit": pb.VISION_KIND_VIT, "resnet": pb.VISION_KIND_RESNET,
          "other": pb.VISION_KIND_OTHER}
_PADDING = {pb.PADDING_UNSPECIFIED: regions.NOISE, pb.PADDING_NOISE: regions.NOISE,
            pb.PADDING_BLACK: regions.BLACK}
_FLOAT32 = [cpb.DATA_TYPE_FLOAT32]


def model_ref(model: LoadedModel) -> cpb.ModelRef:
    """The ModelRef every response carries."""
    b = model.backend
    return cpb.ModelRef(name=model.name, fingerprint=model.fingerprint,
                        random_weights=model.random_weights, backend=b.name, device=b.device,
                        precision=b.precision)


def model_info(model: LoadedModel) -> pb.ModelInfo:
    """What ListModels and GetModel say about a loaded model."""
    s = model.spec
    h, w = model.input_size
    return pb.ModelInfo(
        ref=model_ref(model), architecture=model.architecture, embed_dim=model.embed_dim,
        image_height=h, image_width=w, context_length=model.context_length,
        vision_kind=_KINDS[s.kind], vision_layers=s.layers, grid_height=s.grid[0],
        grid_width=s.grid[1], surgery_depth=model.surgery_depth,
        surgery_unsupported_reason=s.unsupported, load_seconds=model.load_seconds,
        source=model.source)


def _padding(value: int) -> str:
    if value not in _PADDING:
        raise InvalidArgument(f"padding: expected one of {sorted(_PADDING)}, got {value}")
    return _PADDING[value]


def _pixels(request) -> np.ndarray | None:
    if not request.HasField("pixels"):
        return None
    return from_proto(request.pixels, name="pixels", dtypes=_FLOAT32, ndim=4)


class EmbeddingServicer(pb_grpc.EmbeddingServiceServicer):
    """Every RPC of cliplens.v1.EmbeddingService over one Engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    async def ListModels(self, request, context):
        self.engine.get("")  # UNAVAILABLE while loading
        return pb.ListModelsResponse(
            models=[model_info(m) for m in self.engine.models.values()],
            default_model=self.engine.default_model)

    async def GetModel(self, request, context):
        return pb.GetModelResponse(model=model_info(self.engine.get(request.model)))

    async def EncodeImages(self, request, context):
        model, out = await self.engine.encode_images(
            request.model, images=[i.data for i in request.images], pixels=_pixels(request),
            normalize=request.normalize, timeout=context.time_remaining())
        return pb.EncodeImagesResponse(model=model_ref(model), embeddings=to_proto(out))

    async def EncodeTexts(self, request, context):
        model, out, tokens = await self.engine.encode_texts(
            request.model, list(request.texts), normalize=request.normalize,
            timeout=context.time_remaining())
        return pb.EncodeTextsResponse(
            model=model_ref(model), embeddings=to_proto(out), truncated=tokens.truncated,
            token_counts=tokens.counts, context_length=model.context_length)

    async def EncodeDense(self, request, context):
        surgery = request.mode == pb.DENSE_MODE_SURGERY
        if surgery and request.residual:
            raise InvalidArgument("residual: tokens before the projection are RAW mode's only")
        model, out = await self.engine.encode_dense(
            request.model, images=[i.data for i in request.images], pixels=_pixels(request),
            surgery_mode=surgery, size=(request.input_height, request.input_width),
            normalize=request.normalize, timeout=context.time_remaining())
        tokens = out.surgery if surgery else out.residual if request.residual else out.raw
        keys = out.keys
        if request.keys_without_bias and request.include_keys:
            keys = out.keys - out.key_bias if out.key_bias is not None else None
        if tokens is None or keys is None:
            raise Unimplemented(f"residual/keys_without_bias: the {model.backend.name} backend "
                                f"of {model.name} gives neither")
        reply = pb.EncodeDenseResponse(
            model=model_ref(model), tokens=to_proto(tokens),
            grid_height=out.grid[0], grid_width=out.grid[1],
            mode=pb.DENSE_MODE_SURGERY if surgery else pb.DENSE_MODE_RAW,
            surgery_depth=model.surgery_depth if surgery else 0)
        if request.include_keys:
            reply.keys.CopyFrom(to_proto(keys))
        return reply

    async def EncodeRegions(self, request, context):
        boxes = np.array([(b.x0, b.y0, b.x1, b.y1) for b in request.windows],
                         dtype=np.float64).reshape(-1, 4)
        model, total, chunks = await self.engine.encode_regions(
            request.model, image=request.image.data, boxes=boxes,
            padding=_padding(request.padding), seed=request.noise_seed,
            chunk=request.chunk_size, normalize=request.normalize,
            timeout=context.time_remaining())
        ref = model_ref(model)
        async for offset, out in chunks:
            yield pb.EncodeRegionsResponse(model=ref, offset=offset, embeddings=to_proto(out),
                                           total=total)


async def start(config: EmbeddingConfig, *, engine: Engine | None = None) -> RunningServer:
    """Serve the embedding service; health turns SERVING once every model is loaded.

    Pass `engine` to keep a handle on it (tests and benchmarks read its batchers).
    """
    engine = engine or Engine(config)
    servicer = EmbeddingServicer(engine)

    def register(server: grpc.aio.Server) -> list[str]:
        pb_grpc.add_EmbeddingServiceServicer_to_server(servicer, server)
        return [SERVICE_NAME]

    async def warmup() -> None:
        await asyncio.to_thread(engine.load)

    return await start_server(config, name="embedding", register=register, warmup=warmup)
