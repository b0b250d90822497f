"""Descriptors derived from WordNet: short gloss phrases, parts, substances, kinds."""

from __future__ import annotations

import pytest

from cliplens.lexicon.descriptors import MAX_WORDS, descriptors, gloss_phrases
from cliplens.lexicon.index import DEFAULT_INDEX, ensure_index
from cliplens.lexicon.synsets import WordNet
from cliplens.toyworld.objects import CLASSES


@pytest.fixture(scope="module")
def wn() -> WordNet:
    return WordNet(ensure_index(DEFAULT_INDEX))


def test_gloss_is_split_into_short_phrases():
    assert gloss_phrases("a motor vehicle with four wheels; usually propelled by an internal "
                         "combustion engine") == [
        "a motor vehicle with four wheels", "usually propelled by an internal combustion engine"]
    long = ("any succulent plant of the family Cactaceae native chiefly to arid regions of the "
            "New World and usually having spines")
    phrases = gloss_phrases(long)
    assert all(len(p.split()) <= MAX_WORDS for p in phrases)
    assert "usually having spines" in phrases
    assert gloss_phrases("a shelter (usually of canvas) for camping") == [
        "a shelter for camping"]


def test_car_descriptors(wn):
    found = descriptors(wn, wn.get("car.n.01"))
    assert found[0] == "a motor vehicle with four wheels"
    assert "has a car door" in found and "has an air bag" in found
    assert found[-1] == "a kind of motor vehicle"


def test_substances_and_inherited_parts(wn):
    tree = descriptors(wn, wn.get("tree.n.01"))
    assert "made of heartwood" in tree and "has a trunk" in tree
    sailboat = descriptors(wn, wn.get("sailboat.n.01"))
    assert "has a mast" in sailboat  # from sailing_vessel.n.01 / vessel.n.02


def test_toyworld_classes_get_short_unique_descriptors(wn):
    for cls in CLASSES:
        found = descriptors(wn, wn.get(cls.synset))
        assert len(found) >= 3, cls.synset
        assert all(0 < len(d.split()) <= MAX_WORDS for d in found)
        assert len({d.lower() for d in found}) == len(found)
        assert any(d.startswith("a kind of ") for d in found)


def test_deterministic(wn):
    r = wn.get("bird.n.01")
    assert descriptors(wn, r) == descriptors(wn, r)
