"""The torch backend: open_clip modules in inference mode, CPU or CUDA, fp32/fp16/bf16."""

from __future__ import annotations

import numpy as np
import torch

from cliplens.embedding import surgery as surgery_math
from cliplens.embedding.backends import DenseArrays


def _out(t: torch.Tensor) -> np.ndarray:
    return t.float().cpu().numpy()


class TorchBackend:
    """Runs a loaded open_clip model on its device."""

    name = "torch"

    def __init__(self, model: torch.nn.Module, *, spec: surgery_math.VisionSpec, depth: int,
                 device: str, precision: str):
        self.model = model
        self.spec = spec
        self.depth = depth
        self.device = device
        self.precision = precision
        self._dtype = {"fp32": torch.float32, "fp16": torch.float16,
                       "bf16": torch.bfloat16}[precision]

    def _pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return pixels.to(self.device, dtype=self._dtype, non_blocking=True)

    def encode_images(self, pixels: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return _out(self.model.encode_image(self._pixels(pixels)))

    def encode_texts(self, tokens: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return _out(self.model.encode_text(tokens.to(self.device)))

    def dense(self, pixels: torch.Tensor, *, surgery: bool) -> DenseArrays:
        with torch.inference_mode():
            out = surgery_math.dense_tokens(self.model.visual, self._pixels(pixels),
                                            spec=self.spec, depth=self.depth, surgery=surgery)
            return DenseArrays(raw=_out(out.raw), keys=_out(out.keys), grid=out.grid,
                               surgery=None if out.surgery is None else _out(out.surgery),
                               residual=None if out.residual is None else _out(out.residual),
                               key_bias=None if out.key_bias is None else _out(out.key_bias))

