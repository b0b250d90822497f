import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.evaluation import auroc


def test_auroc_hand_computed_with_ties_counted_half():
    assert auroc([3, 4], [1, 2]) == 1.0
    assert auroc([1, 2], [3, 4]) == 0.0
    # pairs: (2 vs 1) win, (2 vs 2) tie, (0 vs 1) loss, (0 vs 2) loss -> 1.5 / 4
    assert auroc([2, 0], [1, 2]) == pytest.approx(0.375)


def test_auroc_matches_pair_counting():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 30), rng.integers(0, 5, 20)
    pairs = (a[:, None] > b[None, :]).mean() + 0.5 * (a[:, None] == b[None, :]).mean()
    assert auroc(a, b) == pytest.approx(pairs)
    with pytest.raises(InvalidArgument, match="both sides"):
        auroc([], [1.0])
