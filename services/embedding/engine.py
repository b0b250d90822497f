"""The embedding domain: loaded models, their batchers, and the operations the RPCs expose.

`Engine.load()` builds every configured model (blocking; the service runs it off the event
loop during warm-up) and runs one tiny forward of each path. The async operations validate
their inputs, preprocess off the event loop, queue the tensors on the model's batchers and
return float32 numpy arrays; no gRPC type crosses this module.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from cliplens.core.errors import InvalidArgument, NotFound, Unavailable, Unimplemented
from cliplens.embedding import metrics, regions, surgery, tokenization
from cliplens.embedding.backends import Backend, DenseArrays
from cliplens.embedding.batcher import Batcher
from cliplens.embedding.config import EmbeddingConfig
from cliplens.embedding.facts import ModelFacts, read_facts
from cliplens.embedding.loading import (
    ModelLoadError,
    build,
    file_fingerprint,
    register_architecture,
    resolve_device,
)
from cliplens.embedding.preprocess import Preprocessor, Tokens, check_pixels
from cliplens.embedding.registry import ModelEntry, Registry

log = logging.getLogger(__name__)
# Dense inputs may be this many times the model's native pixel count at most.
MAX_DENSE_SCALE = 16


@dataclasses.dataclass
class LoadedModel:
    """One model ready to serve."""

    name: str
    entry: ModelEntry
    architecture: str
    fingerprint: str
    random_weights: bool
    backend: Backend
    pre: Preprocessor
    spec: surgery.VisionSpec
    surgery_depth: int
    embed_dim: int
    context_length: int
    load_seconds: float = 0.0
    batchers: dict[tuple, Batcher] = dataclasses.field(default_factory=dict)
    # Head, temperature, bias, preprocessing and tokenizer read from the torch model (None for
    # ONNX exports, whose meta.json does not carry them yet).
    facts: ModelFacts | None = None

    @property
    def input_size(self) -> tuple[int, int]:
        return self.pre.size

    @property
    def source(self) -> str:
        return str(self.entry.weights) if self.entry.weights else self.entry.source


def _embed_dim(model: torch.nn.Module) -> int:
    # timm image towers (SigLIP, ConvNeXt) carry no `output_dim`; the text tower does.
    dim = getattr(model.visual, "output_dim", None) or getattr(model.text, "output_dim", None)
    return int(dim)


def _l2(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _left(deadline: float | None) -> float | None:
    """Seconds left before `deadline` (preprocessing has used some of the caller's time)."""
    return None if deadline is None else deadline - time.monotonic()


def _split(array: np.ndarray, rows: Sequence[int]) -> list[np.ndarray]:
    return np.split(array, np.cumsum(rows)[:-1]) if len(rows) > 1 else [array]


class Engine:
    """Every loaded model of one service, and the operations on them."""

    def __init__(self, config: EmbeddingConfig, *, registry: Registry | None = None):
        self.config = config
        self.registry = registry or Registry(config.registry_dirs, model_dir=config.model_dir)
        self.models: dict[str, LoadedModel] = {}
        self.default_model = config.default_model
        # Unknown names and missing weights fail here, before the server starts.
        self.entries = {name: self.registry.resolve(name) for name in config.models}
        for entry in self.entries.values():
            if not entry.random_weights and not Path(entry.weights).is_file():
                looked = ", ".join(str(p) for p in entry.weights_candidates)
                raise ModelLoadError(f"model {entry.name}: weights not found (looked for "
                                     f"{looked})")
        # One compute thread: forward passes share the device, and batching keeps it busy.
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="embedding-compute")
        self.ready = False

    # loading

    def load(self) -> None:
        """Build and warm up every configured model (blocking)."""
        if self.config.torch_threads:
            torch.set_num_threads(self.config.torch_threads)
        for name in self.config.models:
            started = time.perf_counter()
            model = self._load_one(self.entries[name])
            self._warm(model)
            model.load_seconds = time.perf_counter() - started
            metrics.MODEL_LOAD_SECONDS.labels(name, model.fingerprint).set(model.load_seconds)
            self.models[name] = model
            metrics.MODELS_LOADED.set(len(self.models))
            log.info("model %s loaded (%s, %s on %s, %s) in %.2f s", name, model.fingerprint,
                     model.backend.name, model.backend.device, model.backend.precision,
                     model.load_seconds)
        metrics.watch_gpus()
        self.ready = True

    def _load_one(self, entry: ModelEntry) -> LoadedModel:
        if self.config.backend == "onnx":
            return self._load_onnx(entry)
        from cliplens.embedding.backends.torch_backend import TorchBackend

        device = resolve_device(self.config.device)
        precision = entry.precision or self.config.precision
        # The tokenizer first: a missing file fails before any weight is read.
        tokenizer = tokenization.for_entry(entry, register_architecture(entry))
        built = build(entry, device=device, precision=precision)
        model = built.model
        spec = surgery.inspect_visual(model.visual)
        depth = self._depth(entry, spec)
        context = int(model.context_length)
        pre = Preprocessor(built.preprocess_cfg, tokenizer, context_length=context,
                           limits=self.config.image_limits)
        backend = TorchBackend(model, spec=spec, depth=max(depth, 1), device=device,
                               precision=precision)
        return LoadedModel(name=entry.name, entry=entry, architecture=built.architecture,
                           fingerprint=built.fingerprint, random_weights=built.random_weights,
                           backend=backend, pre=pre, spec=spec, surgery_depth=depth,
                           embed_dim=_embed_dim(model), context_length=context,
                           facts=read_facts(model, built.preprocess_cfg, tokenizer))

    @staticmethod
    def _depth(entry: ModelEntry, spec: surgery.VisionSpec) -> int:
        if spec.unsupported:
            return 0
        depth = entry.surgery_depth or surgery.default_depth(spec)
        limit = spec.layers if spec.kind == "vit" else 1
        if not 1 <= depth <= limit:
            raise ModelLoadError(f"model {entry.name}: surgery_depth: expected 1..{limit}, "
                                 f"got {depth}")
        return depth

    def _load_onnx(self, entry: ModelEntry) -> LoadedModel:
        from cliplens.embedding.backends.onnx_backend import OnnxBackend, OnnxBackendError

        if (entry.precision or self.config.precision) != "fp32":
            raise ModelLoadError(f"model {entry.name}: the onnx backend runs fp32 exports; "
                                 f"precision {entry.precision or self.config.precision} is "
                                 f"for the torch backend")
        backend = OnnxBackend(self.config.onnx_dir, entry.name,
                              provider=self.config.onnx_provider,
                              threads=self.config.torch_threads)
        meta = backend.meta
        if not entry.random_weights:
            now = file_fingerprint(Path(entry.weights))
            if now != meta["fingerprint"]:
                raise OnnxBackendError(
                    f"onnx: export in {backend.folder} was made from {meta['fingerprint']} "
                    f"but the weights {entry.weights} are now {now}; re-run "
                    f"`cliplens export-onnx {entry.name}`")
        arch = register_architecture(entry)
        vision = meta["vision"]
        spec = surgery.VisionSpec(vision["kind"], vision["layers"],
                                  tuple(vision["image_size"]), tuple(vision["stride"]),
                                  tuple(vision["grid"]), vision.get("unsupported", ""))
        if self._depth(entry, spec) != meta["surgery_depth"]:
            raise OnnxBackendError(
                f"onnx: export in {backend.folder} has surgery depth {meta['surgery_depth']} "
                f"but the registry now says {self._depth(entry, spec)}; re-run "
                f"`cliplens export-onnx {entry.name}`")
        cfg = {k: tuple(v) if isinstance(v, list) else v
               for k, v in meta["preprocess_cfg"].items()}
        tokenizer = tokenization.for_entry(entry, arch)
        pre = Preprocessor(cfg, tokenizer, context_length=meta["context_length"],
                           limits=self.config.image_limits)
        return LoadedModel(name=entry.name, entry=entry, architecture=meta["architecture"],
                           fingerprint=meta["fingerprint"],
                           random_weights=meta["random_weights"], backend=backend, pre=pre,
                           spec=spec, surgery_depth=meta["surgery_depth"],
                           embed_dim=meta["embed_dim"], context_length=meta["context_length"])

    @staticmethod
    def _warm(model: LoadedModel) -> None:
        h, w = model.input_size
        pixels = torch.zeros(1, 3, h, w)
        model.backend.encode_images(pixels)
        model.backend.encode_texts(model.pre.tokenize([""]).ids)
        if model.surgery_depth:
            model.backend.dense(pixels, surgery=True)

    # lookup

    def get(self, name: str) -> LoadedModel:
        """The loaded model `name` ("" for the default), or NotFound."""
        if not self.ready:
            raise Unavailable("embedding: models are still loading; retry shortly")
        name = name or self.default_model
        model = self.models.get(name)
        if model is None:
            raise NotFound(f"model: {name!r} is not loaded here (loaded: "
                           f"{', '.join(self.models)})")
        return model

    # batching

    def _batcher(self, model: LoadedModel, key: tuple,
                 compute: Callable[[list], list]) -> Batcher:
        batcher = model.batchers.get(key)
        if batcher is None:
            gauge = metrics.QUEUE_DEPTH.labels(model.name, model.fingerprint)
            batcher = Batcher(compute, model=model.name, op=str(key[0]),
                              max_batch_size=self.config.max_batch_size,
                              max_delay=self.config.max_queue_delay_ms / 1000.0,
                              max_queue=self.config.max_queue_size, executor=self.executor,
                              depth=gauge.inc, fingerprint=model.fingerprint)
            model.batchers[key] = batcher
        return batcher

    def _images_batcher(self, model: LoadedModel) -> Batcher:
        def compute(payloads: list[torch.Tensor]) -> list[np.ndarray]:
            out = model.backend.encode_images(torch.cat(payloads))
            return _split(out, [len(p) for p in payloads])

        return self._batcher(model, ("image",), compute)

    def _texts_batcher(self, model: LoadedModel) -> Batcher:
        def compute(payloads: list[torch.Tensor]) -> list[np.ndarray]:
            out = model.backend.encode_texts(torch.cat(payloads))
            return _split(out, [len(p) for p in payloads])

        return self._batcher(model, ("text",), compute)

    def _dense_batcher(self, model: LoadedModel, want_surgery: bool,
                       size: tuple[int, int]) -> Batcher:
        def compute(payloads: list[torch.Tensor]) -> list[DenseArrays]:
            out = model.backend.dense(torch.cat(payloads), surgery=want_surgery)
            rows = [len(p) for p in payloads]
            parts = [_split(a, rows) if a is not None else [None] * len(rows)
                     for a in (out.raw, out.keys, out.surgery, out.residual)]
            return [DenseArrays(raw=r, keys=k, grid=out.grid, surgery=s, residual=x,
                                key_bias=out.key_bias)
                    for r, k, s, x in zip(*parts, strict=True)]

        return self._batcher(model, ("dense", want_surgery, *size), compute)

    # operations

    def _pixels(self, model: LoadedModel, images: Sequence[bytes], pixels: np.ndarray | None,
                *, field: str = "images") -> Callable[[], torch.Tensor]:
        """A blocking function producing the model-size input of either form."""
        if bool(images) == (pixels is not None):
            raise InvalidArgument(f"{field} or pixels: expected exactly one, got "
                                  f"{'both' if images else 'neither'}")
        count = len(images) if images else (pixels.shape[0] if pixels.ndim else 0)
        if count > self.config.max_images:
            raise InvalidArgument(f"{field}: expected at most {self.config.max_images} "
                                  f"images, got {count}")
        if images:
            return lambda: model.pre.images(images, field=field)
        h, w = model.input_size
        return lambda: check_pixels(pixels, height=h, width=w)

    async def encode_images(self, name: str, *, images: Sequence[bytes] = (),
                            pixels: np.ndarray | None = None, normalize: bool = False,
                            timeout: float | None = None) -> tuple[LoadedModel, np.ndarray]:
        """(N, D) image embeddings of encoded images or preprocessed pixels."""
        deadline = _deadline(timeout)
        model = self.get(name)
        prepare = self._pixels(model, images, pixels)
        batch = await asyncio.to_thread(prepare)
        out = await self._images_batcher(model).submit(batch, rows=len(batch),
                                                       timeout=_left(deadline))
        return model, _l2(out) if normalize else out

    async def encode_texts(self, name: str, texts: Sequence[str], *, normalize: bool = False,
                           timeout: float | None = None
                           ) -> tuple[LoadedModel, np.ndarray, Tokens]:
        """(N, D) text embeddings, with token counts and truncation."""
        model = self.get(name)
        if not texts:
            raise InvalidArgument("texts: expected at least one text, got 0 (the empty string "
                                  "\"\" is a valid text)")
        if len(texts) > self.config.max_texts:
            raise InvalidArgument(f"texts: expected at most {self.config.max_texts} texts, "
                                  f"got {len(texts)}")
        for i, text in enumerate(texts):
            if len(text) > self.config.max_text_chars:
                raise InvalidArgument(f"texts[{i}]: expected at most "
                                      f"{self.config.max_text_chars} characters, got "
                                      f"{len(text)}")
        deadline = _deadline(timeout)
        tokens = await asyncio.to_thread(model.pre.tokenize, texts)
        out = await self._texts_batcher(model).submit(tokens.ids, rows=len(texts),
                                                      timeout=_left(deadline))
        return model, _l2(out) if normalize else out, tokens

    async def encode_dense(self, name: str, *, images: Sequence[bytes] = (),
                           pixels: np.ndarray | None = None, surgery_mode: bool = False,
                           size: tuple[int, int] = (0, 0), normalize: bool = False,
                           timeout: float | None = None) -> tuple[LoadedModel, DenseArrays]:
        """Dense tokens (raw or surgery) and keys of images or pixels."""
        deadline = _deadline(timeout)
        model = self.get(name)
        if model.spec.unsupported or not model.surgery_depth:
            raise Unimplemented(f"dense tokens: model {model.name} is unsupported: "
                                f"{model.spec.unsupported}")
        height, width = size
        if (height > 0) != (width > 0) or height < 0 or width < 0:
            raise InvalidArgument(f"input_height/input_width: expected both 0 or both "
                                  f"positive, got {height}x{width}")
        self._pixels(model, images, pixels)  # exactly one form, not too many
        if images:
            target = (height, width) if height else model.input_size
            surgery.check_input(model.spec, *target, name="input_height/input_width")
            self._check_dense_size(model, *target)
            datas = list(images)

            def prepare() -> torch.Tensor:
                return model.pre.images(datas, size=target)
        else:
            if pixels.ndim == 4 and height and tuple(pixels.shape[2:]) != (height, width):
                raise InvalidArgument(f"pixels.shape: input_height/input_width say "
                                      f"{height}x{width}, pixels are {tuple(pixels.shape)}")
            if pixels.ndim == 4:
                self._check_dense_size(model, pixels.shape[2], pixels.shape[3])

            def prepare() -> torch.Tensor:
                return check_pixels(pixels, height=None, width=None, stride=model.spec.stride)
        batch = await asyncio.to_thread(prepare)
        dims = (batch.shape[2], batch.shape[3])
        out = await self._dense_batcher(model, surgery_mode, dims).submit(
            batch, rows=len(batch), timeout=_left(deadline))
        if normalize:
            out = dataclasses.replace(out, raw=_l2(out.raw),
                                      surgery=None if out.surgery is None else _l2(out.surgery),
                                      residual=None if out.residual is None
                                      else _l2(out.residual))
        return model, out

    def _check_dense_size(self, model: LoadedModel, height: int, width: int) -> None:
        h, w = model.input_size
        if height * width > MAX_DENSE_SCALE * h * w:
            raise InvalidArgument(f"input size: {height}x{width} exceeds {MAX_DENSE_SCALE}x the "
                                  f"model's {h}x{w} pixels")

    async def encode_regions(self, name: str, *, image: bytes, boxes: np.ndarray,
                             padding: str = regions.NOISE, seed: int = 0, chunk: int = 0,
                             normalize: bool = False, timeout: float | None = None
                             ) -> tuple[LoadedModel, int, AsyncIterator[tuple[int, np.ndarray]]]:
        """One embedding per window; returns the model, the count and an iterator of chunks."""
        deadline = _deadline(timeout)
        model = self.get(name)
        if chunk < 0:
            raise InvalidArgument(f"chunk_size: expected >= 0, got {chunk}")
        img = await asyncio.to_thread(model.pre.decode, image, name="image")
        ints = regions.check_windows(boxes, img.height, img.width,
                                     max_windows=self.config.max_windows,
                                     max_pixels=self.config.max_image_pixels)
        margin = regions.margin_for(ints, img.height, img.width)
        canvas = await asyncio.to_thread(regions.make_canvas, np.asarray(img), margin,
                                         padding=padding, seed=seed)
        stream = chunk or self.config.region_chunk_size
        piece = min(stream, self.config.region_chunk_size)

        def crop(lo: int, hi: int) -> torch.Tensor:
            return regions.crop_windows(
                canvas, ints[lo:hi], size=model.input_size, mean=model.pre.mean,
                std=model.pre.std, interpolation=model.pre.interpolation,
                squash=model.pre.resize_mode == "squash")

        async def chunks() -> AsyncIterator[tuple[int, np.ndarray]]:
            bounds = [(lo, min(lo + piece, len(ints))) for lo in range(0, len(ints), piece)]
            batcher = self._images_batcher(model)
            pending = asyncio.ensure_future(asyncio.to_thread(crop, *bounds[0]))
            done: list[np.ndarray] = []
            offset = 0
            try:
                for i, (lo, hi) in enumerate(bounds):
                    pixels = await pending
                    if i + 1 < len(bounds):  # crop the next piece while this one computes
                        pending = asyncio.ensure_future(asyncio.to_thread(crop, *bounds[i + 1]))
                    out = await batcher.submit(pixels, rows=hi - lo, timeout=_left(deadline))
                    done.append(_l2(out) if normalize else out)
                    if hi - offset >= stream or hi == len(ints):
                        yield offset, np.concatenate(done)
                        offset, done = hi, []
            finally:
                if not pending.done():
                    pending.cancel()

        return model, len(ints), chunks()
