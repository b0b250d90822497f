"""WordNet 3.0 lookups over the prepared index: synsets by id, lemma search, relations, closures.

Synset ids come in three forms: a name ("dog.n.01", NLTK's: the lemma's n-th sense, so
"dog.n.03" is the third sense of "dog" whatever its own name), an ImageNet wnid ("n02084071")
and an offset with its part of speech ("02084071-n"). A plain lemma is not an id (search for
it). Unknown ids raise NotFound with close suggestions; malformed ids raise InvalidArgument.

Lemma search follows WordNet's morphy as NLTK implements it: lower-cased, spaces as
underscores, the exception lists or else the detachment rules applied once, and every resulting
form that is a lemma of that part of speech kept (so "Dogs" finds dog, "geese" goose, and
"glasses" both glasses and glass).

Depths count hypernym and instance-hypernym links to a root (NLTK's min_depth/max_depth), and
closures and lowest common hypernyms use the same links.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cliplens.core.errors import FailedPrecondition, InvalidArgument, NotFound
from cliplens.lexicon.ids import NAME, OFFSET, WNID
from cliplens.lexicon.index import FORMAT_VERSION, RELATIONS

POS_LETTERS = ("n", "v", "a", "s", "r")
_FILE_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}
MAX_ID_CHARS = 200
# WordNet's detachment rules (morphy(7WN)), in NLTK's order.
SUBSTITUTIONS = {
    "n": (("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
          ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
SYNSET_CACHE = 65536


@dataclass(frozen=True)
class SynsetRecord:
    """One synset as the index holds it (relations by synset name)."""

    name: str
    pos: str
    offset: int
    wnid: str
    lexname: str
    definition: str
    examples: tuple[str, ...]
    lemmas: tuple[str, ...]
    min_depth: int
    max_depth: int
    relations: Mapping[str, tuple[str, ...]]

    def related(self, relation: str) -> tuple[str, ...]:
        """Targets of one relation ("hypernyms", "part_meronyms", ..., "attributes")."""
        return self.relations.get(relation, ())

    @property
    def parents(self) -> tuple[str, ...]:
        """Hypernyms and instance hypernyms: the links depths and paths follow."""
        return self.related("hypernyms") + self.related("instance_hypernyms")

    @property
    def children(self) -> tuple[str, ...]:
        """Hyponyms and instance hyponyms."""
        return self.related("hyponyms") + self.related("instance_hyponyms")

    @property
    def words(self) -> tuple[str, ...]:
        """Lemma names as words ("domestic dog")."""
        return tuple(lemma.replace("_", " ") for lemma in self.lemmas)


def normalise_lemma(text: str) -> str:
    """Lower case, trimmed, inner whitespace as one underscore ("Golden  Retriever")."""
    return "_".join(text.strip().lower().split())


class WordNet:
    """Read-only WordNet over the prepared index file; safe to share between threads."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        try:
            meta = dict(self._db().execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as e:
            raise FailedPrecondition(
                f"wordnet_index: expected a prepared WordNet index at {self.path} "
                f"(python -m cliplens.lexicon.setup), got {e}") from None
        if meta.get("format_version") != str(FORMAT_VERSION):
            raise FailedPrecondition(
                f"wordnet_index: expected format {FORMAT_VERSION} in {self.path}, got "
                f"{meta.get('format_version')!r} (rerun python -m cliplens.lexicon.setup)")
        self.meta = meta
        self._by_id = lru_cache(maxsize=SYNSET_CACHE)(self._load_by_id)
        self._id_of_name = lru_cache(maxsize=SYNSET_CACHE)(self._load_id_of_name)
        self._ancestors: dict[str, frozenset[str]] = {}
        self._suggest_lock = threading.Lock()
        self._lemma_buckets: dict[tuple[str, str], list[str]] | None = None

    # -- storage ---------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.path.is_file():
                raise FailedPrecondition(
                    f"wordnet_index: no prepared WordNet index at {self.path} "
                    "(python -m cliplens.lexicon.setup builds it)")
            # immutable: the file is only ever replaced whole, never written in place.
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False)
            self._local.conn = conn
        return conn

    def _load_by_id(self, sid: int) -> SynsetRecord:
        row = self._db().execute(
            "SELECT name, pos, offset, wnid, lexname, definition, examples, lemmas, min_depth,"
            " max_depth, relations FROM synsets WHERE id = ?", (sid,)).fetchone()
        name, pos, offset, wnid, lexname, definition, examples, lemmas, lo, hi, rel = row
        return SynsetRecord(
            name=name, pos=pos, offset=offset, wnid=wnid, lexname=lexname, definition=definition,
            examples=tuple(json.loads(examples)), lemmas=tuple(json.loads(lemmas)),
            min_depth=lo, max_depth=hi,
            relations={k: tuple(v) for k, v in json.loads(rel).items()})

    def _load_id_of_name(self, name: str) -> int | None:
        row = self._db().execute("SELECT id FROM synsets WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def _lemma_ids(self, lemma: str, pos: str) -> list[int]:
        """The lemma's synsets of `pos` in sense order ("s": the adjective satellites only)."""
        if pos == "s":
            return [r[0] for r in self._db().execute(
                "SELECT l.synset FROM lemmas l JOIN synsets s ON s.id = l.synset "
                "WHERE l.lemma = ? AND l.pos = 'a' AND s.pos = 's' ORDER BY l.rank", (lemma,))]
        return [r[0] for r in self._db().execute(
            "SELECT synset FROM lemmas WHERE lemma = ? AND pos = ? ORDER BY rank", (lemma, pos))]

    def _is_lemma(self, lemma: str, file_pos: str) -> bool:
        return self._db().execute("SELECT 1 FROM lemmas WHERE lemma = ? AND pos = ? LIMIT 1",
                                  (lemma, file_pos)).fetchone() is not None

    # -- lookups ---------------------------------------------------------------------------

    def synset(self, name: str) -> SynsetRecord:
        """A synset by its canonical name (relations hold these); NotFound otherwise."""
        sid = self._id_of_name(name)
        if sid is None:
            raise NotFound(f"synset {name!r} not found{self._did_you_mean(name)}")
        return self._by_id(sid)

    def get(self, ident: str, field: str = "id") -> SynsetRecord:
        """A synset by name, wnid or offset-pos; InvalidArgument for other forms."""
        text = ident.strip()
        if not text or len(text) > MAX_ID_CHARS:
            raise InvalidArgument(f"{field}: expected a synset id of 1..{MAX_ID_CHARS} "
                                  f"characters, got {ident!r}")
        if m := WNID.match(text):
            return self._by_offset(m.group(1), int(m.group(2)), ident)
        if m := OFFSET.match(text):
            return self._by_offset(m.group(2), int(m.group(1)), ident)
        if m := NAME.match(text):
            lemma, pos, number = normalise_lemma(m.group(1)), m.group(2), int(m.group(3))
            sid = self._id_of_name(f"{lemma}.{pos}.{number:02d}")
            if sid is None and number >= 1:
                # NLTK's reading: the number-th sense of the lemma in that part of speech.
                ids = self._lemma_ids(lemma, pos)
                if number <= len(ids):
                    sid = ids[number - 1]
            if sid is None:
                raise NotFound(f"synset {ident!r} not found{self._did_you_mean(text)}")
            return self._by_id(sid)
        raise InvalidArgument(
            f"{field}: expected a synset name (dog.n.01), wnid (n02084071) or offset "
            f"(02084071-n), got {ident!r}" + ("; search for lemmas with SearchSynsets"
                                             if "." not in text else ""))

    def _by_offset(self, pos: str, offset: int, ident: str) -> SynsetRecord:
        row = self._db().execute("SELECT id FROM synsets WHERE wnid = ?",
                                 (f"{_FILE_POS[pos]}{offset:08d}",)).fetchone()
        if row is None:
            raise NotFound(f"synset {ident!r} not found: no {_FILE_POS[pos]} synset at offset "
                           f"{offset:08d} in WordNet 3.0")
        return self._by_id(row[0])

    def morphy(self, form: str, pos: str) -> list[str]:
        """Base forms of `form` that are lemmas of `pos` (the form itself first if it is one)."""
        file_pos = _FILE_POS[pos]
        exceptions = [r[0] for r in self._db().execute(
            "SELECT base FROM exceptions WHERE pos = ? AND form = ? ORDER BY rank",
            (file_pos, form))]
        forms = exceptions or [form[:-len(old)] + new for old, new in SUBSTITUTIONS[file_pos]
                               if form.endswith(old)]
        return [f for f in dict.fromkeys([form, *forms]) if self._is_lemma(f, file_pos)]

    def search(self, lemma: str, pos: str | None = None,
               limit: int = 0) -> tuple[str, list[SynsetRecord]]:
        """(the lemma as WordNet knows it, its synsets in sense order); NotFound when none."""
        form = normalise_lemma(lemma)
        if not form:
            raise InvalidArgument(f"lemma: expected a word, got {lemma!r}")
        matched, records = self._find(form, pos)
        if not records:
            where = f" as {pos}" if pos else ""
            hint = self.close_lemmas(form, pos)
            raise NotFound(f"lemma {lemma!r} has no synset{where} in WordNet 3.0"
                           + (f"; did you mean {', '.join(hint)}?" if hint else ""))
        return matched, records[:limit] if limit > 0 else records

    def _find(self, form: str, pos: str | None) -> tuple[str, list[SynsetRecord]]:
        found: dict[int, None] = {}
        matched = ""
        for p in ("n", "v", "a", "r") if pos is None else (pos,):
            for base in self.morphy(form, p):
                for sid in self._lemma_ids(base, p):
                    matched = matched or base
                    found.setdefault(sid)
        return matched, [self._by_id(sid) for sid in found]

    def noun_senses(self, word: str) -> list[SynsetRecord]:
        """All noun senses of a word (morphy applied); empty when it has none."""
        form = normalise_lemma(word)
        return self._find(form, "n")[1] if form else []

    # -- relations -------------------------------------------------------------------------

    def expand(self, root: SynsetRecord, relation: str, max_depth: int = 0,
               limit: int = 0) -> tuple[list[tuple[SynsetRecord, int]], bool]:
        """Breadth-first closure of `root` over `relation`: [(synset, depth)], truncated.

        `max_depth` 0 is unlimited; `limit` 0 keeps all, otherwise the first `limit` synsets in
        breadth-first order, and `truncated` says whether more were left out.
        """
        if relation not in RELATIONS:
            raise InvalidArgument(f"relation: expected one of {', '.join(RELATIONS)}, "
                                  f"got {relation!r}")
        out: list[tuple[SynsetRecord, int]] = []
        seen, frontier, depth = {root.name}, [root], 0
        while frontier and (max_depth <= 0 or depth < max_depth):
            depth += 1
            following = []
            for record in frontier:
                for name in record.related(relation):
                    if name in seen:
                        continue
                    if 0 < limit <= len(out):
                        return out, True
                    seen.add(name)
                    target = self.synset(name)
                    out.append((target, depth))
                    following.append(target)
            frontier = following
        return out, False

    def ancestors(self, name: str) -> frozenset[str]:
        """The synset and everything above it by hypernym and instance-hypernym links."""
        cached = self._ancestors.get(name)
        if cached is None:
            found = {name}
            for parent in self.synset(name).parents:
                found |= self.ancestors(parent)
            cached = self._ancestors[name] = frozenset(found)
        return cached

    def lowest_common_hypernyms(self, records: Iterable[SynsetRecord]) -> list[str]:
        """The deepest (by max depth) synsets above all of `records` (NLTK's rule), sorted."""
        common: frozenset[str] | None = None
        for record in records:
            above = self.ancestors(record.name)
            common = above if common is None else common & above
        if not common:
            return []
        depths = {name: self.synset(name).max_depth for name in common}
        deepest = max(depths.values())
        return sorted(name for name, d in depths.items() if d == deepest)

    def preset_words(self, preset: str) -> list[str]:
        """A preset word list stored in the index (in its stored order)."""
        return [r[0] for r in self._db().execute(
            "SELECT word FROM preset_words WHERE preset = ? ORDER BY position", (preset,))]

    # -- suggestions -----------------------------------------------------------------------

    def _buckets(self) -> dict[tuple[str, str], list[str]]:
        with self._suggest_lock:
            if self._lemma_buckets is None:
                buckets: dict[tuple[str, str], list[str]] = {}
                for lemma, pos in self._db().execute("SELECT DISTINCT lemma, pos FROM lemmas"):
                    buckets.setdefault((pos, lemma[:1]), []).append(lemma)
                self._lemma_buckets = buckets
            return self._lemma_buckets

    def close_lemmas(self, form: str, pos: str | None = None, n: int = 5) -> list[str]:
        """Known lemmas spelled like `form`, best first.

        Candidates share the first letter (difflib's 30 closest); they are ranked by edit
        distance counting a swap of neighbours as one edit ("dgo" -> "dog"), then by length
        difference, then by how often the lemma's first sense was tagged (common words first).
        """
        poses = ("n", "v", "a", "r") if pos is None else (_FILE_POS[pos],)
        candidates = list(dict.fromkeys(
            c for p in poses for c in self._buckets().get((p, form[:1]), ())))
        close = difflib.get_close_matches(form, candidates, n=30, cutoff=0.5)
        counts = {}
        for lemma in close:
            row = self._db().execute("SELECT MAX(count) FROM lemmas WHERE lemma = ? AND rank = 0",
                                     (lemma,)).fetchone()
            counts[lemma] = row[0] or 0
        return sorted(close, key=lambda c: (edit_distance(form, c), abs(len(c) - len(form)),
                                            -counts[c], c))[:n]

    def _did_you_mean(self, ident: str) -> str:
        m = NAME.match(ident)
        if not m:
            return ""
        lemma, pos = normalise_lemma(m.group(1)), m.group(2)
        ids = self._lemma_ids(lemma, pos)
        if ids:  # a known lemma with a sense number out of range: list its senses
            names = [f"{lemma}.{pos}.{k:02d}" for k in range(1, min(len(ids), 5) + 1)]
            return f"; {lemma} has {len(ids)} {pos} sense(s): {', '.join(names)}"
        names = [f"{c}.{pos}.01" for c in self.close_lemmas(lemma, pos)
                 if self._lemma_ids(c, pos)]
        return f"; did you mean {', '.join(names)}?" if names else ""


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
