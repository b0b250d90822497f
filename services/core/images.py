"""Decoding untrusted encoded images with limits, and encoding maps and overlays as PNG."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cliplens.core.errors import InvalidArgument

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")


@dataclass(frozen=True, kw_only=True)
class ImageLimits:
    """Bounds on what a service agrees to decode."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 16384


DEFAULT_LIMITS = ImageLimits()


def decode_image(data: bytes, *, limits: ImageLimits = DEFAULT_LIMITS,
                 name: str = "image") -> Image.Image:
    """Decode PNG/JPEG/WebP bytes into an RGB image, or raise InvalidArgument saying why.

    The header is read before any pixel, so a decompression bomb is refused without
    allocating it. Animated images give their first frame; 16-bit, palette, alpha, grey and
    CMYK images are converted to 8-bit RGB (alpha composited on black); EXIF orientation is
    applied.
    """
    if not data:
        raise InvalidArgument(f"{name}: empty image data")
    if len(data) > limits.max_bytes:
        raise InvalidArgument(
            f"{name}: {len(data)} bytes exceeds the limit of {limits.max_bytes} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in ALLOWED_FORMATS:
                raise InvalidArgument(
                    f"{name}: format {img.format} not supported (use PNG, JPEG or WebP)")
            w, h = img.size
            if w <= 0 or h <= 0:
                raise InvalidArgument(f"{name}: zero-sized image {w}x{h}")
            if w > limits.max_side or h > limits.max_side or w * h > limits.max_pixels:
                raise InvalidArgument(
                    f"{name}: {w}x{h} exceeds the limit of {limits.max_pixels} pixels "
                    f"and {limits.max_side} per side")
            img.seek(0)
            img.load()
    except InvalidArgument:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InvalidArgument(f"{name}: refused as a decompression bomb ({e})") from None
    except UnidentifiedImageError:
        raise InvalidArgument(f"{name}: not a decodable image (expected PNG, JPEG or WebP)") \
            from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InvalidArgument(f"{name}: corrupt or truncated image ({e})") from None
    return _to_rgb(ImageOps.exif_transpose(img))


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if a.max() > 255 else 255.0
        img = Image.fromarray(np.clip(a / top * 255.0, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        a = np.nan_to_num(np.asarray(img, dtype=np.float64))
        lo, hi = float(a.min()), float(a.max())
        img = Image.fromarray(((a - lo) / (hi - lo + 1e-12) * 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("RGB")
    return img.convert("RGB")


def encode_png(array: np.ndarray | Image.Image) -> bytes:
    """PNG bytes of an (H, W) or (H, W, 3) uint8 array or a PIL image."""
    img = array if isinstance(array, Image.Image) else Image.fromarray(np.asarray(array))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def to_array(img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 array of an RGB image."""
    return np.asarray(img.convert("RGB"), dtype=np.uint8)
