import numpy as np
import pytest
from convis_fakes import SquareWorld, dictionary

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.convis import (
    ConceptRanker,
    ConvisGeometry,
    StochasticSampler,
    rank_score,
    stochastic_maps,
)


def test_rank_score_hand_computed():
    np.testing.assert_allclose(rank_score([0, 5, 10, 11], 10),
                               [1.0, 2 * (np.exp(-2.5) - 0.5), -1.0, -1.0])


def test_windows_follow_the_schedule_and_geometry():
    ranker = ConceptRanker(dictionary(), [[0, 1]])
    sampler = StochasticSampler(80, ranker, iterations=40, restart_every=20, windows_per_step=4,
                                seed=1)
    geometry = ConvisGeometry.for_size(80)
    world = SquareWorld()
    sides = []
    while (boxes := sampler.propose()) is not None:
        assert len(boxes) == 4
        side = boxes[:, 2] - boxes[:, 0]
        sides.extend(side.tolist())
        np.testing.assert_allclose(boxes[:, 3] - boxes[:, 1], side, rtol=1e-5)
        assert np.all(boxes[:, 0] == np.round(boxes[:, 0]))  # whole-pixel positions
        assert np.all(boxes[:, 2] > 0) and np.all(boxes[:, 0] < 80)  # overlaps the crop
        assert np.all(boxes[:, 0] >= -geometry.padding - 1e-4)
        assert np.all(boxes[:, 2] <= 80 + geometry.padding + 1e-4)
        sampler.feed(world(boxes))
    np.testing.assert_allclose(sides[:20], geometry.large, rtol=1e-6)
    np.testing.assert_allclose(sides[20:], geometry.small, rtol=1e-6)
    assert sampler.finished and sampler.done == 40


def test_steps_do_not_cross_restarts():
    ranker = ConceptRanker(dictionary(), [[0], [2]])
    sampler = StochasticSampler(32, ranker, iterations=25, restart_every=10, windows_per_step=4,
                                seed=0)
    world = SquareWorld(obj=(5, 5, 20, 20))
    counts = []
    while (boxes := sampler.propose()) is not None:
        counts.append(len(boxes) // 2)
        sampler.feed(world(boxes))
    assert counts == [4, 4, 2, 4, 4, 2, 4, 1]


def test_stochastic_map_is_seeded_and_finds_the_object():
    dictionary_embeddings = dictionary()
    first = stochastic_maps(80, SquareWorld(), dictionary_embeddings, [[0, 1]], seed=3)
    again = stochastic_maps(80, SquareWorld(), dictionary_embeddings, [[0, 1]], seed=3)
    other = stochastic_maps(80, SquareWorld(), dictionary_embeddings, [[0, 1]], seed=4)
    np.testing.assert_array_equal(first.maps, again.maps)
    assert not np.array_equal(first.maps, other.maps)
    assert first.windows == 600 and first.maps.shape == (1, 80, 80)
    assert first.maps.dtype == np.float32
    assert first.maps.min() == 0.0 and first.maps.max() == 1.0
    saliency = first.maps[0]
    y, x = np.unravel_index(np.argmax(saliency), saliency.shape)
    assert 20 <= x < 50 and 30 <= y < 60
    assert saliency[30:60, 20:50].mean() > saliency[:, :12].mean() + 0.2


def test_one_window_per_step_is_the_sequential_sampler():
    world = SquareWorld()
    result = stochastic_maps(80, world, dictionary(), [[0, 1]], iterations=20, restart_every=10,
                             windows_per_step=1, seed=0)
    assert world.calls == 20 and result.windows == 20


def test_protocol_errors():
    ranker = ConceptRanker(dictionary(), [[0]])
    sampler = StochasticSampler(32, ranker, iterations=10, seed=0)
    with pytest.raises(InvalidArgument, match="no windows"):
        sampler.feed(np.zeros((1, 8)))
    boxes = sampler.propose()
    with pytest.raises(InvalidArgument, match="not fed back"):
        sampler.propose()
    with pytest.raises(InvalidArgument, match=f"expected {len(boxes)} rows"):
        sampler.feed(SquareWorld()(boxes[:-1]))
    with pytest.raises(InvalidArgument, match="iterations"):
        StochasticSampler(32, ranker, iterations=0)


def test_one_window_multiplies_exactly_the_pixels_it_covers():
    dictionary_embeddings = dictionary()
    ranker = ConceptRanker(dictionary_embeddings, [[0]])
    sampler = StochasticSampler(224, ranker, iterations=1, restart_every=1, seed=5)
    boxes = sampler.propose()
    sampler.feed(dictionary_embeddings[:1])  # the concept itself: rank 0, score 1
    x0, y0, x1, y1 = boxes[0].astype(int)
    expected = np.zeros((224, 224), dtype=np.float32)
    expected[max(y0, 0):y1, max(x0, 0):x1] = 1.0
    np.testing.assert_array_equal(sampler.maps()[0], expected)
    assert sampler.propose() is None


def test_rank_scale_replaces_the_subtree_size():
    dictionary_embeddings = dictionary()
    ranker = ConceptRanker(dictionary_embeddings, [[2]])  # a distractor: ranks well above 1
    window = dictionary_embeddings[3:4]  # another synset: the distractor ranks >= 1
    rank = int(ranker(window)[0, 0])
    assert rank >= 1  # so with |S| = 1 the score is -1
    wide = 10 * (rank + 1)
    for scale, expected in ((None, -1.0), (wide, rank_score([rank], wide)[0])):
        sampler = StochasticSampler(224, ranker, iterations=1, restart_every=1, seed=0,
                                    rank_scale=scale)
        boxes = sampler.propose()
        sampler.feed(window)
        x0, y0 = max(int(boxes[0, 0]), 0), max(int(boxes[0, 1]), 0)
        inside = sampler._total[0, y0 + sampler._pad, x0 + sampler._pad]
        assert inside == pytest.approx(1.0 + 0.002 * expected)
    with pytest.raises(InvalidArgument, match="rank_scale"):
        StochasticSampler(224, ranker, rank_scale=0)
