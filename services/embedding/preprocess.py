"""The model's own preprocessing: open_clip's image transform and the model's tokenizer.

Images are decoded with the service's limits (`cliplens.core.images.decode_image`), then put
through the transform open_clip builds from the model's preprocess configuration (resize,
centre crop, normalise), at the model's input size or a requested one.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from cliplens.core.errors import InvalidArgument
from cliplens.core.images import ImageLimits, decode_image
from cliplens.embedding.tokenization import count_tokens


@dataclasses.dataclass(frozen=True)
class Tokens:
    """Tokenized texts at the context length, with what truncation cut."""

    ids: torch.Tensor  # int64 (N, context_length)
    counts: list[int]  # tokens before truncation, start and end included
    truncated: list[bool]


class Preprocessor:
    """Decoding, image transforms and tokenization of one model."""

    def __init__(self, preprocess_cfg: dict, tokenizer, *, context_length: int,
                 limits: ImageLimits | None = None):
        self.cfg = dict(preprocess_cfg)
        size = self.cfg.get("size", 224)
        self.size = (int(size[0]), int(size[1])) if isinstance(size, (tuple, list)) \
            else (int(size), int(size))
        self.mean = tuple(float(m) for m in self.cfg.get("mean"))
        self.std = tuple(float(s) for s in self.cfg.get("std"))
        self.interpolation = self.cfg.get("interpolation", "bicubic")
        self.resize_mode = self.cfg.get("resize_mode", "shortest")
        self.tokenizer = tokenizer
        self.context_length = context_length
        self.limits = limits or ImageLimits()

    @functools.lru_cache(maxsize=8)  # noqa: B019 - one Preprocessor per loaded model
    def transform(self, size: tuple[int, int] | None = None):
        """open_clip's eval transform at `size` (the model's own when None)."""
        from open_clip.transform import PreprocessCfg, image_transform_v2

        cfg = {**self.cfg, "size": size or self.size}
        fields = {f.name for f in dataclasses.fields(PreprocessCfg)}
        return image_transform_v2(PreprocessCfg(**{k: v for k, v in cfg.items()
                                                   if k in fields}), is_train=False)

    def decode(self, data: bytes, *, name: str = "image") -> Image.Image:
        """An RGB image from encoded bytes, or InvalidArgument naming `name`."""
        return decode_image(data, limits=self.limits, name=name)

    def images(self, datas: Sequence[bytes], *, size: tuple[int, int] | None = None,
               field: str = "images") -> torch.Tensor:
        """(N, 3, H, W) float32 pixels of encoded images."""
        transform = self.transform(size)
        return torch.stack([transform(self.decode(d, name=f"{field}[{i}]"))
                            for i, d in enumerate(datas)])

    def pil_images(self, images: Sequence[Image.Image], *,
                   size: tuple[int, int] | None = None) -> torch.Tensor:
        """(N, 3, H, W) float32 pixels of decoded images."""
        transform = self.transform(size)
        return torch.stack([transform(img.convert("RGB")) for img in images])

    def normalize(self, pixels01: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) pixels in [0, 1] -> the model's normalised input."""
        mean = torch.tensor(self.mean, dtype=pixels01.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=pixels01.dtype).view(1, 3, 1, 1)
        return (pixels01 - mean) / std

    def tokenize(self, texts: Sequence[str]) -> Tokens:
        """Token ids at the context length; counts and truncation as the tokenizer saw them."""
        ids = self.tokenizer(list(texts), context_length=self.context_length)
        counts = count_tokens(self.tokenizer, texts)
        if counts is None:  # other tokenizers: count what survived (truncation: a full row)
            counts = [int((row != 0).sum()) for row in ids]
        truncated = [c > self.context_length for c in counts]
        return Tokens(ids=ids.to(torch.int64), counts=counts, truncated=truncated)


def check_pixels(array: np.ndarray, *, height: int | None, width: int | None,
                 stride: tuple[int, int] | None = None, field: str = "pixels") -> torch.Tensor:
    """Validate preprocessed pixels (N, 3, H, W) and return them as a torch tensor."""
    if array.ndim != 4 or array.shape[1] != 3 or array.shape[0] < 1:
        raise InvalidArgument(f"{field}.shape: expected (N >= 1, 3, H, W), got {array.shape}")
    h, w = array.shape[2], array.shape[3]
    if height is not None and (h, w) != (height, width):
        raise InvalidArgument(f"{field}.shape: expected (N, 3, {height}, {width}) for this "
                              f"model, got {tuple(array.shape)}")
    if stride is not None and (h < stride[0] or w < stride[1] or h % stride[0]
                               or w % stride[1]):
        raise InvalidArgument(f"{field}.shape: H and W must be positive multiples of "
                              f"{stride[0]}x{stride[1]}, got {tuple(array.shape)}")
    if not np.isfinite(array).all():
        raise InvalidArgument(f"{field}: contains NaN or Inf")
    # A copy: arrays decoded from a request are read-only views of its bytes.
    return torch.from_numpy(np.array(array, dtype=np.float32, order="C"))
