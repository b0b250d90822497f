import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.surgery import combined_point_prompts, parse_point_query, point_prompts


def test_point_prompts_hand_computed():
    grid = np.zeros((4, 4), dtype=np.float32)
    grid[:2, :2] = 1.0  # downsampled x2 -> cell (0, 0) = 1, the other three 0
    points = point_prompts(grid, (100, 200))
    # n = min(#cells >= 0.8, 4 / 2) = 1; cells are 50 x 100 pixels
    np.testing.assert_allclose(points.positive, [[50.0, 25.0]])
    np.testing.assert_allclose(points.negative, [[150.0, 25.0]])  # first of the tied zeros
    assert points.positive.dtype == np.float32


def test_point_count_is_capped_at_half_the_cells():
    grid = np.ones((6, 6), dtype=np.float32)
    grid[0, 0] = 0.0  # 8 of 9 coarse cells stay >= 0.8 after scaling
    points = point_prompts(grid, (60, 60))
    assert len(points.positive) == len(points.negative) == 4
    # the weakest cell is the one that held the zero
    np.testing.assert_allclose(points.negative[0], [10.0, 10.0])


def test_point_prompts_order_and_threshold():
    grid = np.arange(16, dtype=np.float32).reshape(4, 4)  # coarse cells 2.5, 4.5, 10.5, 12.5
    points = point_prompts(grid, (4, 4), threshold=0.6)  # scaled 0, .2, .8, 1 -> n = 2
    np.testing.assert_allclose(points.positive, [[3.0, 3.0], [1.0, 3.0]])
    np.testing.assert_allclose(points.negative, [[1.0, 1.0], [3.0, 1.0]])
    with pytest.raises(InvalidArgument, match="threshold"):
        point_prompts(grid, (4, 4), threshold=0.0)


def test_constant_map_gives_no_points():
    points = point_prompts(np.full((4, 4), 0.3, dtype=np.float32), (8, 8))
    assert points.positive.shape == (0, 2) and points.negative.shape == (0, 2)


def test_combined_query_positives_per_class_negatives_from_the_mean():
    a = np.zeros((4, 4), dtype=np.float32)
    a[:2, :2] = 1.0
    b = np.zeros((4, 4), dtype=np.float32)
    b[2:, 2:] = 5.0
    before = np.stack([a, b])
    maps = before.copy()
    points = combined_point_prompts(maps, (40, 40))
    np.testing.assert_array_equal(maps, before)
    np.testing.assert_allclose(points.positive, [[10.0, 10.0], [30.0, 30.0]])
    # mean map: 0.5 at (0,0) and (1,1), 0 elsewhere -> n = 2, weakest cells (0,1) then (1,0)
    np.testing.assert_allclose(points.negative, [[30.0, 10.0], [10.0, 30.0]])


def test_parse_point_query():
    labels = ["person", "bench", "dog"]
    assert parse_point_query("person+bench", labels) == [0, 1]
    assert parse_point_query(" dog ", labels) == [2]
    with pytest.raises(InvalidArgument, match="'cat'"):
        parse_point_query("person+cat", labels)
    with pytest.raises(InvalidArgument, match="empty"):
        parse_point_query("person+", labels)
