"""ConVis concept dictionaries: the union of all hypernym paths of all noun senses of a word list.

A word-list entry is either a word (every noun sense, after morphy: "wheels" gives wheel's
senses) or a synset id ("clock_face.n.01", "n03046257": that synset alone). Each sense adds
every synset on every path to the root through hypernym and instance-hypernym links, so the
dictionary is closed upwards and a concept's subtree inside it is reachable through hyponym
links of dictionary members.

Order and identity: entries are (synset name, definition, lemmas) sorted by synset name, which
is stable across builds and machines. `content_hash` is the sha256 of the entries in that
order, one line each, "name TAB definition TAB lemma,lemma,..." (UTF-8); embedding caches key
on it. A dictionary from a user word list gets the id "words-" plus the first 12 hex digits of
its content hash, so the same concepts always get the same id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from cliplens.core.errors import InvalidArgument, NotFound
from cliplens.lexicon.ids import is_synset_id
from cliplens.lexicon.synsets import SynsetRecord, WordNet

MAX_WORD_CHARS = 100
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class Entry:
    """One concept of a dictionary."""

    synset: str
    definition: str
    lemmas: tuple[str, ...]


@dataclass(frozen=True)
class Dictionary:
    """A concept dictionary with its identity (id, content hash) and entries in stable order."""

    id: str
    name: str
    source: str  # "preset" or "words"
    words: tuple[str, ...]
    entries: tuple[Entry, ...]
    content_hash: str
    unknown_words: tuple[str, ...] = ()
    created_at: str = ""
    _children: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return len(self.entries)

    @cached_property
    def positions(self) -> dict[str, int]:
        """Synset name -> its index in the dictionary."""
        return {e.synset: i for i, e in enumerate(self.entries)}

    def subtree(self, wordnet: WordNet, synset: str) -> list[int]:
        """Indices (in dictionary order) of `synset` and its hyponyms inside the dictionary."""
        if synset not in self.positions:
            raise NotFound(f"synset {synset!r} is not in dictionary {self.id!r} "
                           f"({self.size} synsets)")
        found, frontier = {synset}, [synset]
        while frontier:
            following = []
            for name in frontier:
                for child in self._members_below(wordnet, name):
                    if child not in found:
                        found.add(child)
                        following.append(child)
            frontier = following
        return sorted(self.positions[name] for name in found)

    def _members_below(self, wordnet: WordNet, name: str) -> tuple[str, ...]:
        children = self._children.get(name)
        if children is None:
            children = tuple(c for c in wordnet.synset(name).children if c in self.positions)
            self._children[name] = children
        return children


def content_hash(entries: tuple[Entry, ...] | list[Entry]) -> str:
    """sha256 of the entries in order, one "name TAB definition TAB lemmas" line each."""
    digest = hashlib.sha256()
    for e in entries:
        digest.update(f"{e.synset}\t{e.definition}\t{','.join(e.lemmas)}\n".encode())
    return digest.hexdigest()


def words_id(hash_hex: str) -> str:
    """The id of a dictionary built from a user word list."""
    return f"words-{hash_hex[:12]}"


def check_words(words: list[str], max_words: int) -> list[str]:
    """The word list trimmed and de-duplicated (order kept); InvalidArgument naming the entry."""
    if not words:
        raise InvalidArgument("words: expected at least one word, got none")
    if len(words) > max_words:
        raise InvalidArgument(f"words: expected at most {max_words} words, got {len(words)}")
    clean = []
    for i, word in enumerate(words):
        text = " ".join(word.split())
        if not text or len(text) > MAX_WORD_CHARS:
            raise InvalidArgument(f"words[{i}]: expected a word of 1..{MAX_WORD_CHARS} "
                                  f"characters, got {word[:MAX_WORD_CHARS + 20]!r}")
        clean.append(text)
    return list(dict.fromkeys(clean))


def senses(wordnet: WordNet, word: str) -> list[SynsetRecord]:
    """The synsets a word-list entry stands for (noun senses, or the one synset it names)."""
    if is_synset_id(word):
        try:
            record = wordnet.get(word, "words")
        except NotFound:
            return []
        return [record] if record.pos == "n" else []
    return wordnet.noun_senses(word)


def build_entries(wordnet: WordNet, words: list[str]) -> tuple[tuple[Entry, ...], list[str]]:
    """(entries sorted by synset name, words with no noun sense) for a clean word list."""
    members: set[str] = set()
    unknown = []
    for word in words:
        found = senses(wordnet, word)
        if not found:
            unknown.append(word)
        for record in found:
            members |= wordnet.ancestors(record.name)
    records = [wordnet.synset(name) for name in sorted(members)]
    entries = tuple(Entry(r.name, r.definition, r.lemmas) for r in records)
    return entries, unknown


def build_dictionary(wordnet: WordNet, words: list[str], *, id: str | None = None,
                     name: str, source: str, max_words: int = 100_000) -> Dictionary:
    """A dictionary from a word list; `id` None gives the content-derived "words-..." id."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidArgument(f"name: expected 1..{MAX_NAME_CHARS} characters, got {name!r}")
    clean = check_words(words, max_words)
    entries, unknown = build_entries(wordnet, clean)
    if not entries:
        raise InvalidArgument(f"words: expected words with a noun sense in WordNet 3.0; none "
                              f"of the {len(clean)} has one (e.g. {clean[0]!r})")
    digest = content_hash(entries)
    return Dictionary(id=id or words_id(digest), name=name, source=source, words=tuple(clean),
                      entries=entries, content_hash=digest, unknown_words=tuple(unknown))
