import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.convis import ConceptRanker, concept_ranks


def unit(rng, *shape):
    x = rng.normal(size=shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_concept_ranks_hand_computed():
    e = np.eye(3, dtype=np.float32)
    dictionary = np.vstack([e, (e[0] + e[1]) / np.sqrt(2)])  # similarities to e0: 1, 0, 0, .71
    ranks = concept_ranks(e[:1], dictionary, [[1], [3], [0, 2], [2, 1]])
    np.testing.assert_array_equal(ranks, [[2, 1, 0, 2]])
    assert ranks.dtype == np.int32


def test_concept_ranks_equal_min_rank_over_the_subtree():
    rng = np.random.default_rng(0)
    windows, dictionary = unit(rng, 30, 16), unit(rng, 50, 16)
    subtrees = [np.array([3, 7, 11]), np.array([0]), np.arange(40, 50)]
    similarity = windows @ dictionary.T
    full_ranks = np.argsort(np.argsort(-similarity, axis=1), axis=1)  # 0 = most similar
    expected = np.stack([full_ranks[:, tree].min(axis=1) for tree in subtrees], axis=1)
    np.testing.assert_array_equal(concept_ranks(windows, dictionary, subtrees), expected)


def test_ranker_chunks_equal_one_call_and_inputs_stay():
    rng = np.random.default_rng(1)
    windows, dictionary = unit(rng, 25, 8), unit(rng, 12, 8)
    before = windows.copy(), dictionary.copy()
    ranker = ConceptRanker(dictionary, [[0, 1], [5]])
    whole = ranker(windows)
    chunks = np.concatenate([ranker(windows[i:i + 7]) for i in range(0, 25, 7)])
    np.testing.assert_array_equal(whole, chunks)
    np.testing.assert_array_equal(ranker.subtree_sizes, [2, 1])
    np.testing.assert_array_equal(windows, before[0])
    np.testing.assert_array_equal(dictionary, before[1])


def test_ranker_refuses_bad_subtrees_and_unnormalised_input():
    rng = np.random.default_rng(2)
    dictionary = unit(rng, 5, 4)
    with pytest.raises(InvalidArgument, match=r"subtrees\[1\]: expected indices in \[0, 5\)"):
        ConceptRanker(dictionary, [[0], [5]])
    with pytest.raises(InvalidArgument, match="at least one concept"):
        ConceptRanker(dictionary, [])
    with pytest.raises(InvalidArgument, match="L2-normalised"):
        ConceptRanker(dictionary, [[0]])(unit(rng, 2, 4) * 2)


def test_tie_broken_ranks_order_equal_ranks_by_similarity_only():
    rng = np.random.default_rng(2)
    windows, dictionary = unit(rng, 200, 8), unit(rng, 30, 8)
    subtrees = [np.array([0, 4]), np.array([9])]
    ranker = ConceptRanker(dictionary, subtrees)
    ranks, scores = ranker(windows), ranker.tie_broken(windows)
    similarity = windows @ dictionary.T
    best = np.stack([similarity[:, t].max(axis=1) for t in subtrees], axis=1)
    np.testing.assert_allclose(scores, ranks - 1e-3 * best, rtol=0, atol=1e-9)
    for column in range(2):
        r, s = ranks[:, column], scores[:, column]
        lower = r[:, None] < r[None, :]
        assert (s[:, None] < s[None, :])[lower].all()  # distinct ranks keep their order
        equal = (r[:, None] == r[None, :]) & (best[:, None, column] > best[None, :, column])
        assert equal.any() and (s[:, None] < s[None, :])[equal].all()
