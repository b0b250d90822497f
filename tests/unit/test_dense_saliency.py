import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.resample import resize_bilinear
from cliplens.explanation.convis import dense_concept_maps


def test_dense_map_hand_computed():
    e = np.eye(3, dtype=np.float32)
    tokens = np.stack([e[0], 0.6 * e[0] + 0.8 * e[1], e[1], 0.6 * e[1] + 0.8 * e[2]])
    before = tokens.copy()
    maps = dense_concept_maps(tokens, (2, 2), e, [[0], [1, 2]], (4, 6))
    np.testing.assert_array_equal(tokens, before)
    # concept 0 ranks: 0, 1, 1, 2 -> saliency 1, .5, .5, 0; concept {1, 2}: 1, 0, 0, 0 -> 0, 1, 1, 1
    # (up to the similarity tie-break, under 1e-3 of a rank)
    np.testing.assert_allclose(maps.grid[0], [[1.0, 0.5], [0.5, 0.0]], atol=1e-3)
    np.testing.assert_allclose(maps.grid[1], [[0.0, 1.0], [1.0, 1.0]], atol=1e-3)
    assert maps.grid.dtype == maps.full.dtype == np.float32
    assert maps.full.shape == (2, 4, 6)
    np.testing.assert_allclose(maps.full, resize_bilinear(maps.grid, (4, 6)))


def test_dense_map_constant_rank_is_zero_and_grid_must_fit():
    e = np.eye(3, dtype=np.float32)
    maps = dense_concept_maps(np.tile(e[:1], (4, 1)), (2, 2), e, [[0]], (2, 2))
    assert not maps.full.any()
    with pytest.raises(InvalidArgument, match="drop the class token"):
        dense_concept_maps(np.tile(e[:1], (5, 1)), (2, 2), e, [[0]], (2, 2))


def test_dense_map_breaks_rank_ties_by_similarity():
    e = np.eye(3, dtype=np.float32)
    # Concept {1, 2} is top-ranked on patches 1, 2 and 3; patch 2 is e[1] itself.
    tokens = np.stack([e[0], 0.6 * e[0] + 0.8 * e[1], e[1], 0.6 * e[1] + 0.8 * e[2]])
    maps = dense_concept_maps(tokens, (2, 2), e, [[0], [1, 2]], (2, 2))
    assert int(np.argmax(maps.grid[1])) == 2
    assert maps.grid[1].max() == 1.0 and 0.999 < maps.grid[1].reshape(-1)[1] < 1.0
    # A tie-break never reorders distinct ranks: patch 0 (rank 1) stays the least salient.
    assert int(np.argmin(maps.grid[1])) == 0
