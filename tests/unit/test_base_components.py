import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.components import (
    label_components,
    largest_component,
    largest_component_box,
    largest_components,
    mask_box,
)

MASK = np.array([[1, 1, 0, 0, 1],
                 [0, 1, 0, 1, 0],
                 [0, 0, 0, 1, 1],
                 [1, 0, 0, 0, 0]], dtype=bool)


def test_four_and_eight_connectivity():
    labels, sizes = label_components(MASK, 4)
    np.testing.assert_array_equal(sizes, [3, 1, 3, 1])  # raster order of first pixel
    assert labels[0, 4] == 2 and labels[1, 3] == 3
    _, sizes8 = label_components(MASK, 8)
    np.testing.assert_array_equal(sizes8, [3, 4, 1])  # (0,4) joins (1,3) diagonally
    with pytest.raises(InvalidArgument, match="4 or 8"):
        label_components(MASK, 6)


def test_largest_components_ties_go_to_the_first():
    first, second = largest_components(MASK, 2)
    assert first[0, 0] and first.sum() == 3
    assert second[1, 3] and second.sum() == 3
    assert not largest_component(np.zeros((3, 3), dtype=bool)).any()


def test_boxes_have_exclusive_ends():
    assert mask_box(MASK) == (0, 0, 5, 4)
    assert largest_component_box(MASK) == (0, 0, 2, 2)
    assert largest_component_box(MASK, connectivity=8) == (3, 0, 5, 3)
    assert mask_box(np.zeros((2, 2), dtype=bool)) is None
