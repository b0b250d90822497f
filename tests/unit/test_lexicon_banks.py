"""Descriptor bank JSON: validation naming the entry, canonical hash, class mapping."""

from __future__ import annotations

import hashlib
import json

import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.lexicon.banks import (
    BankLimits,
    canonical_json,
    check_name,
    content_hash,
    map_class,
    parse_bank,
)
from cliplens.lexicon.index import DEFAULT_INDEX, ensure_index
from cliplens.lexicon.synsets import WordNet

LIMITS = BankLimits(max_bytes=10_000, max_classes=3, max_descriptors=4,
                    max_descriptor_chars=50, max_descriptor_words=8)


def test_valid_bank_is_cleaned_and_keeps_order():
    classes, warnings = parse_bank(json.dumps({
        "tench": ["  a fish ", "olive green\tscales", "a fish"],
        "goldfish": ["orange"]}), LIMITS)
    assert classes == [("tench", ["a fish", "olive green scales"]), ("goldfish", ["orange"])]
    assert warnings == ["class 'tench': descriptor 2 'a fish' repeats descriptor 0; dropped"]


@pytest.mark.parametrize("doc,match", [
    ("[1, 2]", "expected an object"),
    ("{}", "at least one class"),
    ("{not json", "not valid JSON"),
    ('{"a": []}', r"json\['a'\]: expected a non-empty list"),
    ('{"a": "text"}', r"json\['a'\]: expected a non-empty list"),
    ('{"a": ["x", 3]}', r"json\['a'\]\[1\]: expected a string"),
    ('{"a": ["x", "  "]}', r"json\['a'\]\[1\]: expected a non-empty descriptor"),
    ('{"a": ["x"], "a": ["y"]}', "class 'a' appears more than once"),
    ('{"a": ["x"], " a ": ["y"]}', "class 'a' appears more than once"),
    ('{"": ["x"]}', "class name"),
    ('{"a": ["1 2 3 4 5 6 7 8 9"]}', r"json\['a'\]\[0\]: expected at most 50 characters and "
                                     r"8 words, got 17 characters and 9 words"),
    (json.dumps({"a": ["x" * 51]}), r"json\['a'\]\[0\]"),
    ('{"a": ["1","2","3","4","5"]}', r"json\['a'\]: expected at most 4 descriptors, got 5"),
    ('{"a":["x"],"b":["x"],"c":["x"],"d":["x"]}', "at most 3 classes, got 4"),
    (json.dumps({"a": ["x"] * 3000}), "at most 10000 bytes"),
])
def test_malformed_banks_name_the_entry(doc, match):
    with pytest.raises(InvalidArgument, match=match):
        parse_bank(doc, LIMITS)


def test_content_hash_is_sha256_of_canonical_json():
    doc = {"b": ["two", "one"], "a": ["café"]}
    assert canonical_json(doc) == '{"a":["café"],"b":["two","one"]}'.encode()
    assert content_hash(doc) == hashlib.sha256(canonical_json(doc)).hexdigest()
    assert content_hash({"a": ["café"], "b": ["two", "one"]}) == content_hash(doc)
    assert content_hash({"a": ["café"], "b": ["one", "two"]}) != content_hash(doc)


@pytest.mark.parametrize("name", ["menon-vondrick", "a", "bank_2", "0" * 64])
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "Bank", "-x", "a b", "x" * 65, "é"])
def test_bad_names(name):
    with pytest.raises(InvalidArgument, match="name: expected"):
        check_name(name)


def test_class_mapping():
    wn = WordNet(ensure_index(DEFAULT_INDEX))
    assert map_class(wn, "great white shark") == "great_white_shark.n.01"
    assert map_class(wn, "Tench") == "tench.n.01"
    assert map_class(wn, "n02084071") == "dog.n.01"
    assert map_class(wn, "dog.n.01") == "dog.n.01"
    assert map_class(wn, "goldfishes") == "goldfish.n.01"
    assert map_class(wn, "not a real class") == ""
    assert map_class(wn, "dgo.n.01") == ""
