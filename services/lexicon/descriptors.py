"""Textual descriptors of a class derived from WordNet (the mutual-knowledge descriptor bank).

For a class synset, in this order:
1. its gloss as short phrases: split at ';', parentheses removed, clauses longer than
   `MAX_WORDS` split at commas and connectives ("and", "that", "having", ...);
2. its parts: "has a <part>" for each part meronym (and those of its hypernyms, two levels up,
   when it has fewer than three of its own);
3. its substances: "made of <substance>";
4. its attributes (adjectives, e.g. "large");
5. its kinds: "a kind of <hypernym>" (and "a <class>" for an instance's class).

Descriptors are at most `MAX_WORDS` words and de-duplicated ignoring case. The mutual-knowledge
method embeds each as "a photo showing {descriptor}".
"""

from __future__ import annotations

import re

from cliplens.lexicon.synsets import SynsetRecord, WordNet

MAX_WORDS = 12
MIN_OWN_PARTS = 3
INHERIT_LEVELS = 2
_PARENS = re.compile(r"\s*\([^()]*\)")
_LEADING = re.compile(r"^(?:and|or|but) ")
# Where an over-long clause may be cut, most natural first.
_CUTS = (", ", "; ", " and ", " that ", " which ", " having ", " usually ", " typically ",
         " with ", " used ", " for ", " of ")


def gloss_phrases(definition: str) -> list[str]:
    """The gloss as phrases of at most MAX_WORDS words."""
    text = _PARENS.sub("", definition)
    phrases = []
    for clause in text.split(";"):
        phrases.extend(_short(clause.strip(" ,.")))
    return [p for p in phrases if p]


def _short(clause: str) -> list[str]:
    words = clause.split()
    if len(words) <= MAX_WORDS:
        return [" ".join(words)] if words else []
    for cut in _CUTS:
        pieces = clause.split(cut)
        # Keep the connective with the piece it introduces ("having spines", "with a neck").
        keep = cut.strip() if cut.strip() not in (",", ";", "and") else ""
        pieces = [pieces[0], *(f"{keep} {p}".strip() for p in pieces[1:])]
        if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
            return [s for p in pieces for s in _short(_LEADING.sub("", p.strip(" ,")))]
    return [" ".join(words[:MAX_WORDS])]


def _word(name: str, wordnet: WordNet) -> str:
    """A synset's first lemma as words ("car window")."""
    return wordnet.synset(name).words[0]


def _article(noun: str) -> str:
    if noun[:1].isupper():
        return noun  # a proper name ("the Louvre" is just "Louvre" in WordNet)
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _parts(wordnet: WordNet, record: SynsetRecord) -> list[str]:
    parts = list(record.related("part_meronyms"))
    if len(parts) < MIN_OWN_PARTS:
        level = [record]
        for _ in range(INHERIT_LEVELS):
            level = [wordnet.synset(h) for r in level for h in r.related("hypernyms")]
            parts.extend(p for r in level for p in r.related("part_meronyms"))
    return list(dict.fromkeys(parts))


def descriptors(wordnet: WordNet, record: SynsetRecord) -> list[str]:
    """Short descriptors of the class `record` (see the module docstring for the rules)."""
    out = list(gloss_phrases(record.definition))
    out += [f"has {_article(_word(p, wordnet))}" for p in _parts(wordnet, record)]
    out += [f"made of {_word(s, wordnet)}" for s in record.related("substance_meronyms")]
    out += [_word(a, wordnet) for a in record.related("attributes")]
    out += [f"a kind of {_word(h, wordnet)}" for h in record.related("hypernyms")]
    out += [_article(_word(h, wordnet)) for h in record.related("instance_hypernyms")]
    seen: set[str] = set()
    kept = []
    for text in out:
        text = " ".join(text.split()[:MAX_WORDS])
        if text and text.lower() not in seen:
            seen.add(text.lower())
            kept.append(text)
    return kept
