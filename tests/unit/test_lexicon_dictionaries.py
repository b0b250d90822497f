"""ConVis concept dictionaries: hypernym-path unions, stable order and hash, subtrees, presets."""

from __future__ import annotations

import hashlib

import pytest

from cliplens.core.errors import InvalidArgument, NotFound
from cliplens.lexicon.dictionaries import build_dictionary, content_hash, words_id
from cliplens.lexicon.index import DEFAULT_INDEX, ensure_index
from cliplens.lexicon.presets import PRESETS, toyworld_words
from cliplens.lexicon.synsets import WordNet
from cliplens.toyworld.objects import CLASSES


@pytest.fixture(scope="module")
def wn() -> WordNet:
    return WordNet(ensure_index(DEFAULT_INDEX))


@pytest.fixture(scope="module")
def presets(wn):
    return {p.id: build_dictionary(wn, p.words(wn), id=p.id, name=p.name, source="preset")
            for p in PRESETS.values()}


def _paths_union(wn, words):
    """The spec's rule computed the slow way: every synset on every hypernym path."""
    from cliplens.lexicon.wordnet import open_wordnet

    nltk_wn = open_wordnet()
    out = set()
    for word in words:
        for sense in nltk_wn.synsets(word, "n"):
            for path in sense.hypernym_paths():
                out.update(s.name() for s in path)
    return out


def test_small_dictionary_is_the_union_of_hypernym_paths(wn):
    words = ["dog", "cat", "wheels", "sailboat"]
    d = build_dictionary(wn, words, name="pets", source="words")
    assert {e.synset for e in d.entries} == _paths_union(wn, words)
    assert [e.synset for e in d.entries] == sorted(e.synset for e in d.entries)
    assert "entity.n.01" in d.positions and "wheel.n.01" in d.positions
    dog = d.entries[d.positions["dog.n.01"]]
    assert dog.definition.startswith("a member of the genus Canis")
    assert dog.lemmas == ("dog", "domestic_dog", "Canis_familiaris")


def test_identity_is_content_derived_and_order_free(wn):
    a = build_dictionary(wn, ["dog", "cat"], name="a", source="words")
    b = build_dictionary(wn, ["cat", "dog", "Dog", " cat "], name="b", source="words")
    assert a.content_hash == b.content_hash and a.id == b.id == words_id(a.content_hash)
    assert a.id.startswith("words-") and len(a.id) == len("words-") + 12
    lines = "".join(f"{e.synset}\t{e.definition}\t{','.join(e.lemmas)}\n" for e in a.entries)
    assert a.content_hash == hashlib.sha256(lines.encode()).hexdigest()
    assert content_hash(a.entries) == a.content_hash
    c = build_dictionary(wn, ["dog", "bird"], name="c", source="words")
    assert c.content_hash != a.content_hash


def test_synset_ids_in_word_lists_add_that_synset_only(wn):
    d = build_dictionary(wn, ["clock_face.n.01"], name="x", source="words")
    assert "clock_face.n.01" in d.positions and "face.n.01" not in d.positions
    assert d.words == ("clock_face.n.01",)


def test_unknown_words_are_reported_and_all_unknown_refused(wn):
    d = build_dictionary(wn, ["dog", "qwertyuiop", "run.v.01"], name="x", source="words")
    assert d.unknown_words == ("qwertyuiop", "run.v.01")
    with pytest.raises(InvalidArgument, match="none of the 2"):
        build_dictionary(wn, ["qwertyuiop", "zzzzz"], name="x", source="words")


def test_word_list_limits_name_the_entry(wn):
    with pytest.raises(InvalidArgument, match=r"words\[1\]"):
        build_dictionary(wn, ["dog", "  "], name="x", source="words")
    with pytest.raises(InvalidArgument, match="at most 2 words, got 3"):
        build_dictionary(wn, ["a", "b", "c"], name="x", source="words", max_words=2)
    with pytest.raises(InvalidArgument, match="at least one word"):
        build_dictionary(wn, [], name="x", source="words")
    with pytest.raises(InvalidArgument, match="name"):
        build_dictionary(wn, ["dog"], name=" ", source="words")


def test_subtree_is_the_concept_and_its_hyponyms_in_the_dictionary(wn, presets):
    physical = presets["physical"]
    indices = physical.subtree(wn, "bird.n.01")
    names = [physical.entries[i].synset for i in indices]
    assert indices == sorted(indices) and names[0] == "accentor.n.01"
    brute = sorted(i for i, e in enumerate(physical.entries)
                   if "bird.n.01" in wn.ancestors(e.synset))
    assert indices == brute
    assert "bird.n.01" in names and "dog.n.01" not in names
    with pytest.raises(NotFound, match="not in dictionary 'toyworld'"):
        presets["toyworld"].subtree(wn, "golden_retriever.n.01")


def test_dictionaries_are_closed_upwards(wn, presets):
    for d in presets.values():
        for e in d.entries[::50]:
            assert wn.ancestors(e.synset) <= d.positions.keys()


def test_toyworld_preset_holds_every_class_and_part(wn, presets):
    toy = presets["toyworld"]
    for cls in CLASSES:
        assert cls.synset in toy.positions
        for part in cls.parts.values():
            assert part is None or part in toy.positions
    assert "wheel.n.01" in toy.positions  # "wheels" through morphy
    vehicles = [toy.entries[i].synset for i in toy.subtree(wn, "vehicle.n.01")]
    for name in ("car.n.01", "truck.n.01", "bicycle.n.01", "sailboat.n.01", "airplane.n.01"):
        assert name in vehicles
    assert "tree.n.01" not in vehicles
    words = toyworld_words()
    assert words[:len(CLASSES)] == [c.synset.split(".")[0] for c in CLASSES]


def test_physical_preset_size_and_stability(wn, presets):
    physical = presets["physical"]
    assert len(physical.words) == 2000
    assert 5000 < physical.size < 10000  # the paper's 1,980 words gave 7,080 synsets
    assert physical.words[:5] == ("house", "water", "room", "body", "tree")
    again = build_dictionary(wn, PRESETS["physical"].words(wn), id="physical", name="p",
                             source="preset")
    assert again.content_hash == physical.content_hash
    assert 30 < len(physical.subtree(wn, "bird.n.01")) < 150
