"""Validation of the arrays the explanation math takes, shared by its four packages.

Every check raises `InvalidArgument` naming the argument, what was expected and what came. The
helpers convert but never modify: a float32 input comes back as the same object, so callers must
not write into what they get (the math here never does).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument

# fp16 embeddings normalised on the embedding side and widened here are off by ~1e-3.
UNIT_NORM_TOLERANCE = 2e-2


def as_float32(name: str, value: ArrayLike, *,
               ndim: int | Sequence[int] | None = None) -> np.ndarray:
    """`value` as a finite float32 array (no copy when it already is one).

    Args:
        name: the argument's name, for the error message.
        value: anything `np.asarray` takes (numpy arrays, CPU torch tensors, lists).
        ndim: the allowed number of dimensions (one int or several).

    Raises:
        InvalidArgument: wrong number of dimensions, empty, or not finite.
    """
    array = np.asarray(value, dtype=np.float32)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise InvalidArgument(
                f"{name}: expected {' or '.join(map(str, allowed))} dimensions, "
                f"got shape {array.shape}")
    if array.size == 0:
        raise InvalidArgument(f"{name}: expected a non-empty array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidArgument(f"{name}: expected finite values, got NaN or infinity")
    return array


def check_unit_rows(name: str, array: np.ndarray, tolerance: float = UNIT_NORM_TOLERANCE) -> None:
    """Require every vector along the last axis to have L2 norm 1 (within `tolerance`).

    Raises:
        InvalidArgument: naming the worst norm found (forgot `normalize=True` upstream?).
    """
    norms = np.linalg.norm(array, axis=-1)
    worst = float(norms.flat[np.argmax(np.abs(norms - 1.0))])
    if abs(worst - 1.0) > tolerance:
        raise InvalidArgument(
            f"{name}: expected L2-normalised vectors (norm 1 +/- {tolerance}), "
            f"got a norm of {worst:.4g}")


def check_same_width(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Require two arrays to share their last (embedding) dimension."""
    if a.shape[-1] != b.shape[-1]:
        raise InvalidArgument(
            f"{name_b}: expected embedding width {a.shape[-1]} (as {name_a}), "
            f"got {b.shape[-1]}")


def as_hw(name: str, value: Sequence[int]) -> tuple[int, int]:
    """A (height, width) pair of positive ints."""
    try:
        height, width = (int(v) for v in value)
    except (TypeError, ValueError) as error:
        raise InvalidArgument(f"{name}: expected (height, width), got {value!r}") from error
    if height <= 0 or width <= 0:
        raise InvalidArgument(f"{name}: expected positive (height, width), got {(height, width)}")
    return height, width


def as_index_array(name: str, value: ArrayLike, size: int) -> np.ndarray:
    """A non-empty int64 array of indices into an axis of length `size`."""
    indices = np.asarray(value)
    if indices.ndim != 1 or indices.size == 0:
        raise InvalidArgument(f"{name}: expected a non-empty 1-D index array, got shape "
                              f"{indices.shape}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise InvalidArgument(f"{name}: expected integer indices, got dtype {indices.dtype}")
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= size:
        raise InvalidArgument(f"{name}: expected indices in [0, {size}), got [{low}, {high}]")
    return indices.astype(np.int64, copy=False)
