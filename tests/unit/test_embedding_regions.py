"""Region windows: validation, seeded padding, cropping and resizing like the preprocess."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cliplens.core.errors import InvalidArgument
from cliplens.embedding import regions
from cliplens.embedding.preprocess import Preprocessor

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def _image(h=60, w=90, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _check(boxes, h=60, w=90, **kw):
    opts = dict(max_windows=100, max_pixels=1_000_000)
    opts.update(kw)
    return regions.check_windows(np.asarray(boxes, dtype=float).reshape(-1, 4), h, w, **opts)


@pytest.mark.parametrize("boxes, message", [
    ([], "at least one window, got 0"),
    ([[0, 0, 10, 10]] * 101, "at most 100 windows, got 101"),
    ([[0, 0, 10, 10], [0, 0, np.nan, 5]], r"windows\[1\]: coordinates must be finite"),
    ([[5, 5, 5, 9]], r"windows\[0\]: expected x1 > x0"),
    ([[0, 0, 10, 10], [90, 0, 100, 10]], r"windows\[1\]: window does not intersect the 90x60"),
    ([[-30, 0, -1, 10]], r"windows\[0\]: window does not intersect"),
    ([[0, 0, 10, 10], [0, 60, 10, 70]], r"windows\[1\].*y0=60"),
    ([[-5000, -5000, 5000, 5000]], "padded canvas would exceed"),
])
def test_bad_windows_are_refused_with_their_index(boxes, message):
    with pytest.raises(InvalidArgument, match=message):
        _check(boxes)


def test_windows_partly_outside_are_fine_and_the_margin_covers_them():
    ints = _check([[-10, -4, 20, 20], [80, 50, 100, 75], [0, 0, 90, 60]])
    assert ints.dtype == np.int64
    assert regions.margin_for(ints, 60, 90) == 15
    assert regions.margin_for(ints[2:], 60, 90) == 0


def test_noise_canvas_is_seeded_and_keeps_the_image():
    img = _image()
    a = regions.make_canvas(img, 7, padding=regions.NOISE, seed=3)
    b = regions.make_canvas(img, 7, padding=regions.NOISE, seed=3)
    c = regions.make_canvas(img, 7, padding=regions.NOISE, seed=4)
    assert a.pixels.shape == (74, 104, 3)
    assert np.array_equal(a.pixels, b.pixels)
    assert not np.array_equal(a.pixels[:7], c.pixels[:7])
    assert np.array_equal(a.pixels[7:67, 7:97], img)
    assert a.pixels[:7].std() > 50  # uniform noise, not a constant


def test_black_canvas():
    img = _image()
    canvas = regions.make_canvas(img, 5, padding=regions.BLACK, seed=3)
    assert canvas.pixels[:5].max() == 0 and canvas.pixels[:, :5].max() == 0
    assert np.array_equal(canvas.pixels[5:65, 5:95], img)


def _crop(img, boxes, size=(80, 80), padding=regions.BLACK, seed=0):
    ints = _check(boxes, img.shape[0], img.shape[1])
    canvas = regions.make_canvas(img, regions.margin_for(ints, *img.shape[:2]),
                                 padding=padding, seed=seed)
    return regions.crop_windows(canvas, ints, size=size, mean=MEAN, std=STD)


def _normalized(img01: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(img01).permute(2, 0, 1).float()
    return (t - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)


def test_native_size_window_is_the_exact_crop():
    img = _image(100, 120)
    out = _crop(img, [[10, 5, 90, 85]])
    assert out.shape == (1, 3, 80, 80)
    assert torch.allclose(out[0], _normalized(img[5:85, 10:90] / 255.0), atol=1e-5)


def test_padding_fills_the_outside_of_a_window():
    img = _image(80, 80)
    black = _crop(img, [[-40, 0, 40, 80]])
    assert torch.allclose(black[0, :, :, :40], _normalized(np.zeros((80, 40, 3))), atol=1e-5)
    assert torch.allclose(black[0, :, :, 40:], _normalized(img[:, :40] / 255.0), atol=1e-5)
    noise = _crop(img, [[-40, 0, 40, 80]], padding=regions.NOISE, seed=1)
    assert noise[0, :, :, :40].std() > 0.5
    assert torch.allclose(noise[0, :, :, 40:], black[0, :, :, 40:])


def test_whole_image_window_matches_the_model_preprocess():
    img = _image(160, 160, seed=2)
    pre = Preprocessor({"size": (80, 80), "mean": MEAN, "std": STD,
                        "interpolation": "bicubic", "resize_mode": "shortest"}, None,
                       context_length=32)
    want = pre.pil_images([Image.fromarray(img)])
    got = _crop(img, [[0, 0, 160, 160]])
    diff = (got - want).abs()
    assert diff.mean() < 0.02  # PIL rounds to uint8; torch keeps floats
    assert diff.max() < 0.1


def test_wide_windows_keep_the_centred_square():
    img = _image(100, 200)
    wide = _crop(img, [[0, 10, 160, 90]])  # 160 x 80: the centre 80 x 80
    assert torch.allclose(wide[0], _normalized(img[10:90, 40:120] / 255.0), atol=1e-5)


def test_mixed_sizes_equal_one_by_one():
    img = _image(120, 150, seed=5)
    boxes = [[0, 0, 40, 40], [10, 20, 110, 120], [-20, -20, 40, 40], [30, 30, 70, 70],
             [100, 50, 170, 130]]
    together = _crop(img, boxes, padding=regions.NOISE, seed=9)
    ints = _check(boxes, 120, 150)
    canvas = regions.make_canvas(img, regions.margin_for(ints, 120, 150),
                                 padding=regions.NOISE, seed=9)
    for i in range(len(boxes)):
        alone = regions.crop_windows(canvas, ints[i:i + 1], size=(80, 80), mean=MEAN, std=STD)
        assert torch.allclose(together[i], alone[0], atol=1e-6)
