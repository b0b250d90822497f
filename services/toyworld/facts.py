"""WordNet facts about the toyworld classes, frozen into `wordnet_facts.json`.

The scene captions speak WordNet's language (lemmas, synonyms, hypernyms, glosses, parts), but
training must not depend on the lexicon's set-up, so the facts are extracted once from WordNet
3.0 and committed. `cliplens toyworld facts` rewrites the file (through the lexicon's WordNet
reader: toyworld itself imports nothing of the lexicon, which builds its `toyworld` dictionary
from these classes); a unit test checks it is not stale against the real WordNet.

The file is training data: the order of a class's hypernyms and the distance recorded for one
reached by two paths steer which hypernym a caption names, so rewriting it changes the captions
and a model trained afterwards. NLTK keeps a synset's pointers in a set, so the path order it
returns changes with the process's hash seed; `build_facts` sorts the paths, and the freshness
test compares what WordNet says (the hypernyms, their path lengths), not the committed order.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from cliplens.toyworld.objects import CLASSES

FACTS_PATH = Path(__file__).with_name("wordnet_facts.json")

# Lemmas that would name another toyworld thing or a different sense in a caption.
_EXCLUDED_LEMMAS = {"car.n.01": {"machine"}, "bicycle.n.01": {"wheel"}}
# Hypernyms too abstract to say anything about a drawing.
_TOO_ABSTRACT = {"entity.n.01", "physical_entity.n.01", "object.n.01", "whole.n.02"}


def _lemmas(synset) -> list[str]:
    return [name.replace("_", " ") for name in synset.lemma_names()
            if name.lower() == name]


def build_facts(wordnet) -> dict:
    """Extract the facts of every class and part from an NLTK WordNet reader."""
    facts: dict[str, dict] = {"classes": {}, "synsets": {}}

    def describe(synset) -> None:
        facts["synsets"].setdefault(synset.name(), {
            "lemmas": _lemmas(synset) or [synset.lemma_names()[0].replace("_", " ")],
            "gloss": synset.definition(),
        })

    for toy in CLASSES:
        synset = wordnet.synset(toy.synset)
        describe(synset)
        lemmas = [x for x in facts["synsets"][toy.synset]["lemmas"]
                  if x not in _EXCLUDED_LEMMAS.get(toy.synset, set())]
        hypernyms = []
        paths = sorted(synset.hypernym_paths(), key=lambda p: [s.name() for s in reversed(p)])
        for path in paths:
            for distance, hyper in enumerate(reversed(path[:-1]), start=1):
                if hyper.name() in _TOO_ABSTRACT:
                    continue
                describe(hyper)
                if hyper.name() not in [h for h, _ in hypernyms]:
                    hypernyms.append((hyper.name(), distance))
        for part_synset in toy.parts.values():
            if part_synset:
                describe(wordnet.synset(part_synset))
        facts["classes"][toy.synset] = {
            "lemmas": lemmas,
            "hypernyms": [{"synset": h, "distance": d} for h, d in hypernyms],
            "parts": toy.parts,
            "meronyms": sorted(m.name() for m in synset.part_meronyms()),
        }
    return facts


def comparable(facts: dict) -> dict:
    """The facts with each class's hypernyms as {synset: distance} sets of all path lengths.

    Two fact files that agree here say the same about WordNet, whichever path order each met.
    """
    out = {"synsets": facts["synsets"], "classes": {}}
    for name, info in facts["classes"].items():
        out["classes"][name] = {**info, "hypernyms": sorted(h["synset"] for h in info["hypernyms"])}
    return out


def path_distances(wordnet, synset: str) -> dict[str, set[int]]:
    """Every distance at which each hypernym of `synset` lies on some hypernym path."""
    found: dict[str, set[int]] = {}
    for path in wordnet.synset(synset).hypernym_paths():
        for distance, hyper in enumerate(reversed(path[:-1]), start=1):
            found.setdefault(hyper.name(), set()).add(distance)
    return found


@cache
def load_facts() -> dict:
    """The committed facts (lemmas, glosses, hypernyms and parts of every class)."""
    return json.loads(FACTS_PATH.read_text())


def write_facts(wordnet) -> Path:
    """Rewrite `wordnet_facts.json` from an NLTK WordNet reader; the path written."""
    facts = build_facts(wordnet)
    FACTS_PATH.write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
    load_facts.cache_clear()
    return FACTS_PATH
