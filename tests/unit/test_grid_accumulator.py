import numpy as np
import pytest
from convis_fakes import SquareWorld, dictionary

from cliplens.core.errors import FailedPrecondition, InvalidArgument
from cliplens.explanation.convis import GridAccumulator, grid_maps, grid_windows


def test_mean_rank_and_saliency_hand_computed():
    boxes = np.array([[0, 0, 2, 4], [1, 0, 4, 4]], dtype=np.float32)
    accumulator = GridAccumulator(4, boxes, 1)
    accumulator.add(0, [[2.0], [0.0]])
    # column 0: only window 0 (2); column 1: both (1); columns 2, 3: window 1 (0)
    np.testing.assert_allclose(accumulator.mean_ranks()[0], np.tile([2.0, 1.0, 0.0, 0.0], (4, 1)))
    np.testing.assert_allclose(accumulator.maps()[0], np.tile([0.0, 0.5, 1.0, 1.0], (4, 1)))
    assert accumulator.maps().dtype == np.float32


def test_fractional_windows_weigh_partly_covered_pixels():
    boxes = np.array([[0, 0, 1.5, 1], [0, 0, 2, 1]], dtype=np.float32)
    accumulator = GridAccumulator(2, boxes, 1)
    accumulator.add(0, [[4.0], [1.0]])
    # pixel 1: 0.5 x 4 + 1 x 1 over weight 1.5
    np.testing.assert_allclose(accumulator.mean_ranks()[0, 0], [2.5, 2.0])


def test_chunks_in_any_order_equal_one_add():
    rng = np.random.default_rng(0)
    boxes = grid_windows(32)
    ranks = rng.integers(0, 50, size=(len(boxes), 3))
    whole = GridAccumulator(32, boxes, 3)
    whole.add(0, ranks)
    chunked = GridAccumulator(32, boxes, 3)
    for offset in (500, 0, 250):
        chunked.add(offset, ranks[offset:offset + 250])
    assert chunked.added == chunked.total == len(boxes)
    np.testing.assert_allclose(chunked.maps(), whole.maps(), atol=1e-6)


def test_add_checks_offsets_and_duplicates():
    accumulator = GridAccumulator(8, grid_windows(8), 2)
    with pytest.raises(FailedPrecondition):
        accumulator.maps()
    accumulator.add(0, np.zeros((10, 2)))
    with pytest.raises(InvalidArgument, match="already added"):
        accumulator.add(5, np.zeros((10, 2)))
    with pytest.raises(InvalidArgument, match="within"):
        accumulator.add(725, np.zeros((10, 2)))
    with pytest.raises(InvalidArgument, match="2 columns"):
        accumulator.add(20, np.zeros((10, 3)))


def test_partial_grid_counts_uncovered_pixels_least_salient():
    boxes = np.array([[0, 0, 2, 2], [2, 2, 4, 4]], dtype=np.float32)
    accumulator = GridAccumulator(4, boxes, 1)
    accumulator.add(0, [[3.0]])
    mean = accumulator.mean_ranks()[0]
    assert np.all(mean == 3.0)
    assert not accumulator.maps().any()  # constant: zeros, not NaN


def test_grid_map_finds_the_object_in_a_fake_world():
    world = SquareWorld(obj=(20, 30, 50, 60))
    result = grid_maps(80, world, dictionary(), [[0, 1], [2]], chunk_size=200)
    assert result.windows == 730 and world.calls == 4
    assert result.maps.shape == (2, 80, 80) and result.maps.dtype == np.float32
    assert result.maps.min() >= 0.0 and result.maps.max() <= 1.0
    y, x = np.unravel_index(np.argmax(result.maps[0]), (80, 80))
    assert 20 <= x < 50 and 30 <= y < 60
    inside = result.maps[0, 30:60, 20:50].mean()
    outside = np.concatenate([result.maps[0, :, :15].ravel(), result.maps[0, :, 55:].ravel()])
    assert inside > outside.mean() + 0.3
