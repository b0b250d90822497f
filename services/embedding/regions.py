"""Windows of one image -> model inputs, for the ConVis grid (many regions, one image).

The image is padded once by the margin the windows need, with seeded uniform noise (the ConVis
paper's choice) or black. Each window is cut from the padded canvas, reduced to the largest
centred region with the model's aspect ratio (so resize-to-size then equals open_clip's resize
of the shortest side and centre crop, up to one pixel of rounding), resized with the model's
interpolation (antialiased, as PIL does) and normalised. Windows of one size are cut and
resized together, one gather and one interpolation per size.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from cliplens.core.errors import InvalidArgument

NOISE, BLACK = "noise", "black"
MAX_COORDINATE = 1 << 24


@dataclasses.dataclass(frozen=True)
class Canvas:
    """The image padded by `margin` pixels on every side: (H + 2m, W + 2m, 3) uint8."""

    pixels: np.ndarray
    margin: int
    height: int
    width: int


def check_windows(boxes: np.ndarray, height: int, width: int, *, max_windows: int,
                  max_pixels: int, field: str = "windows") -> np.ndarray:
    """Validate (N, 4) x0, y0, x1, y1 boxes against an image; returns integer boxes."""
    n = len(boxes)
    if n == 0:
        raise InvalidArgument(f"{field}: expected at least one window, got 0")
    if n > max_windows:
        raise InvalidArgument(f"{field}: expected at most {max_windows} windows, got {n}")
    boxes = np.asarray(boxes, dtype=np.float64).reshape(n, 4)
    bad = ~np.isfinite(boxes).all(axis=1)
    _refuse(bad, boxes, field, "coordinates must be finite")
    # Beyond this a coordinate cannot describe a window of a decodable image, and the integer
    # arithmetic below would overflow.
    far = (np.abs(boxes) > MAX_COORDINATE).any(axis=1)
    _refuse(far, boxes, field, f"coordinates must be within +-{MAX_COORDINATE}")
    ints = np.rint(boxes).astype(np.int64)
    empty = (ints[:, 2] <= ints[:, 0]) | (ints[:, 3] <= ints[:, 1])
    _refuse(empty, boxes, field, "expected x1 > x0 and y1 > y0 (at least one pixel)")
    outside = ((ints[:, 0] >= width) | (ints[:, 2] <= 0) | (ints[:, 1] >= height)
               | (ints[:, 3] <= 0))
    _refuse(outside, boxes, field, f"window does not intersect the {width}x{height} image")
    margin = margin_for(ints, height, width)
    if (height + 2 * margin) * (width + 2 * margin) > max_pixels:
        raise InvalidArgument(f"{field}: windows reach {margin} px beyond the image; the padded "
                              f"canvas would exceed {max_pixels} pixels")
    return ints


def _refuse(mask: np.ndarray, boxes: np.ndarray, field: str, why: str) -> None:
    if mask.any():
        i = int(np.argmax(mask))
        x0, y0, x1, y1 = (float(v) for v in boxes[i])
        raise InvalidArgument(f"{field}[{i}]: {why}; got x0={x0:g} y0={y0:g} x1={x1:g} "
                              f"y1={y1:g} ({int(mask.sum())} such windows)")


def margin_for(boxes: np.ndarray, height: int, width: int) -> int:
    """Pixels of padding every window needs to lie inside the canvas."""
    beyond = max(0, int(-boxes[:, 0].min()), int(-boxes[:, 1].min()),
                 int(boxes[:, 2].max()) - width, int(boxes[:, 3].max()) - height)
    return beyond


def make_canvas(image: np.ndarray, margin: int, *, padding: str, seed: int) -> Canvas:
    """Pad an (H, W, 3) uint8 image by `margin` with seeded uniform noise or black."""
    h, w = image.shape[:2]
    shape = (h + 2 * margin, w + 2 * margin, 3)
    if padding == NOISE and margin > 0:
        canvas = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    else:
        canvas = np.zeros(shape, dtype=np.uint8)
    canvas[margin:margin + h, margin:margin + w] = image
    return Canvas(canvas, margin, h, w)


def _aspect_crop(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The largest centred sub-box of each box with the aspect ratio of `size` (H, W)."""
    x0, y0, x1, y1 = (boxes[:, i].copy() for i in range(4))
    bw, bh = x1 - x0, y1 - y0
    th, tw = size
    # Compare bw/bh with tw/th in integers: wider boxes lose width, taller ones height.
    wide = bw * th > bh * tw
    new_w = np.where(wide, np.maximum(1, (bh * tw) // th), bw)
    new_h = np.where(wide, bh, np.maximum(1, (bw * th) // tw))
    x0 = x0 + (bw - new_w) // 2
    y0 = y0 + (bh - new_h) // 2
    return np.stack([x0, y0, x0 + new_w, y0 + new_h], axis=1)


def crop_windows(canvas: Canvas, boxes: np.ndarray, *, size: tuple[int, int],
                 mean: tuple[float, ...], std: tuple[float, ...],
                 interpolation: str = "bicubic", squash: bool = False) -> torch.Tensor:
    """(N, 3, H, W) normalised model inputs of integer image-coordinate boxes (N, 4)."""
    boxes = np.asarray(boxes, dtype=np.int64) + canvas.margin
    if not squash:
        boxes = _aspect_crop(boxes, size)
    src = torch.from_numpy(canvas.pixels)
    out = torch.empty((len(boxes), 3, *size), dtype=torch.float32)
    sizes = np.stack([boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]], axis=1)
    mode = interpolation if interpolation in ("bilinear", "bicubic", "nearest") else "bicubic"
    for hw in np.unique(sizes, axis=0):
        idx = np.nonzero((sizes == hw).all(axis=1))[0]
        h, w = int(hw[0]), int(hw[1])
        rows = torch.from_numpy(boxes[idx, 1])[:, None] + torch.arange(h)
        cols = torch.from_numpy(boxes[idx, 0])[:, None] + torch.arange(w)
        crops = src[rows[:, :, None], cols[:, None, :]]  # (n, h, w, 3) uint8
        crops = crops.permute(0, 3, 1, 2).float().div_(255.0)
        if (h, w) != tuple(size):
            crops = F.interpolate(crops, size=size, mode=mode,
                                  antialias=mode != "nearest",
                                  align_corners=False if mode != "nearest" else None)
            crops = crops.clamp_(0.0, 1.0)
        out[torch.from_numpy(idx)] = crops
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return out.sub_(mean_t).div_(std_t)
