"""The preset concept dictionaries (the one list of them) and the word lists they are built from.

- `toyworld`: the toyworld classes and their parts. Words: the first lemma of every class synset
  in `cliplens.toyworld.objects.CLASSES` ("car", "sailboat", "kite") and every part name
  ("wheels", "cargo area": all noun senses after morphy, so "wheels" gives "wheel"), plus the
  class and part synsets themselves by name (so that, e.g., clock_face.n.01, whose lemmas do not
  include the part's name "face", is in the dictionary).
- `physical`: frequent physical-object nouns chosen from WordNet itself by a fixed rule (see
  `physical_words`), computed when the prepared index is built and stored in it.

Both then follow the ConVis rule: the union of every hypernym path of every noun sense of every
word (`cliplens.lexicon.dictionaries.build_dictionary`).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cliplens.toyworld.objects import CLASSES

# Physical objects and materials; people (mostly roles such as "officer" or "patient", which a
# picture cannot tell apart) and locations ("area", "site") are left out.
PHYSICAL_ROOTS = ("object.n.01", "matter.n.03")
PHYSICAL_EXCLUDED = ("person.n.01", "location.n.01")
PHYSICAL_SIZE = 2000
_SIMPLE_WORD = re.compile(r"^[a-z]{3,}$")


@dataclass(frozen=True)
class Preset:
    """A dictionary cliplens defines itself: stable id, display name, and its word list."""

    id: str
    name: str
    description: str
    words: Callable[[object], list[str]]  # (WordNet) -> the word list


def toyworld_words(_wordnet: object = None) -> list[str]:
    """Class lemmas, part names and the class and part synsets of the toyworld world."""
    words: list[str] = []
    for cls in CLASSES:
        words.append(cls.synset.split(".")[0])
    for cls in CLASSES:
        words.extend(cls.parts)
    for cls in CLASSES:
        words.append(cls.synset)
        words.extend(s for s in cls.parts.values() if s)
    return list(dict.fromkeys(words))


def stored_physical_words(wordnet: Any) -> list[str]:
    """The `physical` word list stored in the prepared index."""
    return wordnet.preset_words("physical")


# The one list of presets: ListDictionaries, the CLI and the tests all read it.
PRESETS: dict[str, Preset] = {
    p.id: p for p in (
        Preset("toyworld", "toyworld classes and parts",
               "the 18 toyworld classes, their part names and part synsets", toyworld_words),
        Preset("physical", "frequent physical-object nouns",
               f"the {PHYSICAL_SIZE} most frequent WordNet nouns whose first sense is a "
               "physical object or material (single lowercase words, sense-tagged counts)",
               stored_physical_words),
    )
}


def physical_words(conn: sqlite3.Connection, size: int = PHYSICAL_SIZE) -> list[tuple[str, int]]:
    """The `physical` word list from a (partially built) index: [(word, count)], best first.

    Rule: a noun lemma qualifies when it is a single lowercase word of 3+ letters
    (`^[a-z]{3,}$`: no compounds, digits or proper names), its first sense (WordNet orders
    senses by frequency) is a common noun below object.n.01 or matter.n.03 by hypernym links
    and not below person.n.01 or location.n.01 (nor an instance, such as a city), and that sense
    was tagged at least once in the semantic concordance (`index.sense`). Words are ranked by
    that tag count, then by the tag count of all their noun senses, then alphabetically; the
    first `size` are kept.
    """
    hyponyms: dict[str, list[str]] = {}
    lemma_names: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for sid, name, lemmas, relations in conn.execute(
            "SELECT id, name, lemmas, relations FROM synsets WHERE pos = 'n'"):
        hyponyms[name] = json.loads(relations).get("hyponyms", [])
        lemma_names[sid] = json.loads(lemmas)
        names[sid] = name

    def below(roots: Iterable[str]) -> set[str]:
        seen, frontier = set(roots), list(roots)
        while frontier:
            frontier = [h for s in frontier for h in hyponyms[s] if h not in seen]
            seen.update(frontier)
        return seen

    physical = below(PHYSICAL_ROOTS) - below(PHYSICAL_EXCLUDED)
    totals = dict(conn.execute(
        "SELECT lemma, SUM(count) FROM lemmas WHERE pos = 'n' GROUP BY lemma"))
    chosen = []
    for lemma, sid, count in conn.execute(
            "SELECT lemma, synset, count FROM lemmas WHERE pos = 'n' AND rank = 0 AND count > 0"):
        if not _SIMPLE_WORD.match(lemma) or names[sid] not in physical:
            continue
        if lemma not in lemma_names[sid]:
            continue  # the synset spells it capitalised: a proper name
        chosen.append((lemma, count, totals[lemma]))
    chosen.sort(key=lambda w: (-w[1], -w[2], w[0]))
    return [(word, count) for word, count, _ in chosen[:size]]
