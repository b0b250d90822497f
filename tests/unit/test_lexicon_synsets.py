"""WordNet lookups over the prepared index, checked against NLTK's own reader as the oracle."""

from __future__ import annotations

import pytest

from cliplens.core.errors import InvalidArgument, NotFound
from cliplens.lexicon.ids import is_synset_id
from cliplens.lexicon.index import DEFAULT_INDEX, RELATIONS, ensure_index
from cliplens.lexicon.synsets import WordNet, edit_distance, normalise_lemma


@pytest.fixture(scope="module")
def wn() -> WordNet:
    return WordNet(ensure_index(DEFAULT_INDEX))


@pytest.fixture(scope="module")
def nltk_wn():
    from cliplens.lexicon.wordnet import open_wordnet

    return open_wordnet()


def test_index_holds_all_of_wordnet_3_0(wn):
    assert wn.meta["wordnet_version"] == "3.0"
    assert wn.meta["synsets"] == "117659"  # WordNet 3.0: 82,115 nouns + 35,544 others


@pytest.mark.parametrize("ident", ["dog.n.01", "n02084071", "02084071-n", "2084071-n",
                                   " Dog.n.01 ", "dog.n.1"])
def test_three_id_forms_reach_the_same_synset(wn, ident):
    r = wn.get(ident)
    assert (r.name, r.offset, r.wnid, r.pos) == ("dog.n.01", 2084071, "n02084071", "n")
    assert r.lemmas == ("dog", "domestic_dog", "Canis_familiaris")
    assert r.definition.startswith("a member of the genus Canis")
    assert "the dog barked all night" in r.examples
    assert r.lexname == "noun.animal"


def test_names_follow_nltk_sense_numbering(wn, nltk_wn):
    # NLTK reads "lemma.pos.NN" as the NN-th sense of the lemma, whatever the synset's name.
    for name in ("dog.n.03", "dog.n.05", "good.a.06", "good.s.06", "bank.n.02", "run.v.03",
                 "golden_retriever.n.01", "quickly.r.01", "car.n.01"):
        assert wn.get(name).name == nltk_wn.synset(name).name(), name


def test_satellite_wnid_uses_the_adjective_file_letter(wn):
    r = wn.get("adept.s.01")
    assert r.pos == "s" and r.wnid == f"a{r.offset:08d}"
    assert wn.get(r.wnid).name == "adept.s.01"
    assert wn.get(f"{r.offset:08d}-s").name == "adept.s.01"


@pytest.mark.parametrize("bad", ["dog", "", "   ", "n0208407", "dog.x.01", "02084071n",
                                 "x" * 300])
def test_malformed_ids_are_invalid_argument(wn, bad):
    with pytest.raises(InvalidArgument, match="id: expected"):
        wn.get(bad)


def test_plain_lemma_points_to_search(wn):
    with pytest.raises(InvalidArgument, match="SearchSynsets"):
        wn.get("dog")


def test_unknown_name_suggests_close_synsets(wn):
    with pytest.raises(NotFound) as e:
        wn.get("dgo.n.01")
    message = str(e.value)
    assert message.startswith("synset 'dgo.n.01' not found; did you mean dog.n.01")
    with pytest.raises(NotFound, match="kitten.n.01"):
        wn.get("kitetn.n.01")


def test_sense_number_out_of_range_lists_the_senses(wn):
    with pytest.raises(NotFound, match=r"dog has 7 n sense\(s\): dog.n.01, dog.n.02"):
        wn.get("dog.n.99")


def test_unknown_offset_is_not_found(wn):
    with pytest.raises(NotFound, match="offset 99999999"):
        wn.get("n99999999")


def test_relations_match_nltk(wn, nltk_wn):
    for name in ("car.n.01", "bird.n.01", "tree.n.01", "paris.n.01", "water.n.01",
                 "forest.n.01", "flock.n.02", "size.n.01"):
        ours, theirs = wn.synset(name), nltk_wn.synset(name)
        for relation in (*RELATIONS, "attributes"):
            expected = sorted(t.name() for t in getattr(theirs, relation)())
            assert list(ours.related(relation)) == expected, (name, relation)


def test_depths_match_nltk(wn, nltk_wn):
    for name in ("entity.n.01", "dog.n.01", "paris.n.01", "car.n.01", "run.v.01",
                 "golden_retriever.n.01", "good.a.01"):
        ours, theirs = wn.synset(name), nltk_wn.synset(name)
        assert (ours.min_depth, ours.max_depth) == (theirs.min_depth(), theirs.max_depth())


