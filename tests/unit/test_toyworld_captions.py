import os
import subprocess
import sys

import numpy as np

from cliplens.toyworld.captions import article, caption, class_prompts, plural
from cliplens.toyworld.facts import build_facts, comparable, load_facts, path_distances
from cliplens.toyworld.objects import CLASSES
from cliplens.toyworld.scene import render_scene


def test_facts_file_is_fresh_against_wordnet():
    from cliplens.lexicon.wordnet import open_wordnet

    wordnet = open_wordnet()
    committed = load_facts()
    assert comparable(build_facts(wordnet)) == comparable(committed), \
        "wordnet_facts.json is stale: run cliplens toyworld facts (and retrain)"
    for synset, info in committed["classes"].items():
        distances = path_distances(wordnet, synset)
        for h in info["hypernyms"]:
            assert h["distance"] in distances[h["synset"]], (synset, h)


def test_facts_do_not_depend_on_the_hash_seed():
    """NLTK's pointer sets iterate in hash order; the builder must not pass that order on."""
    code = ("import json; from cliplens.lexicon.wordnet import open_wordnet; "
            "from cliplens.toyworld.facts import build_facts; "
            "print(json.dumps(build_facts(open_wordnet())))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
            for seed in range(4)}
    assert len(outs) == 1


def test_every_class_and_part_is_a_wordnet_noun_synset():
    facts = load_facts()
    assert len(CLASSES) >= 16
    for toy in CLASSES:
        assert ".n." in toy.synset and toy.synset in facts["synsets"]
        for part in toy.parts.values():
            assert part is None or part in facts["synsets"]


def test_classes_share_hypernyms():
    facts = load_facts()
    members = {}
    for synset, info in facts["classes"].items():
        for h in info["hypernyms"]:
            members.setdefault(h["synset"], set()).add(synset)
    assert len(members["vehicle.n.01"]) >= 4
    assert len(members["plant.n.02"]) >= 3
    assert len(members["structure.n.01"]) >= 2
    assert len(members["container.n.01"]) >= 3


def test_captions_mention_what_is_drawn():
    rng = np.random.default_rng(0)
    facts = load_facts()
    for i in range(60):
        scene = render_scene("train", i)
        text = caption(rng, scene).lower()
        words = set()
        for obj in scene.objects:
            info = facts["classes"][obj.synset]
            words |= set(info["lemmas"]) | {obj.colour} | set(obj.parts)
            words |= {facts["synsets"][obj.synset]["gloss"].lower()}
            for h in info["hypernyms"]:
                words |= set(facts["synsets"][h["synset"]]["lemmas"])
                words.add(facts["synsets"][h["synset"]]["gloss"].lower())
            for p in info["parts"].values():
                if p:
                    words.add(facts["synsets"][p]["gloss"].lower())
        assert any(w.lower() in text for w in words), (text, [o.synset for o in scene.objects])


def test_grammar_helpers():
    assert plural("bus") == "buses" and plural("cherry") == "cherries" and plural("car") == "cars"
    assert article("airplane") == "an" and article("kite") == "a"
    assert class_prompts("airplane.n.01")[0] == "a photo of an airplane."
