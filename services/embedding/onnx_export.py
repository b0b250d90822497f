"""Exporting a model's encoders to ONNX for the onnx backend (`cliplens export-onnx`).

Three graphs, fp32, batch axis dynamic, opset 17, written to
`<onnx_dir>/<model name, "/" -> "__">/`:

- `image.onnx`: pixels (N, 3, H, W) -> embeddings (N, D)
- `text.onnx`: tokens int64 (N, context) -> embeddings (N, D)
- `dense.onnx`: pixels at the model's input size -> surgery (N, 1+hw, D), raw (N, 1+hw, D),
  keys (N, 1+hw, width); the surgery path yields the raw tokens and keys on the way.

plus `meta.json`: the source weights' fingerprint, input size, surgery depth and what the
backend needs to preprocess and tokenize without building the torch model. The TorchScript
exporter (`dynamo=False`) is used: it needs no extra package and handles these graphs.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from cliplens.embedding import surgery
from cliplens.embedding.backends.onnx_backend import CPU, make_session
from cliplens.embedding.loading import BuiltModel, build
from cliplens.embedding.onnx_files import FILES, META, model_folder, read_meta
from cliplens.embedding.registry import ModelEntry

log = logging.getLogger(__name__)
OPSET = 17


class ImageEncoder(nn.Module):
    """pixels -> image embeddings."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)


class TextEncoder(nn.Module):
    """int64 tokens -> text embeddings."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(tokens)


class DenseEncoder(nn.Module):
    """pixels -> (surgery tokens, raw tokens, keys of the last attention layer)."""

    def __init__(self, visual: nn.Module, spec: surgery.VisionSpec, depth: int):
        super().__init__()
        self.visual, self.spec, self.depth = visual, spec, depth

    def forward(self, pixels: torch.Tensor):
        out = surgery.dense_tokens(self.visual, pixels, spec=self.spec, depth=self.depth,
                                   surgery=True)
        return out.surgery, out.raw, out.keys


def _export(module: nn.Module, example: torch.Tensor, path: Path, inputs: list[str],
            outputs: list[str]) -> None:
    axes = {name: {0: "batch"} for name in [*inputs, *outputs]}
    # nn.MultiheadAttention's fused inference kernel has no ONNX symbolic; the plain path
    # computes the same attention and exports.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer chatter about Python control flow
            torch.onnx.export(module, (example,), str(path), dynamo=False,
                              opset_version=OPSET, input_names=inputs, output_names=outputs,
                              dynamic_axes=axes, do_constant_folding=True)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def export(entry: ModelEntry, out_dir: Path | str, *, depth: int | None = None,
           built: BuiltModel | None = None) -> Path:
    """Export the three encoders of `entry` into `out_dir`; returns the model's folder."""
    started = time.perf_counter()
    built = built or build(entry, device="cpu", precision="fp32")
    model = built.model.float().eval()
    spec = surgery.inspect_visual(model.visual)
    depth = depth or entry.surgery_depth or surgery.default_depth(spec)
    folder = model_folder(out_dir, entry.name)
    folder.mkdir(parents=True, exist_ok=True)
    h, w = spec.image_size
    context = int(model.context_length)
    pixels = torch.randn(2, 3, h, w)
    tokens = torch.zeros(2, context, dtype=torch.int64)
    tokens[:, 0], tokens[:, 1:4], tokens[:, 4] = 49406, 320, 49407
    with torch.no_grad():
        _export(ImageEncoder(model), pixels, folder / FILES["image"], ["pixels"],
                ["embeddings"])
        _export(TextEncoder(model), tokens, folder / FILES["text"], ["tokens"], ["embeddings"])
        dense = ""
        if not spec.unsupported:
            _export(DenseEncoder(model.visual, spec, depth), pixels, folder / FILES["dense"],
                    ["pixels"], ["surgery", "raw", "keys"])
            dense = FILES["dense"]
    meta = {
        "model": entry.name, "architecture": built.architecture,
        "fingerprint": built.fingerprint, "random_weights": built.random_weights,
        "input_size": [h, w], "surgery_depth": depth if not spec.unsupported else 0,
        "embed_dim": int(model.visual.output_dim), "context_length": context,
        "vision": {"kind": spec.kind, "layers": spec.layers, "stride": list(spec.stride),
                   "grid": list(spec.grid), "image_size": list(spec.image_size),
                   "unsupported": spec.unsupported},
        "preprocess_cfg": {k: list(v) if isinstance(v, tuple) else v
                           for k, v in built.preprocess_cfg.items()},
        "files": {"image": FILES["image"], "text": FILES["text"], "dense": dense},
        "opset": OPSET, "torch": torch.__version__,
    }
    (folder / META).write_text(json.dumps(meta, indent=2) + "\n")
    log.info("exported %s to %s in %.1f s", entry.name, folder, time.perf_counter() - started)
    return folder


def min_cosine(a, b) -> float:
    """Smallest cosine similarity between matching rows (last axis) of two arrays."""
    import numpy as np

    a = np.asarray(a, dtype=np.float64).reshape(-1, np.shape(a)[-1])
    b = np.asarray(b, dtype=np.float64).reshape(-1, np.shape(b)[-1])
    num = (a * b).sum(-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return float((num / np.maximum(den, 1e-30)).min())


def verify(folder: Path, model: nn.Module, *, batch: int = 2, seed: int = 0) -> dict[str, float]:
    """Min cosine per embedding of each exported graph against torch, on random inputs (CPU)."""
    meta = read_meta(folder)
    gen = torch.Generator().manual_seed(seed)
    h, w = meta["input_size"]
    pixels = torch.randn(batch, 3, h, w, generator=gen)
    tokens = torch.randint(1, 49406, (batch, meta["context_length"]), generator=gen)
    tokens[:, 0] = 49406
    tokens[:, -1] = 49407
    model = model.float().eval()
    result = {}
    with torch.no_grad():
        image = make_session(Path(folder) / meta["files"]["image"], CPU)
        result["image"] = min_cosine(image.run(None, {"pixels": pixels.numpy()})[0],
                                     model.encode_image(pixels).numpy())
        text = make_session(Path(folder) / meta["files"]["text"], CPU)
        result["text"] = min_cosine(text.run(None, {"tokens": tokens.numpy()})[0],
                                    model.encode_text(tokens).numpy())
        if meta["files"].get("dense"):
            spec = surgery.inspect_visual(model.visual)
            ref = surgery.dense_tokens(model.visual, pixels, spec=spec,
                                       depth=meta["surgery_depth"], surgery=True)
            dense = make_session(Path(folder) / meta["files"]["dense"], CPU)
            outs = dense.run(None, {"pixels": pixels.numpy()})
            for name, got, want in zip(("surgery", "raw", "keys"), outs,
                                       (ref.surgery, ref.raw, ref.keys), strict=True):
                result[f"dense.{name}"] = min_cosine(got, want.numpy())
    return result
