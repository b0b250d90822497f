"""The model's own preprocessing: image transform, tokenizer counts, pixel validation."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from cliplens.core.errors import InvalidArgument
from cliplens.core.images import ImageLimits
from cliplens.embedding.preprocess import Preprocessor, check_pixels

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


@pytest.fixture(scope="module")
def pre():
    from open_clip import get_tokenizer

    from cliplens.toyworld.model import register

    return Preprocessor({"size": (80, 80), "mean": MEAN, "std": STD,
                         "interpolation": "bicubic", "resize_mode": "shortest"},
                        get_tokenizer(register()), context_length=32,
                        limits=ImageLimits(max_pixels=100_000))


def _png(w, h, color=(200, 10, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def test_images_are_resized_cropped_and_normalised(pre):
    out = pre.images([_png(160, 100), _png(80, 80, (0, 0, 0))])
    assert out.shape == (2, 3, 80, 80) and out.dtype == torch.float32
    want = (200 / 255 - MEAN[0]) / STD[0]
    assert torch.allclose(out[0, 0], torch.tensor(want), atol=1e-3)
    assert torch.allclose(out[1, 2], torch.tensor(-MEAN[2] / STD[2]), atol=1e-5)
    assert pre.images([_png(50, 50)], size=(96, 160)).shape == (1, 3, 96, 160)


def test_bad_images_name_their_index(pre):
    with pytest.raises(InvalidArgument, match=r"images\[1\]: not a decodable image"):
        pre.images([_png(10, 10), b"not an image"])
    with pytest.raises(InvalidArgument, match=r"images\[0\]: 400x400 exceeds"):
        pre.images([_png(400, 400)])


def test_token_counts_and_truncation(pre):
    long = "a photo of " * 20
    tokens = pre.tokenize(["", "a dog", long, "nul\x00 and \ud7ff and emoji \U0001f436"])
    assert tokens.ids.shape == (4, 32) and tokens.ids.dtype == torch.int64
    assert tokens.counts[:2] == [2, 4]
    assert tokens.counts[2] == 62 and tokens.truncated == [False, False, True, False]
    assert tokens.ids[2, -1] == 49407  # truncated rows still end with the end token
    assert tokens.ids[0, 0] == 49406 and tokens.ids[0, 1] == 49407 and tokens.ids[0, 2] == 0


def test_check_pixels():
    ok = np.zeros((2, 3, 80, 80), np.float32)
    assert check_pixels(ok, height=80, width=80).shape == (2, 3, 80, 80)
    with pytest.raises(InvalidArgument, match=r"expected \(N, 3, 80, 80\) for this model, "
                                              r"got \(1, 3, 64, 64\)"):
        check_pixels(np.zeros((1, 3, 64, 64), np.float32), height=80, width=80)
    with pytest.raises(InvalidArgument, match=r"expected \(N >= 1, 3, H, W\)"):
        check_pixels(np.zeros((1, 4, 80, 80), np.float32), height=80, width=80)
    with pytest.raises(InvalidArgument, match="multiples of 8x8"):
        check_pixels(np.zeros((1, 3, 84, 80), np.float32), height=None, width=None,
                     stride=(8, 8))
    bad = ok.copy()
    bad[0, 0, 0, 0] = np.inf
    with pytest.raises(InvalidArgument, match="NaN or Inf"):
        check_pixels(bad, height=80, width=80)
