import numpy as np
import pytest
import torch

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.resample import minmax, resize_bilinear
from cliplens.explanation.surgery import similarity_maps


@pytest.mark.parametrize(("in_hw", "out_hw"), [
    ((3, 4), (7, 9)), ((10, 10), (80, 80)), ((8, 6), (4, 3)), ((5, 5), (2, 3)), ((1, 1), (4, 4))])
def test_resize_bilinear_matches_torch_align_corners_false(in_hw, out_hw):
    rng = np.random.default_rng(0)
    maps = rng.random((2, 3, *in_hw), dtype=np.float32)
    expected = torch.nn.functional.interpolate(torch.from_numpy(maps), size=out_hw,
                                               mode="bilinear", align_corners=False).numpy()
    out = resize_bilinear(maps, out_hw)
    assert out.shape == (2, 3, *out_hw) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_resize_bilinear_hand_computed():
    # [0, 1] upsampled to 4: source x = (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (clamped)
    np.testing.assert_allclose(resize_bilinear(np.array([[0.0, 1.0]]), (1, 4))[0],
                               [0.0, 0.25, 0.75, 1.0])


def test_minmax_scales_and_keeps_constant_slices_at_zero():
    values = np.array([[2.0, 4.0, 3.0], [5.0, 5.0, 5.0]])
    np.testing.assert_allclose(minmax(values, axis=1), [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]])
    assert minmax(values, axis=1).dtype == np.float32


def test_similarity_maps_drop_the_class_token_and_keep_row_major_order():
    grid_hw, classes = (2, 3), 2
    similarity = np.zeros((1, 7, classes), dtype=np.float32)
    similarity[0, 0, :] = 100.0  # the class token must not take part in the scaling
    similarity[0, 1 + 4, 0] = 1.0  # token 4 is row 1, column 1
    similarity[0, 1 + 2, 1] = -1.0  # token 2 is row 0, column 2: the minimum of class 1
    maps = similarity_maps(similarity, grid_hw, (4, 6))
    expected0 = np.zeros((2, 3))
    expected0[1, 1] = 1.0
    np.testing.assert_allclose(maps.grid[0, 0], expected0)
    expected1 = np.ones((2, 3))
    expected1[0, 2] = 0.0
    np.testing.assert_allclose(maps.grid[0, 1], expected1)
    assert maps.full.shape == (1, 2, 4, 6) and maps.full.dtype == np.float32
    np.testing.assert_allclose(maps.full, resize_bilinear(maps.grid, (4, 6)))


def test_similarity_maps_batch_range_and_constant_maps():
    rng = np.random.default_rng(1)
    similarity = rng.normal(size=(3, 1 + 16, 4)).astype(np.float32)
    similarity[2, :, 3] = 0.5  # constant: zeros, no NaN
    before = similarity.copy()
    maps = similarity_maps(similarity, (4, 4), (9, 7))
    np.testing.assert_array_equal(similarity, before)
    assert maps.grid.shape == (3, 4, 4, 4) and maps.full.shape == (3, 4, 9, 7)
    assert np.all(np.isfinite(maps.full))
    assert maps.full.min() >= 0.0 and maps.full.max() <= 1.0
    for b in range(3):
        for k in range(3):
            assert maps.grid[b, k].min() == 0.0 and maps.grid[b, k].max() == 1.0
    assert not maps.grid[2, 3].any() and not maps.full[2, 3].any()
    np.testing.assert_allclose(maps.grid[1, 2].reshape(-1), minmax(similarity[1, 1:, 2]))


def test_similarity_maps_refuse_a_grid_that_does_not_fit():
    with pytest.raises(InvalidArgument, match="tokens for grid"):
        similarity_maps(np.zeros((1, 10, 2), dtype=np.float32), (3, 4), (8, 8))
