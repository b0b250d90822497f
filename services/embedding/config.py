"""Embedding service settings (section `embedding` of the YAML file, or CLIPLENS_EMBEDDING_*)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from cliplens.core.config import ConfigError, ServiceConfig
from cliplens.core.images import ImageLimits

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "fp16", "bf16")
BACKENDS = ("torch", "onnx")
ONNX_PROVIDERS = ("auto", "cuda", "cpu")


def _default_model_dir() -> str:
    return os.environ.get("CLIPLENS_MODEL_DIR",
                          str(Path.home() / ".cache" / "cliplens" / "models"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class EmbeddingConfig(ServiceConfig):
    """Which models to hold, on what device, and how requests are batched."""

    port: int = 50151
    metrics_port: int = 9151
    # Registry names or open_clip "ARCH/PRETRAINED" names, loaded at start.
    models: tuple[str, ...] = ("toyworld",)
    # The model used when a request names none (must be one of `models`).
    default_model: str = "toyworld"
    device: str = "auto"
    # fp16/bf16 only on CUDA.
    precision: str = "fp32"
    backend: str = "torch"
    # Where `cliplens export-onnx` wrote the ONNX files (backend onnx).
    onnx_dir: str = str(Path.home() / ".cache" / "cliplens" / "onnx")
    onnx_provider: str = "auto"
    # Dynamic batching: rows per forward pass, how long the first item waits for company, and
    # how many requests may wait (RESOURCE_EXHAUSTED beyond).
    max_batch_size: int = 64
    max_queue_delay_ms: float = 3.0
    max_queue_size: int = 256
    # Windows per forward pass (and default streamed chunk) of EncodeRegions.
    region_chunk_size: int = 256
    max_windows: int = 10_000
    max_images: int = 256
    max_text_chars: int = 10_000
    max_texts: int = 4096
    # 0: torch's default (all cores).
    torch_threads: int = 0
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    # Extra folders of registry YAML files, beside services/embedding/models/.
    registry_dirs: tuple[str, ...] = ()
    # Weights of open_clip "ARCH/PRETRAINED" models: <model_dir>/<ARCH>/<PRETRAINED>.safetensors.
    model_dir: str = dataclasses.field(default_factory=_default_model_dir)

    def __post_init__(self) -> None:
        super().__post_init__()
        _one_of("device", self.device, DEVICES)
        _one_of("precision", self.precision, PRECISIONS)
        _one_of("backend", self.backend, BACKENDS)
        _one_of("onnx_provider", self.onnx_provider, ONNX_PROVIDERS)
        if not self.models:
            raise ConfigError("models: expected at least one model name, got ()")
        if self.default_model not in self.models:
            raise ConfigError(f"default_model: expected one of models {list(self.models)}, "
                              f"got {self.default_model!r}")
        if self.precision != "fp32" and self.device == "cpu":
            raise ConfigError(f"precision: {self.precision} needs device cuda (got device cpu); "
                              f"use fp32 on CPU")
        for name in ("max_batch_size", "max_queue_size", "region_chunk_size", "max_windows",
                     "max_images", "max_text_chars", "max_texts", "max_image_bytes",
                     "max_image_pixels"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.max_queue_delay_ms < 0:
            raise ConfigError(f"max_queue_delay_ms: expected >= 0, got {self.max_queue_delay_ms}")
        if self.torch_threads < 0:
            raise ConfigError(f"torch_threads: expected >= 0, got {self.torch_threads}")

    @property
    def image_limits(self) -> ImageLimits:
        return ImageLimits(max_bytes=self.max_image_bytes, max_pixels=self.max_image_pixels)


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}: expected one of {', '.join(allowed)}, got {value!r}")
