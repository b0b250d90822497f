"""Gaussian blur of images, as the faithfulness metrics and the concept prompts use it.

Separable convolution with border reflection that does not repeat the edge pixel (OpenCV's
default BORDER_REFLECT_101, scipy's "mirror"), so `gaussian_blur(img, 2.0, ksize=11)` is
`cv2.GaussianBlur(img, (11, 11), 0)` up to rounding.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from cliplens.core.errors import InvalidArgument


def gaussian_kernel(sigma: float, ksize: int) -> np.ndarray:
    """float64 (ksize,) normalised Gaussian taps centred on the middle one."""
    offsets = np.arange(ksize, dtype=np.float64) - (ksize - 1) / 2.0
    taps = np.exp(-(offsets ** 2) / (2.0 * sigma * sigma))
    return taps / taps.sum()


def opencv_sigma(ksize: int) -> float:
    """The sigma OpenCV derives from a kernel size when given 0 (2.0 for 11)."""
    return 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8


def gaussian_blur(image: ArrayLike, sigma: float | None = None, *,
                  ksize: int | None = None) -> np.ndarray:
    """Blur the two spatial axes of an (H, W) or (H, W, channels) image.

    Args:
        image: uint8 or float array; the result has the same dtype (uint8 is rounded).
        sigma: standard deviation in pixels; None derives it from `ksize` as OpenCV does.
        ksize: odd kernel size; None uses 2 * ceil(3 sigma) + 1.

    Returns:
        The blurred image; the input is left unchanged.
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise InvalidArgument(f"image: expected (H, W) or (H, W, C), got shape {array.shape}")
    if sigma is None and ksize is None:
        raise InvalidArgument("sigma: give sigma, ksize or both")
    if ksize is not None and (ksize < 1 or ksize % 2 == 0):
        raise InvalidArgument(f"ksize: expected an odd positive size, got {ksize}")
    sigma = opencv_sigma(ksize) if sigma is None and ksize is not None else float(sigma or 0)
    if sigma <= 0:
        raise InvalidArgument(f"sigma: expected a positive value, got {sigma}")
    ksize = ksize if ksize is not None else 2 * math.ceil(3 * sigma) + 1
    kernel = gaussian_kernel(sigma, ksize)
    blurred = array.astype(np.float64)
    for axis in (0, 1):
        blurred = ndimage.convolve1d(blurred, kernel, axis=axis, mode="mirror")
    if array.dtype == np.uint8:
        return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
    return blurred.astype(array.dtype)
