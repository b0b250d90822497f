"""The onnx backend: the encoders `cliplens export-onnx` wrote, run by ONNX Runtime.

The provider is chosen once: "cuda" asks for the CUDA execution provider, "cpu" for the CPU
one, "auto" for CUDA when ONNX Runtime lists it and torch sees a usable GPU, else CPU. After
the session is created its first provider must be the one asked for: ONNX Runtime quietly
falls back to CPU when CUDA cannot start, and that is turned into an error at start here, never
a silent slow service. CPU sessions use every graph optimisation and one intra-op thread per
core.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from cliplens.core.errors import FailedPrecondition, Unimplemented
from cliplens.embedding.backends import DenseArrays
from cliplens.embedding.onnx_files import model_folder, read_meta

log = logging.getLogger(__name__)
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"


class OnnxBackendError(FailedPrecondition):
    """The ONNX files or the asked-for provider cannot be used; says which and why."""


def choose_provider(asked: str) -> str:
    """The execution provider for "auto", "cuda" or "cpu"."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if asked == "cpu":
        return CPU
    if asked == "cuda":
        if CUDA not in available:
            raise OnnxBackendError(f"onnx_provider: cuda asked for, but ONNX Runtime offers "
                                   f"only {available}")
        return CUDA
    return CUDA if CUDA in available and torch.cuda.is_available() else CPU


def make_session(path: Path, provider: str, *, threads: int = 0):
    """An InferenceSession on exactly `provider`, or OnnxBackendError."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    providers = [provider] if provider == CPU else [provider, CPU]
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as e:  # noqa: BLE001 - any ORT failure: a broken or foreign file
        raise OnnxBackendError(f"onnx: cannot load {path}: {e}") from None
    got = session.get_providers()[0]
    if got != provider:
        raise OnnxBackendError(f"onnx: {path.name} asked for {provider} but ONNX Runtime "
                               f"gave {got}; refusing to fall back silently")
    return session


class OnnxBackend:
    """Runs the exported image, text and dense graphs of one model."""

    name = "onnx"
    precision = "fp32"

    def __init__(self, onnx_dir: Path | str, model_name: str, *, provider: str = "auto",
                 threads: int = 0):
        self.folder = model_folder(onnx_dir, model_name)
        try:
            self.meta = read_meta(self.folder)
        except (FileNotFoundError, ValueError) as e:
            raise OnnxBackendError(
                f"onnx: no usable export of {model_name} in {self.folder} ({e}); run "
                f"`cliplens export-onnx {model_name} --out {onnx_dir}`") from None
        self.device = choose_provider(provider)
        files = self.meta["files"]
        self.image = make_session(self.folder / files["image"], self.device, threads=threads)
        self.text = make_session(self.folder / files["text"], self.device, threads=threads)
        self.dense_session = (make_session(self.folder / files["dense"], self.device,
                                           threads=threads) if files.get("dense") else None)
        self.input_size = tuple(self.meta["input_size"])
        self.grid = tuple(self.meta["vision"]["grid"])

    @property
    def fingerprint(self) -> str:
        return self.meta["fingerprint"]

    def encode_images(self, pixels: torch.Tensor) -> np.ndarray:
        return self.image.run(None, {"pixels": pixels.numpy()})[0]

    def encode_texts(self, tokens: torch.Tensor) -> np.ndarray:
        return self.text.run(None, {"tokens": tokens.to(torch.int64).numpy()})[0]

    def dense(self, pixels: torch.Tensor, *, surgery: bool) -> DenseArrays:
        if self.dense_session is None:
            raise Unimplemented(f"dense tokens: {self.meta['model']} has no dense export "
                                f"({self.meta['vision'].get('unsupported') or 'unsupported'})")
        size = tuple(pixels.shape[-2:])
        if size != self.input_size:
            raise Unimplemented(f"input size: the onnx backend's dense encoder is exported at "
                                f"{self.input_size[0]}x{self.input_size[1]}, got "
                                f"{size[0]}x{size[1]}; use the torch backend for other sizes")
        tokens, raw, keys = self.dense_session.run(None, {"pixels": pixels.numpy()})
        return DenseArrays(raw=raw, keys=keys, grid=self.grid,
                           surgery=tokens if surgery else None)
