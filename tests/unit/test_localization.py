import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.evaluation import box_hits, box_iou, max_box_acc, pointing_game


def test_pointing_game_first_maximum_counts():
    saliency = np.zeros((3, 3), dtype=np.float32)
    saliency[1, 2] = saliency[2, 0] = 1.0
    mask = np.zeros((3, 3), dtype=bool)
    mask[1, 2] = True
    assert pointing_game(saliency, mask)
    mask[:] = False
    mask[2, 0] = True
    assert not pointing_game(saliency, mask)
    with pytest.raises(InvalidArgument, match="as the map"):
        pointing_game(saliency, np.zeros((2, 3), dtype=bool))


def test_box_iou_hand_computed():
    np.testing.assert_allclose(box_iou([0, 0, 2, 2], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]),
                               [1 / 7, 1.0, 0.0])


def test_box_hits_threshold_by_threshold():
    saliency = np.zeros((10, 10), dtype=np.float32)
    saliency[2:6, 2:6] = 0.5
    saliency[3:5, 3:5] = 1.0
    saliency[8, 8] = 0.7  # a lone pixel that is not the largest component at t <= 0.7
    hits = box_hits(saliency, [[2, 2, 6, 6]], thresholds=[0.0, 0.3, 0.5, 0.6, 0.9])
    # t=0: whole image (IoU .16); t in (0, .5]: the 4x4 square; above: the 2x2 core (IoU .25)
    np.testing.assert_array_equal(hits, [False, True, True, False, False])
    assert not box_hits(saliency, []).any()


def test_max_box_acc_over_a_dataset():
    square = np.zeros((8, 8), dtype=np.float32)
    square[2:6, 2:6] = np.linspace(0.2, 1.0, 16).reshape(4, 4)
    result = max_box_acc([square, square], [[[2, 2, 6, 6]], [[0, 0, 1, 1], [2, 2, 6, 6]]])
    assert result.accuracies.shape == (100,) and result.thresholds[1] == 0.01
    assert result.score == 1.0
    assert result.best_threshold == pytest.approx(0.01)  # first threshold above the background
    assert result.accuracies[0] == 0.0  # t = 0 keeps the whole image
    with pytest.raises(InvalidArgument, match="one list per map"):
        max_box_acc([square], [])
