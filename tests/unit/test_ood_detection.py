import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.convis import ood_scores


def test_naive_and_hierarchy_scores_hand_computed():
    e = np.eye(3, dtype=np.float32)
    images = np.stack([e[0], 0.6 * e[1] + 0.8 * e[2]])
    dictionary = e
    np.testing.assert_allclose(ood_scores(images, dictionary, 1, [1, 2], "naive"), [0.0, 0.6])
    hierarchy = ood_scores(images, dictionary, 1, [2], "hierarchy")
    np.testing.assert_allclose(hierarchy, [0.0, 0.8])
    assert hierarchy.dtype == np.float32


def test_unknown_method_and_out_of_range_concept():
    e = np.eye(3, dtype=np.float32)
    with pytest.raises(InvalidArgument, match="'naive' or 'hierarchy'"):
        ood_scores(e, e, 0, [0], "best")
    with pytest.raises(InvalidArgument, match="concept_index"):
        ood_scores(e, e, 3, [0])
