import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.core.tensors import from_proto, to_proto
from cliplens.v1 import common_pb2 as pb


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "int64", "int32", "uint8",
                                   "bool"])
def test_round_trip_keeps_values_shape_and_dtype(dtype):
    rng = np.random.default_rng(0)
    a = (rng.normal(size=(3, 4, 5)) * 10).astype(dtype)
    b = from_proto(to_proto(a))
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_bytes_are_little_endian_c_order():
    t = to_proto(np.array([[1, 2], [3, 4]], dtype=">i4").T)  # big-endian, Fortran view
    assert t.data == np.array([[1, 3], [2, 4]], dtype="<i4").tobytes()


def test_scalar_and_empty():
    assert from_proto(to_proto(np.float32(3.5))) == np.float32(3.5)
    assert from_proto(to_proto(np.zeros((0, 4), np.float32))).shape == (0, 4)


def test_wrong_byte_count_names_field_and_sizes():
    t = pb.Tensor(dtype=pb.DATA_TYPE_FLOAT32, shape=[2, 3], data=b"\0" * 20)
    with pytest.raises(InvalidArgument, match=r"pixels.data: expected 24 bytes .* got 20"):
        from_proto(t, name="pixels")


def test_shape_and_dtype_expectations():
    t = to_proto(np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(InvalidArgument, match=r"expected \(\*, 3, 80, 80\), got \(1, 3, 8, 8\)"):
        from_proto(t, name="pixels", shape=(None, 3, 80, 80))
    with pytest.raises(InvalidArgument, match="expected DATA_TYPE_UINT8, got DATA_TYPE_FLOAT32"):
        from_proto(t, dtypes=[pb.DATA_TYPE_UINT8])
    with pytest.raises(InvalidArgument, match="expected 2 dimensions"):
        from_proto(t, ndim=2)


def test_nan_rejected_only_when_asked():
    t = to_proto(np.array([1.0, np.nan], np.float32))
    assert np.isnan(from_proto(t)).any()
    with pytest.raises(InvalidArgument, match="NaN or Inf"):
        from_proto(t, finite=True)


def test_unspecified_dtype_and_negative_and_huge_shapes():
    with pytest.raises(InvalidArgument, match="unsupported"):
        from_proto(pb.Tensor(shape=[1], data=b"\0"))
    with pytest.raises(InvalidArgument, match="negative"):
        from_proto(pb.Tensor(dtype=pb.DATA_TYPE_UINT8, shape=[-1], data=b""))
    with pytest.raises(InvalidArgument, match="elements"):
        from_proto(pb.Tensor(dtype=pb.DATA_TYPE_UINT8, shape=[1 << 20, 1 << 20], data=b""))