@pytest.mark.parametrize("word,pos", [
    ("Dogs", None), ("geese", "n"), ("mice", "n"), ("glasses", "n"), ("running", "v"),
    ("better", "a"), ("wheels", "n"), ("arms", "n"), ("quickly", "r"), ("churches", "n"),
    ("good", "s"), ("women", "n"), ("flew", None),
])
def test_search_matches_nltk_morphy(wn, nltk_wn, word, pos):
    _, found = wn.search(word, pos)
    expected = list(dict.fromkeys(s.name() for s in nltk_wn.synsets(word, pos)))
    assert [r.name for r in found] == expected


def test_search_is_case_space_and_underscore_tolerant(wn):
    for text in ("golden retriever", "Golden_Retriever", "  GOLDEN   retriever "):
        lemma, found = wn.search(text, "n")
        assert lemma == "golden_retriever"
        assert found[0].name == "golden_retriever.n.01"


def test_search_reports_the_base_form_and_limits(wn):
    lemma, found = wn.search("Dogs", "n", limit=2)
    assert lemma == "dog" and [r.name for r in found] == ["dog.n.01", "frump.n.01"]


def test_search_unknown_lemma_is_not_found_with_suggestions(wn):
    with pytest.raises(NotFound, match="did you mean bicycle"):
        wn.search("bycicle")
    with pytest.raises(InvalidArgument):
        wn.search("  ")


def test_expand_hyponyms_by_depth_and_limit(wn, nltk_wn):
    root = wn.get("bird.n.01")
    one, truncated = wn.expand(root, "hyponyms", max_depth=1)
    assert not truncated
    assert sorted(r.name for r, _ in one) == sorted(s.name() for s in
                                                    nltk_wn.synset("bird.n.01").hyponyms())
    assert {d for _, d in one} == {1}
    everything, _ = wn.expand(root, "hyponyms")
    closure = {s.name() for s in nltk_wn.synset("bird.n.01").closure(lambda s: s.hyponyms())}
    assert {r.name for r, _ in everything} == closure
    depths = [d for _, d in everything]
    assert depths == sorted(depths) and max(depths) > 1  # breadth first
    first, truncated = wn.expand(root, "hyponyms", limit=5)
    assert truncated and [r.name for r, _ in first] == [r.name for r, _ in everything[:5]]


def test_expand_hypernyms_reaches_the_root(wn):
    found, _ = wn.expand(wn.get("dog.n.01"), "hypernyms")
    names = [r.name for r, _ in found]
    assert names[-1] == "entity.n.01" and "canine.n.02" in names
    with pytest.raises(InvalidArgument, match="relation"):
        wn.expand(wn.get("dog.n.01"), "cousins")


def test_expand_meronyms_and_instances(wn):
    parts, _ = wn.expand(wn.get("car.n.01"), "part_meronyms", max_depth=1)
    assert "car_door.n.01" in {r.name for r, _ in parts}
    cities, _ = wn.expand(wn.get("national_capital.n.01"), "instance_hyponyms",
                          max_depth=1)
    assert "paris.n.01" in {r.name for r, _ in cities}


def test_lowest_common_hypernyms_match_nltk(wn, nltk_wn):
    pairs = [("dog.n.01", "cat.n.01"), ("car.n.01", "bicycle.n.01"),
             ("paris.n.01", "london.n.01"), ("dog.n.01", "dog.n.01"),
             ("tree.n.01", "flower.n.01")]
    for a, b in pairs:
        expected = sorted(s.name() for s in
                          nltk_wn.synset(a).lowest_common_hypernyms(nltk_wn.synset(b)))
        assert wn.lowest_common_hypernyms([wn.get(a), wn.get(b)]) == expected, (a, b)
    three = wn.lowest_common_hypernyms([wn.get(x) for x in ("dog.n.01", "cat.n.01",
                                                             "bird.n.01")])
    assert three == ["vertebrate.n.01"]
    assert wn.lowest_common_hypernyms([wn.get("dog.n.01"), wn.get("run.v.01")]) == []


def test_helpers():
    assert normalise_lemma("  Golden   Retriever ") == "golden_retriever"
    assert is_synset_id("dog.n.01") and is_synset_id("n02084071") and is_synset_id("2084071-n")
    assert not is_synset_id("dog") and not is_synset_id("dog.n")
    assert edit_distance("dgo", "dog") == 1 and edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
