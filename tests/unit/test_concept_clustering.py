import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.mutual import concepts_kmeans, concepts_pca, kmeans


def test_pca_concepts_hand_computed():
    feats = np.array([[2, 0], [-2, 0], [0, 1], [0, -1]], dtype=np.float32)
    fg = np.ones((1, 2, 2), dtype=bool)
    # components x (var 2) and y (var .5); scaled scores x: 1 0 .5 .5, y: .5 .5 1 0
    labels = concepts_pca(feats, fg, (2, 2), num_concepts=2)
    np.testing.assert_array_equal(labels, [[[0, 1], [1, 0]]])
    assert labels.dtype == np.int32


def test_pca_concepts_mark_background_and_leave_inputs():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(2, 9, 6)).astype(np.float32)
    fg = np.zeros((2, 3, 3), dtype=bool)
    fg[0, :2] = True
    fg[1, 1:] = True
    before = feats.copy(), fg.copy()
    labels = concepts_pca(feats, fg, (3, 3), num_concepts=3)
    assert labels.shape == (2, 3, 3)
    assert np.all(labels[~fg] == -1) and np.all((labels[fg] >= 0) & (labels[fg] < 3))
    np.testing.assert_array_equal(feats, before[0])
    np.testing.assert_array_equal(fg, before[1])
    empty = concepts_pca(feats, np.zeros_like(fg), (3, 3))
    assert np.all(empty == -1)


def test_kmeans_hand_computed_and_numbered_by_size():
    points = np.array([[0, 0], [0, 0.1], [5, 5], [5, 5.1], [5, 4.9]])
    np.testing.assert_array_equal(kmeans(points, 2, seed=0), [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(kmeans(points, 2, seed=7), [1, 1, 0, 0, 0])
    assert kmeans(points[:1].repeat(4, axis=0), 3, seed=0).tolist() == [0, 0, 0, 0]


def test_kmeans_concepts_are_seeded_and_separate_clusters():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 12))
    assignment = np.repeat([0, 1, 2], [8, 5, 3])
    feats = (centres[assignment] + 0.01 * rng.normal(size=(16, 12))).astype(np.float32)
    fg = np.ones((1, 4, 4), dtype=bool)
    labels = concepts_kmeans(feats, fg, (4, 4), num_concepts=3, seed=0).reshape(-1)
    np.testing.assert_array_equal(labels, assignment)  # cluster 0 is the largest
    again = concepts_kmeans(feats, fg, (4, 4), num_concepts=3, seed=0)
    np.testing.assert_array_equal(again.reshape(-1), labels)
    with pytest.raises(InvalidArgument, match="num_concepts"):
        concepts_kmeans(feats, fg, (4, 4), num_concepts=0)
    with pytest.raises(InvalidArgument, match="one per image"):
        concepts_kmeans(feats, np.ones((2, 4, 4), dtype=bool), (4, 4))
