"""Facts about a loaded model read from the model itself, never from its name.

One small frozen record per model: the zero-shot head (a softmax over logit_scale * cosine for
CLIP-style models; a sigmoid of logit_scale * cosine + logit_bias for models trained with the
sigmoid loss, which are exactly those that carry a learned `logit_bias`), the image
preprocessing and the tokenizer. The same reading serves open_clip names, custom configs and
converted Hugging Face checkpoints.
"""

from __future__ import annotations

import dataclasses
import math

import torch

SOFTMAX = "softmax"
SIGMOID = "sigmoid"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelFacts:
    """What a client needs to use a model's embeddings as the model was trained to."""

    logit_scale: float  # exp of the learned value: the temperature of the head
    logit_bias: float | None  # the sigmoid head's learned bias; None for softmax models
    head: str  # SOFTMAX or SIGMOID
    input_size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str
    resize_mode: str
    context_length: int
    tokenizer: str  # the file it was read from, or "open_clip BPE"


def _scalar(value) -> float | None:
    if value is None:
        return None
    return float(value.detach().float().reshape(-1)[0]) if isinstance(value, torch.Tensor) \
        else float(value)


def read_facts(model: torch.nn.Module, preprocess_cfg: dict, tokenizer) -> ModelFacts:
    """The facts of an open_clip model with its preprocessing and tokenizer."""
    scale = _scalar(getattr(model, "logit_scale", None))
    bias = _scalar(getattr(model, "logit_bias", None))
    size = preprocess_cfg.get("size", 224)
    size = (int(size[0]), int(size[1])) if isinstance(size, (tuple, list)) \
        else (int(size), int(size))
    return ModelFacts(
        logit_scale=math.exp(scale) if scale is not None else 100.0,
        logit_bias=bias, head=SIGMOID if bias is not None else SOFTMAX, input_size=size,
        mean=tuple(float(m) for m in preprocess_cfg["mean"]),
        std=tuple(float(s) for s in preprocess_cfg["std"]),
        interpolation=str(preprocess_cfg.get("interpolation", "bicubic")),
        resize_mode=str(preprocess_cfg.get("resize_mode", "shortest")),
        context_length=int(model.context_length),
        tokenizer=getattr(tokenizer, "source", "open_clip BPE"))
