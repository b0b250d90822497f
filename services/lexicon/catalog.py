"""The lexicon's domain entry point: WordNet, dictionaries and banks behind one object.

The gRPC servicer and the benchmark call these methods (blocking; the servicer runs them in
worker threads). Everything here raises `cliplens.core.errors` exceptions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cliplens.core.errors import InvalidArgument, NotFound, Overloaded
from cliplens.lexicon import banks as bank_format
from cliplens.lexicon import metrics
from cliplens.lexicon.banks import Bank, BankClass, BankInfo, BankLimits
from cliplens.lexicon.descriptors import descriptors
from cliplens.lexicon.dictionaries import Dictionary, build_dictionary
from cliplens.lexicon.ids import is_synset_id
from cliplens.lexicon.index import ensure_index
from cliplens.lexicon.presets import PRESETS
from cliplens.lexicon.store import Store, utc_now
from cliplens.lexicon.synsets import SynsetRecord, WordNet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subtree:
    """A concept's subtree inside a dictionary."""

    synset: str
    indices: list[int]
    dictionary: Dictionary

    @property
    def synsets(self) -> list[str]:
        return [self.dictionary.entries[i].synset for i in self.indices]


# Ids of one GetSynsets call: the explanation service asks for a call's labels at once.
MAX_BATCH_IDS = 10_000


