import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.convis import dense_concept_maps
from cliplens.explanation.surgery import resize_bilinear


def test_dense_map_hand_computed():
    e = np.eye(3, dtype=np.float32)
    tokens = np.stack([e[0], 0.6 * e[0] + 0.8 * e[1], e[1], 0.6 * e[1] + 0.8 * e[2]])
    before = tokens.copy()
    maps = dense_concept_maps(tokens, (2, 2), e, [[0], [1, 2]], (4, 6))
    np.testing.assert_array_equal(tokens, before)
    # concept 0 ranks: 0, 1, 1, 2 -> saliency 1, .5, .5, 0; concept {1, 2}: 1, 0, 0, 0 -> 0, 1, 1, 1
    np.testing.assert_allclose(maps.grid[0], [[1.0, 0.5], [0.5, 0.0]])
    np.testing.assert_allclose(maps.grid[1], [[0.0, 1.0], [1.0, 1.0]])
    assert maps.grid.dtype == maps.full.dtype == np.float32
    assert maps.full.shape == (2, 4, 6)
    np.testing.assert_allclose(maps.full, resize_bilinear(maps.grid, (4, 6)))


def test_dense_map_constant_rank_is_zero_and_grid_must_fit():
    e = np.eye(3, dtype=np.float32)
    maps = dense_concept_maps(np.tile(e[:1], (4, 1)), (2, 2), e, [[0]], (2, 2))
    assert not maps.full.any()
    with pytest.raises(InvalidArgument, match="drop the class token"):
        dense_concept_maps(np.tile(e[:1], (5, 1)), (2, 2), e, [[0]], (2, 2))
