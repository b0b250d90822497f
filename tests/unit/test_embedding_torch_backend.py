"""The torch backend in every precision (fp16/bf16 checked on CPU; served only on CUDA)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cliplens.embedding import surgery
from cliplens.embedding.backends.torch_backend import TorchBackend


def _backend(precision: str) -> TorchBackend:
    import open_clip

    from cliplens.toyworld.model import register

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = open_clip.create_model(register(), pretrained=None, precision=precision).eval()
    spec = surgery.inspect_visual(model.visual)
    return TorchBackend(model, spec=spec, depth=6, device="cpu", precision=precision)


@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_outputs_are_float32_and_the_class_token_is_the_image_embedding(precision):
    backend = _backend(precision)
    pixels = torch.randn(2, 3, 80, 80, generator=torch.Generator().manual_seed(1))
    before = pixels.clone()
    image = backend.encode_images(pixels)
    dense = backend.dense(pixels, surgery=True)
    assert image.dtype == dense.surgery.dtype == dense.raw.dtype == np.float32
    assert image.shape == (2, 128) and dense.surgery.shape == (2, 101, 128)
    assert dense.keys.shape == (2, 101, 96) and dense.grid == (10, 10)
    tol = 1e-5 if precision == "fp32" else 2e-2
    np.testing.assert_allclose(dense.surgery[:, 0], image, atol=tol * np.abs(image).max())
    assert torch.equal(pixels, before)
    tokens = torch.zeros(2, 32, dtype=torch.int64)
    tokens[:, 0], tokens[:, 1], tokens[:, 2] = 49406, 320, 49407
    text = backend.encode_texts(tokens)
    assert text.dtype == np.float32 and text.shape == (2, 128)


def test_low_precision_stays_close_to_fp32():
    pixels = torch.randn(2, 3, 80, 80, generator=torch.Generator().manual_seed(2))
    full = _backend("fp32").encode_images(pixels)
    for precision in ("fp16", "bf16"):
        low = _backend(precision).encode_images(pixels)
        cos = (low * full).sum(1) / np.linalg.norm(low, axis=1) / np.linalg.norm(full, axis=1)
        assert cos.min() > 0.99, (precision, cos)