class Lexicon:
    """WordNet lookups, concept dictionaries (presets and user lists) and descriptor banks."""

    def __init__(self, wordnet: WordNet, store: Store, *, limits: BankLimits | None = None,
                 max_words: int = 20000, max_user_dictionaries: int = 1000):
        self.wordnet = wordnet
        self.store = store
        self.limits = limits or BankLimits()
        self.max_words = max_words
        self.max_user_dictionaries = max_user_dictionaries
        self._lock = threading.Lock()
        self._presets: dict[str, Dictionary] = {}
        self._user: dict[str, Dictionary] = {}

    @classmethod
    def open(cls, *, wordnet_index: str | Path, database: str | Path,
             **kwargs: Any) -> Lexicon:
        """Open (building the WordNet index if missing) and load every dictionary."""
        started = time.perf_counter()
        wordnet = WordNet(ensure_index(Path(wordnet_index).expanduser()))
        lexicon = cls(wordnet, Store(database), **kwargs)
        lexicon.load()
        metrics.WORDNET_LOAD_SECONDS.set(time.perf_counter() - started)
        log.info("lexicon ready in %.2f s: %d dictionaries, %d banks",
                 time.perf_counter() - started, len(lexicon.dictionaries()),
                 len(lexicon.list_banks()))
        return lexicon

    def load(self) -> None:
        """Build the preset dictionaries and load the stored ones."""
        for preset in PRESETS.values():
            self._presets[preset.id] = build_dictionary(
                self.wordnet, preset.words(self.wordnet), id=preset.id, name=preset.name,
                source="preset")
        self._user = {d.id: d for d in self.store.load_dictionaries()}
        self._count()

    def close(self) -> None:
        self.store.close()

    def _count(self) -> None:
        metrics.DICTIONARIES.set(len(self._presets) + len(self._user))
        metrics.BANKS.set(len(self.store.list_banks()))

    # -- WordNet ---------------------------------------------------------------------------

    def synset(self, ident: str) -> SynsetRecord:
        """A synset by name, wnid or offset-pos."""
        return self.wordnet.get(ident)

    def synsets(self, idents: list[str]) -> list[SynsetRecord]:
        """Synsets of several ids, in order; the first unknown one is NotFound naming it."""
        if len(idents) > MAX_BATCH_IDS:
            raise InvalidArgument(f"ids: at most {MAX_BATCH_IDS} per call, got {len(idents)}")
        found = []
        for i, ident in enumerate(idents):
            try:
                found.append(self.wordnet.get(ident, field=f"ids[{i}]"))
            except NotFound as e:
                raise NotFound(f"ids[{i}]: {e}") from None
        return found

    def search(self, lemma: str, pos: str | None = None,
               limit: int = 0) -> tuple[str, list[SynsetRecord]]:
        """(normalised lemma, synsets) of a lemma."""
        return self.wordnet.search(lemma, pos, limit)

    def expand(self, ident: str, relation: str, max_depth: int = 0, limit: int = 0
               ) -> tuple[SynsetRecord, list[tuple[SynsetRecord, int]], bool]:
        """(root, [(synset, depth)], truncated): a closure over one relation."""
        if max_depth < 0 or limit < 0:
            raise InvalidArgument(f"max_depth/limit: expected >= 0, got {max_depth}/{limit}")
        root = self.wordnet.get(ident)
        found, truncated = self.wordnet.expand(root, relation, max_depth, limit)
        return root, found, truncated

    def lowest_common_hypernyms(self, idents: Sequence[str]) -> list[str]:
        """Deepest common hypernyms of two or more synsets."""
        if len(idents) < 2:
            raise InvalidArgument(f"ids: expected at least 2 synsets, got {len(idents)}")
        return self.wordnet.lowest_common_hypernyms(
            [self.wordnet.get(i, f"ids[{k}]") for k, i in enumerate(idents)])

    # -- dictionaries ----------------------------------------------------------------------

    def dictionaries(self) -> list[Dictionary]:
        """Presets (in the registry's order), then user dictionaries by id."""
        with self._lock:
            return [*self._presets.values(), *sorted(self._user.values(), key=lambda d: d.id)]

    def dictionary(self, dictionary_id: str) -> Dictionary:
        """A dictionary by id; NotFound naming the known ones."""
        with self._lock:
            found = self._presets.get(dictionary_id) or self._user.get(dictionary_id)
        if found is None:
            known = [d.id for d in self.dictionaries()]
            more = f", ... ({len(known)} in all)" if len(known) > 10 else ""
            raise NotFound(f"dictionary_id: dictionary {dictionary_id!r} not found; known: "
                           f"{', '.join(known[:10])}{more}")
        return found

    def create_dictionary(self, name: str, words: Sequence[str]) -> Dictionary:
        """A dictionary from a user word list, stored (the same concepts give the same id)."""
        if len(words) > self.max_words:
            raise InvalidArgument(f"words: expected at most {self.max_words} words, got "
                                  f"{len(words)}")
        built = build_dictionary(self.wordnet, list(words), name=name, source="words",
                                 max_words=self.max_words)
        with self._lock:
            existing = self._user.get(built.id)
            if existing is not None:
                return existing
            if len(self._user) >= self.max_user_dictionaries:
                raise Overloaded(f"dictionaries: the store holds the maximum of "
                                 f"{self.max_user_dictionaries} user dictionaries")
            built = Dictionary(id=built.id, name=built.name, source=built.source,
                               words=built.words, entries=built.entries,
                               content_hash=built.content_hash,
                               unknown_words=built.unknown_words, created_at=utc_now())
            self.store.save_dictionary(built)
            self._user[built.id] = built
        self._count()
        return built

    def subtree(self, dictionary_id: str, synset: str) -> Subtree:
        """A concept and its hyponyms inside a dictionary."""
        dictionary = self.dictionary(dictionary_id)
        record = self.wordnet.get(synset, "synset")
        return Subtree(record.name, dictionary.subtree(self.wordnet, record.name), dictionary)

    # -- banks -----------------------------------------------------------------------------

    def list_banks(self) -> list[BankInfo]:
        return self.store.list_banks()

    def bank(self, bank_id: str) -> Bank:
        """A bank by id; NotFound otherwise."""
        found = self.store.get_bank(bank_id)
        if found is None:
            known = [b.id for b in self.store.list_banks()]
            raise NotFound(f"id: bank {bank_id!r} not found; known: "
                           f"{', '.join(known[:10]) or 'none'}")
        return found

    def import_bank(self, name: str, text: str, *, replace: bool = False,
                    strict_classes: bool = False) -> tuple[BankInfo, list[str]]:
        """Validate, map and store a JSON bank, all or nothing: (info, warnings)."""
        bank_format.check_name(name)
        classes, warnings = bank_format.parse_bank(text, self.limits)
        mapped = [(c, bank_format.map_class(self.wordnet, c), d) for c, d in classes]
        unmapped = [c for c, s, _ in mapped if not s]
        if unmapped and strict_classes:
            raise InvalidArgument(
                f"json: {len(unmapped)} class(es) map to no WordNet synset: "
                f"{', '.join(repr(c) for c in unmapped[:10])}"
                f"{', ...' if len(unmapped) > 10 else ''} (strict_classes is set)")
        warnings += [f"class {c!r}: no WordNet synset (kept unmapped)" for c in unmapped]
        bank = _make_bank(name, "json", [BankClass(c, s, tuple(d)) for c, s, d in mapped])
        self.store.save_bank(bank, replace=replace)
        self._count()
        return bank.info, warnings

    def generate_bank(self, name: str, synsets: Sequence[str], *,
                      replace: bool = False) -> BankInfo:
        """A bank derived from WordNet for class synsets (ids, or lemmas: first noun sense)."""
        bank_format.check_name(name)
        names = list(dict.fromkeys(" ".join(s.split()) for s in synsets))
        if not names or not all(names):
            raise InvalidArgument(f"synsets: expected 1..{self.limits.max_classes} non-empty "
                                  f"synset ids, got {list(synsets)[:5]!r}")
        if len(names) > self.limits.max_classes:
            raise InvalidArgument(f"synsets: expected at most {self.limits.max_classes}, got "
                                  f"{len(names)}")
        classes = []
        for k, ident in enumerate(names):
            record = self._class_synset(ident, f"synsets[{k}]")
            found = descriptors(self.wordnet, record)[:self.limits.max_descriptors]
            classes.append(BankClass(ident, record.name, tuple(found)))
        bank = _make_bank(name, "wordnet", classes)
        self.store.save_bank(bank, replace=replace)
        self._count()
        return bank.info

    def _class_synset(self, ident: str, field: str) -> SynsetRecord:
        if is_synset_id(ident):
            return self.wordnet.get(ident, field)
        senses = self.wordnet.noun_senses(ident)
        if not senses:
            self.wordnet.search(ident, "n")  # raises NotFound with suggestions
        return senses[0]

    def delete_bank(self, bank_id: str) -> None:
        """Remove a bank; NotFound if there is none."""
        if not self.store.delete_bank(bank_id):
            raise NotFound(f"id: bank {bank_id!r} not found")
        self._count()


def _make_bank(name: str, source: str, classes: list[BankClass]) -> Bank:
    document = {c.class_name: list(c.descriptors) for c in classes}
    info = BankInfo(id=name, name=name, content_hash=bank_format.content_hash(document),
                    class_count=len(classes),
                    descriptor_count=sum(len(c.descriptors) for c in classes),
                    source=source, created_at=utc_now())
    return Bank(info, tuple(classes))
