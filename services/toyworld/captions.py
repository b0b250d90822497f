"""Captions for toyworld scenes, in the language ConVis and the descriptor banks speak.

Captions mix lemmas and synonyms, hypernyms, WordNet glosses, colours, counts, positions and
parts, so the text tower learns that "a conveyance that transports people or objects" and "a red
car with black wheels" both describe a drawn car.
"""

from __future__ import annotations

import numpy as np

from cliplens.toyworld.facts import load_facts
from cliplens.toyworld.scene import Scene, SceneObject

_NUMBERS = {1: "one", 2: "two", 3: "three"}
_BACKGROUND_WORDS = {"solid": "plain", "gradient": "gradient", "sky_ground": "outdoor",
                     "texture": "colorful", "noise": "noisy"}
# The prompt of the zero-shot classifier (also used to train it). Kept short: toyworld's text
# context is 32 tokens.
# Each template takes a noun phrase with its article ("an airplane").
ZERO_SHOT_TEMPLATES = ("a photo of {}.", "a drawing of {}.", "a picture of {}.",
                       "{} in the scene.")


def plural(noun: str) -> str:
    """English plural of a lemma ('bus' -> 'buses', 'sailing boat' -> 'sailing boats')."""
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def article(phrase: str) -> str:
    """'a' or 'an' before a phrase."""
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def _noun(rng: np.random.Generator, synset: str) -> str:
    lemmas = load_facts()["classes"][synset]["lemmas"]
    return lemmas[0] if rng.random() < 0.6 else _pick(rng, lemmas)


def _hypernym(rng: np.random.Generator, synset: str) -> str:
    """A hypernym of the class, nearer ones more often."""
    facts = load_facts()
    hypers = facts["classes"][synset]["hypernyms"]
    weights = np.array([1.0 / h["distance"] for h in hypers])
    chosen = hypers[int(rng.choice(len(hypers), p=weights / weights.sum()))]["synset"]
    return chosen


def _part_phrase(rng: np.random.Generator, obj: SceneObject) -> str:
    name = _pick(rng, list(obj.parts))
    colour = obj.part_colours[name]
    return f"{colour} {name}" if rng.random() < 0.6 else name


def object_phrase(rng: np.random.Generator, obj: SceneObject) -> str:
    """A noun phrase for one object: 'a [colour] noun [with part] [on the position]'."""
    noun = _noun(rng, obj.synset)
    phrase = f"{obj.colour} {noun}" if rng.random() < 0.6 else noun
    r = rng.random()
    if r < 0.25:
        phrase += f" with {_part_phrase(rng, obj)}"
    elif r < 0.45:
        phrase += f" on the {obj.position}"
    return f"{article(phrase)} {phrase}"


def _single_caption(rng: np.random.Generator, obj: SceneObject, scene: Scene) -> str:
    facts = load_facts()
    r = rng.random()
    if r < 0.12:  # the class gloss, bare, as ConVis embeds it
        return facts["synsets"][obj.synset]["gloss"]
    if r < 0.22:  # a hypernym, by lemma or by gloss
        hyper = _hypernym(rng, obj.synset)
        info = facts["synsets"][hyper]
        if rng.random() < 0.5:
            return info["gloss"]
        lemma = _pick(rng, info["lemmas"])
        return _pick(rng, (f"a kind of {lemma}", f"{article(lemma)} {lemma}",
                           f"a photo of {article(lemma)} {lemma}."))
    if r < 0.32:  # a part, as the descriptor banks describe classes
        name = _pick(rng, list(obj.parts))
        part_synset = facts["classes"][obj.synset]["parts"].get(name)
        if part_synset and rng.random() < 0.4:
            return f"a photo showing {facts['synsets'][part_synset]['gloss']}"
        return _pick(rng, (f"a photo showing {obj.part_colours[name]} {name}",
                           f"the {name} of the {_noun(rng, obj.synset)}",
                           f"{article(name)} {name}"))
    template = _pick(rng, ZERO_SHOT_TEMPLATES + (
        "{}", "{} on a " + _BACKGROUND_WORDS[scene.background] + " background",
        "a close-up of {}" if scene.kind == "zoom" else "a photo of {}"))
    return template.format(object_phrase(rng, obj))


def caption(rng: np.random.Generator, scene: Scene) -> str:
    """One caption of the scene (captions are sampled; call again for another)."""
    objects = list(scene.objects)
    if not objects:
        return "an empty scene"
    if len(objects) == 1:
        return _single_caption(rng, objects[0], scene)
    r = rng.random()
    if r < 0.2:  # one object of several, as a partial description
        return _single_caption(rng, _pick(rng, objects), scene)
    synsets = {o.synset for o in objects}
    if r < 0.35 and len(synsets) == 1:
        noun = _noun(rng, objects[0].synset)
        return f"{_NUMBERS[len(objects)]} {plural(noun)}"
    if r < 0.5:
        names = [load_facts()["synsets"][_hypernym(rng, o.synset)]["lemmas"][0]
                 if rng.random() < 0.3 else _noun(rng, o.synset) for o in objects]
        names = [f"{article(n)} {n}" for n in names]
        return "a photo of " + (" and ".join(names) if len(names) == 2
                                else f"{names[0]}, {names[1]} and {names[2]}")
    phrases = [object_phrase(rng, o) for o in objects]
    if len(phrases) == 2:
        return f"{phrases[0]} and {phrases[1]}"
    return f"{phrases[0]}, {phrases[1]} and {phrases[2]}"


def class_prompts(synset: str) -> list[str]:
    """The zero-shot prompts of a class: every template with the class's first lemma."""
    label = load_facts()["classes"][synset]["lemmas"][0]
    return [t.format(f"{article(label)} {label}") for t in ZERO_SHOT_TEMPLATES]
