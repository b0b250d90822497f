"""Inference backends: what runs the encoders once inputs are tensors.

Both backends take preprocessed float32 pixels (N, 3, H, W) and int64 tokens (N, context) as
CPU torch tensors and return float32 numpy arrays, so batching, validation and the wire format
do not care which one runs.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import torch


@dataclasses.dataclass
class DenseArrays:
    """Dense outputs (N, 1 + h*w, ...) with the class token first; surgery None if not asked."""

    raw: np.ndarray
    keys: np.ndarray
    grid: tuple[int, int]
    surgery: np.ndarray | None = None
    # The raw path before the projection, and the keys' bias (None: the backend has neither).
    residual: np.ndarray | None = None
    key_bias: np.ndarray | None = None


class Backend(Protocol):
    """What the engine needs from a backend."""

    # "torch" or "onnx"; the device ("cpu", "cuda:0") or ONNX Runtime provider actually used;
    # "fp32", "fp16" or "bf16".
    name: str
    device: str
    precision: str

    def encode_images(self, pixels: torch.Tensor) -> np.ndarray:
        """(N, D) image embeddings, not normalised."""
        ...

    def encode_texts(self, tokens: torch.Tensor) -> np.ndarray:
        """(N, D) text embeddings, not normalised."""
        ...

    def dense(self, pixels: torch.Tensor, *, surgery: bool) -> DenseArrays:
        """Raw tokens, keys and (when `surgery`) the CLIP Surgery tokens."""
        ...
