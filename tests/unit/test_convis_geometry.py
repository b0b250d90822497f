import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.convis import ConvisGeometry, grid_windows
from cliplens.explanation.convis.convis_geometry import overlaps_crop, pixel_coverage


def test_algorithm1_geometry_at_224():
    geometry = ConvisGeometry.for_size(224)
    assert (geometry.padding, geometry.large, geometry.small, geometry.stride) == (128, 128, 64, 16)
    starts = geometry.starts()
    assert len(starts) == 30 and starts[0] == -128 and starts[-1] == 336
    everything = grid_windows(224, include_padding_only=True)
    assert everything.shape == (1800, 4) and everything.dtype == np.float32
    visible = grid_windows(224)
    # 21 x 21 large and 17 x 17 small windows overlap the crop; the rest see only padding
    sides = visible[:, 2] - visible[:, 0]
    assert np.count_nonzero(sides == 128) == 441 and np.count_nonzero(sides == 64) == 289
    assert overlaps_crop(visible, 224).all()
    assert not overlaps_crop(everything, 224).all()
    assert visible[:, :2].min() >= -128 and visible[:, 2:].max() <= 224 + 128
    np.testing.assert_array_equal(visible[:, 3] - visible[:, 1], sides)  # square


def test_every_central_pixel_is_covered_by_8x8_large_and_4x4_small_windows():
    boxes = grid_windows(224).astype(np.float64)
    large = (boxes[:, 2] - boxes[:, 0]) == 128
    for mask, expected in ((large, 64), (~large, 16)):
        cover_x = pixel_coverage(boxes[mask, 0], boxes[mask, 2], 224)
        cover_y = pixel_coverage(boxes[mask, 1], boxes[mask, 3], 224)
        np.testing.assert_array_equal(cover_y.T @ cover_x, expected)


def test_fractional_geometry_keeps_the_counts():
    geometry = ConvisGeometry.for_size(80)
    assert geometry.large == pytest.approx(128 * 80 / 224)
    assert len(grid_windows(80)) == 730 and len(grid_windows(80, include_padding_only=True)) == 1800
    with pytest.raises(InvalidArgument, match="input size"):
        ConvisGeometry.for_size(4)


def test_pixel_coverage_hand_computed():
    np.testing.assert_allclose(pixel_coverage([0.5], [2.25], 3)[0], [0.5, 1.0, 0.25])
    np.testing.assert_allclose(pixel_coverage([-3.0], [1.0], 3)[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(pixel_coverage([1.0], [2.0], 3, offset=-1.0)[0], [0.0, 0.0, 1.0])
