import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.blur import gaussian_blur, gaussian_kernel, opencv_sigma


def test_opencv_kernel_for_11x11():
    assert opencv_sigma(11) == pytest.approx(2.0)
    kernel = gaussian_kernel(2.0, 11)
    assert kernel.sum() == pytest.approx(1.0) and kernel.argmax() == 5
    assert kernel[4] / kernel[5] == pytest.approx(np.exp(-1 / 8))


def test_blur_hand_computed_with_reflect_101_borders():
    line = np.zeros((1, 5), dtype=np.float64)
    line[0, 0] = 1.0
    out = gaussian_blur(line, 1.0, ksize=3)
    k = gaussian_kernel(1.0, 3)
    # mirror without repeating the edge: index -1 reads index 1 (a zero)
    np.testing.assert_allclose(out[0, :2], [k[1], k[0]])


def test_blur_keeps_dtype_constant_images_and_input():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(12, 9, 3), dtype=np.uint8)
    before = image.copy()
    out = gaussian_blur(image, ksize=11)
    np.testing.assert_array_equal(image, before)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert out.std() < image.std()
    flat = np.full((6, 6, 3), 77, dtype=np.uint8)
    np.testing.assert_array_equal(gaussian_blur(flat, 3.0), flat)
    with pytest.raises(InvalidArgument, match="odd"):
        gaussian_blur(image, ksize=4)
