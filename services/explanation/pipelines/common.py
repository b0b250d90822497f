"""What the pipelines share: decoded inputs, model facts, input sizes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.core.images import ImageLimits, decode_image, encode_png, to_array
from cliplens.v1 import common_pb2, embedding_pb2

DEFAULT_LIMITS = ImageLimits()


@dataclass(frozen=True)
class InputImage:
    """An image as the caller sent it: the encoded bytes and the decoded RGB pixels."""

    data: bytes
    pixels: np.ndarray  # (H, W, 3) uint8

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[0], self.pixels.shape[1]


def decode_inputs(images: Sequence[common_pb2.Image], *, max_images: int,
                  limits: ImageLimits = DEFAULT_LIMITS,
                  max_pixels: int | None = None) -> list[InputImage]:
    """Decode and validate the request's images (INVALID_ARGUMENT naming the bad one).

    `max_pixels` bounds the decoded pixels of all the images together: a few kilobytes of
    well-compressed PNG can decode to hundreds of megabytes each, and every image is held
    (and its maps computed at its resolution) for the whole call.
    """
    if not images:
        raise InvalidArgument("images: expected at least one image, got none")
    if len(images) > max_images:
        raise InvalidArgument(f"images: at most {max_images} per call, got {len(images)}")
    out = []
    total = 0
    for i, img in enumerate(images):
        pixels = to_array(decode_image(img.data, limits=limits, name=f"images[{i}]"))
        total += pixels.shape[0] * pixels.shape[1]
        if max_pixels is not None and total > max_pixels:
            raise InvalidArgument(
                f"images: expected at most {max_pixels} decoded pixels per call in total, got "
                f"{total} by images[{i}] ({pixels.shape[1]}x{pixels.shape[0]}); send fewer or "
                f"smaller images")
        # Re-encode losslessly: the embedding service then decodes exactly these pixels
        # (EXIF rotation and alpha already applied).
        out.append(InputImage(encode_png(pixels), pixels))
    return out


def check_maps_size(images: Sequence[InputImage], maps: int, max_bytes: int, *,
                    field: str, overlay: bool = False) -> None:
    """Refuse, before computing them, maps at image resolution too large to send back.

    Each of `maps` maps per image is float32 at the image's resolution, plus a PNG overlay when
    asked (counted as raw RGB, what a PNG of a photograph can cost); together they must fit in
    one response message of `max_bytes`. Found by fuzzing: a 5000x5000 image with the default
    five concepts made a 600 MB reply that gRPC could only fail with RESOURCE_EXHAUSTED after all
    the work was done.
    """
    per_pixel = 4 + (3 if overlay else 0)
    size = per_pixel * max(1, maps) * sum(image.size[0] * image.size[1] for image in images)
    if size > max_bytes:
        raise InvalidArgument(
            f"{field}: {max(1, maps)} map(s) at image resolution over {len(images)} image(s) "
            f"would be {size / 2**20:.0f} MiB{' with overlays' if overlay else ''}, over the "
            f"{max_bytes / 2**20:.0f} MiB message limit; ask for fewer maps or send smaller "
            f"images")


def patch_size(info: embedding_pb2.ModelInfo) -> int:
    """The vision tower's patch (or output stride) in input pixels."""
    return max(1, info.image_height // max(1, info.grid_height))


def dense_input_size(info: embedding_pb2.ModelInfo, hw: tuple[int, int]) -> tuple[int, int]:
    """Input size that keeps the image's aspect ratio: short side at the model's size, long
    side rounded to whole patches, so a dense map covers the whole image without a crop."""
    h, w = hw
    base = min(info.image_height, info.image_width)
    p = patch_size(info)
    if h == w:
        return info.image_height, info.image_width
    if h < w:
        return base, max(p, round(base * w / h / p) * p)
    return max(p, round(base * h / w / p) * p), base
