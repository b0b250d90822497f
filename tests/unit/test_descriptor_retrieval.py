import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.mutual import (
    concept_importance,
    retrieve_visual_descriptors,
    sinkhorn,
    textual_descriptors,
)


def norm(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


E = np.eye(4, dtype=np.float32)
BANK = np.stack([E[0], E[1], norm(E[0] + E[1]), norm(E[0] + 0.5 * E[1]), norm(0.5 * E[0] + E[1]),
                 E[3]])
TEXTS = ["d0", "d1", "d2", "d3", "d4", "d5"]
CONCEPTS = np.stack([E[0], E[1]])
IMAGE = norm(E[0] + E[1] + E[2])


def test_sinkhorn_hand_computed():
    np.testing.assert_allclose(sinkhorn(np.log([[1.0, 2.0], [2.0, 1.0]]), 50),
                               [[1 / 3, 2 / 3], [2 / 3, 1 / 3]])
    plan = sinkhorn(np.random.default_rng(0).normal(size=(3, 6)), 1000)
    np.testing.assert_allclose(plan.sum(axis=0), 1.0)
    np.testing.assert_allclose(plan.sum(axis=1), 2.0, rtol=1e-6)


def test_intersection_filter_and_transport():
    # top-4 of concept 0: d0 d3 d2 d4; of concept 1: d1 d4 d2 d3 -> intersection d2 d3 d4
    result = retrieve_visual_descriptors(CONCEPTS, IMAGE, BANK, TEXTS, top=4, per_concept=1)
    assert not result.fallback and result.candidates == 3
    assert result.per_concept == [[3], [4]]  # each concept's own-leaning descriptor
    assert result.texts == ["d3", "d4"]
    np.testing.assert_allclose(result.relevance, 2.5 * BANK[[3, 4]] @ IMAGE, rtol=1e-6)
    # cosines to the image: d2 .816, d3 = d4 .775, mean .789: a zero margin keeps only d2
    strict = retrieve_visual_descriptors(CONCEPTS, IMAGE, BANK, TEXTS, top=4, margin=0.0)
    assert strict.candidates == 1 and strict.texts == ["d2"]
    loose = retrieve_visual_descriptors(CONCEPTS, IMAGE, BANK, TEXTS, top=4, margin=None)
    assert loose.candidates == 3 and sorted(loose.texts) == ["d2", "d3", "d4"]
    assert loose.texts[0] == "d2"  # the most relevant first
    assert np.all(np.diff(loose.relevance) <= 0)


def test_empty_intersection_falls_back_to_each_concepts_top():
    result = retrieve_visual_descriptors(CONCEPTS, IMAGE, BANK, TEXTS, top=1)
    assert result.fallback and result.candidates == 0
    assert result.per_concept == [[0, 3, 2], [1, 4, 2]]
    assert sorted(result.texts) == ["d0", "d1", "d2", "d3", "d4"]
    assert result.texts[0] == "d2"


def test_duplicate_texts_count_once_and_inputs_stay():
    texts = ["d0", "d1", "same", "d3", "same", "d5"]
    before = BANK.copy(), CONCEPTS.copy(), IMAGE.copy()
    result = retrieve_visual_descriptors(CONCEPTS, IMAGE, BANK, texts, top=4, margin=None)
    assert len(result.texts) == len(set(result.texts))
    np.testing.assert_array_equal(BANK, before[0])
    np.testing.assert_array_equal(CONCEPTS, before[1])
    np.testing.assert_array_equal(IMAGE, before[2])
    with pytest.raises(InvalidArgument, match="6 texts"):
        retrieve_visual_descriptors(CONCEPTS, IMAGE, BANK, texts[:3])


def test_concept_importance_hand_computed():
    importance = concept_importance(CONCEPTS, IMAGE, BANK, [[3], []])
    expected = (CONCEPTS[0] @ IMAGE) * (BANK[3] @ IMAGE)
    np.testing.assert_allclose(importance, [expected, 0.0], rtol=1e-6)


def test_textual_descriptors_top_u_without_duplicates():
    result = textual_descriptors(E[0], BANK, TEXTS, u=2)
    assert result.texts == ["d0", "d3"]
    np.testing.assert_allclose(result.scores, [1.0, BANK[3, 0]], rtol=1e-6)
    dup = textual_descriptors(E[0], BANK, ["d0", "x", "d0", "y", "z", "w"], u=2)
    assert dup.texts == ["d0", "y"] and dup.indices.tolist() == [0, 3]
