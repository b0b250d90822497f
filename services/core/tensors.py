"""numpy arrays <-> `cliplens.v1.Tensor` (dtype, shape, raw little-endian bytes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cliplens.core.errors import InvalidArgument
from cliplens.v1 import common_pb2 as pb

_TO_NUMPY: dict[int, np.dtype] = {
    pb.DATA_TYPE_FLOAT32: np.dtype("<f4"),
    pb.DATA_TYPE_FLOAT16: np.dtype("<f2"),
    pb.DATA_TYPE_FLOAT64: np.dtype("<f8"),
    pb.DATA_TYPE_INT64: np.dtype("<i8"),
    pb.DATA_TYPE_INT32: np.dtype("<i4"),
    pb.DATA_TYPE_UINT8: np.dtype("u1"),
    pb.DATA_TYPE_BOOL: np.dtype("?"),
}
_FROM_NUMPY = {dt.newbyteorder("="): code for code, dt in _TO_NUMPY.items()}
MAX_ELEMENTS = 1 << 31


def to_proto(array: np.ndarray) -> pb.Tensor:
    """Encode an array; bfloat16 torch tensors should be converted to float32 first."""
    array = np.asarray(array)
    code = _FROM_NUMPY.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"cannot send dtype {array.dtype} as a Tensor")
    data = np.ascontiguousarray(array, dtype=_TO_NUMPY[code]).tobytes()
    return pb.Tensor(dtype=pb.DataType.ValueType(code), shape=list(array.shape), data=data)


def from_proto(tensor: pb.Tensor, *, name: str = "tensor",
               dtypes: Sequence[int] | None = None, ndim: int | None = None,
               shape: Sequence[int | None] | None = None, finite: bool = False) -> np.ndarray:
    """Decode and validate a Tensor; errors name the field, expected and actual values.

    `shape` may contain None for free dimensions. `finite` rejects NaN and Inf.
    """
    if tensor.dtype not in _TO_NUMPY:
        raise InvalidArgument(f"{name}.dtype: unsupported value {tensor.dtype}")
    if dtypes is not None and tensor.dtype not in dtypes:
        want = ", ".join(pb.DataType.Name(d) for d in dtypes)
        raise InvalidArgument(
            f"{name}.dtype: expected {want}, got {pb.DataType.Name(tensor.dtype)}")
    dims = list(tensor.shape)
    if any(d < 0 for d in dims):
        raise InvalidArgument(f"{name}.shape: negative dimension in {dims}")
    count = int(np.prod(dims, dtype=np.int64)) if dims else 1
    if count > MAX_ELEMENTS:
        raise InvalidArgument(f"{name}.shape: {dims} has {count} elements, max {MAX_ELEMENTS}")
    if ndim is not None and len(dims) != ndim:
        raise InvalidArgument(f"{name}.shape: expected {ndim} dimensions, got {dims}")
    if shape is not None:
        ok = len(dims) == len(shape) and all(
            w is None or w == d for w, d in zip(shape, dims, strict=True))
        if not ok:
            want = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
            raise InvalidArgument(f"{name}.shape: expected {want}, got {tuple(dims)}")
    dtype = _TO_NUMPY[tensor.dtype]
    if len(tensor.data) != count * dtype.itemsize:
        raise InvalidArgument(
            f"{name}.data: expected {count * dtype.itemsize} bytes for shape {tuple(dims)} "
            f"and {dtype.name}, got {len(tensor.data)}")
    array = np.frombuffer(tensor.data, dtype=dtype).reshape(dims)
    if finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InvalidArgument(f"{name}: contains NaN or Inf")
    return array.astype(dtype.newbyteorder("="), copy=False)
