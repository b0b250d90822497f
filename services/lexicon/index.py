"""The prepared WordNet index: WordNet 3.0 in one read-only SQLite file, built once at set-up.

NLTK takes seconds to open WordNet (it parses every index file) and recomputes depths on every
call; the service needs to be ready in a few seconds and answer lookups in microseconds. So
`python -m cliplens.lexicon.setup` reads WordNet once through NLTK (names, glosses and relations
exactly as NLTK gives them) and writes:

- `synsets`: one row per synset (name, pos, offset, wnid, lexname, definition, examples, lemma
  names, min/max depth over hypernyms and instance hypernyms, relations as JSON);
- `lemmas`: the index files' lemma -> synsets rows in sense order, with sense-tagged counts
  (from `index.sense`);
- `exceptions`: the morphological exception lists (`*.exc`) for morphy;
- `preset_words`: word lists of presets that depend only on WordNet (the `physical` list);
- `meta`: the index format version and the sha256 of the WordNet files it was built from.

The service opens the file read-only; `ensure_index` rebuilds it when the format version or the
WordNet files' hash differ (the set-up checks the hash; a service start only checks the version
so that it need not hash 37 MB).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cliplens.lexicon.wordnet import wordnet_dir

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_INDEX = Path.home() / ".cache" / "cliplens" / "wordnet-index.sqlite3"
# Relations stored per synset: the API's ten (named as the Synset message's fields) plus
# attributes, which the descriptor generator reads.
RELATIONS = ("hypernyms", "hyponyms", "instance_hypernyms", "instance_hyponyms",
             "part_meronyms", "substance_meronyms", "member_meronyms", "part_holonyms",
             "substance_holonyms", "member_holonyms")
STORED_RELATIONS = (*RELATIONS, "attributes")
# The files whose bytes key the index (the ones NLTK reads for everything we store).
HASHED_FILES = ("data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb",
                "index.adj", "index.adv", "noun.exc", "verb.exc", "adj.exc", "adv.exc",
                "index.sense", "lexnames")
# Data-file letter of each synset pos (satellites live in the adjective files).
FILE_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}
_SENSE_KEY_POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE synsets (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, pos TEXT NOT NULL, offset INTEGER NOT NULL,
  wnid TEXT NOT NULL UNIQUE, lexname TEXT NOT NULL, definition TEXT NOT NULL,
  examples TEXT NOT NULL, lemmas TEXT NOT NULL, min_depth INTEGER NOT NULL,
  max_depth INTEGER NOT NULL, relations TEXT NOT NULL);
CREATE TABLE lemmas (
  lemma TEXT NOT NULL, pos TEXT NOT NULL, rank INTEGER NOT NULL, synset INTEGER NOT NULL,
  count INTEGER NOT NULL, PRIMARY KEY (lemma, pos, rank)) WITHOUT ROWID;
CREATE TABLE exceptions (
  pos TEXT NOT NULL, form TEXT NOT NULL, base TEXT NOT NULL, rank INTEGER NOT NULL,
  PRIMARY KEY (pos, form, rank)) WITHOUT ROWID;
CREATE TABLE preset_words (
  preset TEXT NOT NULL, position INTEGER NOT NULL, word TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (preset, position)) WITHOUT ROWID;
"""


def wordnet_hash(directory: Path | None = None) -> str:
    """sha256 over the WordNet files the index is built from (name and bytes, in order)."""
    directory = directory or wordnet_dir()
    digest = hashlib.sha256()
    for name in HASHED_FILES:
        digest.update(name.encode() + b"\0")
        with open(directory / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_meta(path: Path) -> dict[str, str] | None:
    """The index's meta table, or None when the file is missing or not an index."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


def index_is_current(path: Path, *, check_hash: bool) -> bool:
    """Whether `path` holds an index of this format (and, if asked, of these WordNet files)."""
    meta = read_meta(path)
    if not meta or meta.get("format_version") != str(FORMAT_VERSION):
        return False
    return not check_hash or meta.get("wordnet_sha256") == wordnet_hash()


def ensure_index(path: Path = DEFAULT_INDEX, *, check_hash: bool = False) -> Path:
    """Build the index at `path` unless a current one is there; returns `path`."""
    if not index_is_current(path, check_hash=check_hash):
        build_index(path)
    return path


def build_index(path: Path = DEFAULT_INDEX) -> Path:
    """Read WordNet through NLTK and write the index to `path` (atomically: temp file, rename)."""
    from cliplens.lexicon.wordnet import open_wordnet

    started = time.perf_counter()
    wn = open_wordnet()
    directory = wordnet_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(SCHEMA)
        synsets = _all_synsets(wn)
        ids = {s.name(): i for i, s in enumerate(synsets)}
        by_offset = {(FILE_POS[s.pos()], s.offset()): i for i, s in enumerate(synsets)}
        relations = [_relations(s) for s in synsets]
        min_depth, max_depth = _depths(synsets, relations, ids)
        conn.executemany(
            "INSERT INTO synsets VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            ((i, s.name(), s.pos(), s.offset(), f"{FILE_POS[s.pos()]}{s.offset():08d}",
              s.lexname(), s.definition(), json.dumps(s.examples()),
              json.dumps(s.lemma_names()), min_depth[i], max_depth[i], json.dumps(relations[i]))
             for i, s in enumerate(synsets)))
        counts = _sense_counts(directory / "index.sense")
        conn.executemany("INSERT INTO lemmas VALUES (?,?,?,?,?)",
                         _lemma_rows(directory, by_offset, counts))
        conn.executemany("INSERT INTO exceptions VALUES (?,?,?,?)", _exception_rows(directory))
        from cliplens.lexicon.presets import physical_words

        conn.executemany(
            "INSERT INTO preset_words VALUES ('physical',?,?,?)",
            ((i, word, count) for i, (word, count) in enumerate(physical_words(conn))))
        meta = {"format_version": str(FORMAT_VERSION), "wordnet_sha256": wordnet_hash(directory),
                "wordnet_version": wn.get_version(), "built_at": time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "synsets": str(len(synsets))}
        conn.executemany("INSERT INTO meta VALUES (?,?)", meta.items())
        conn.commit()
        conn.execute("VACUUM")
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    conn.close()
    os.replace(tmp, path)
    log.info("WordNet index: %d synsets written to %s in %.1f s", len(synsets), path,
             time.perf_counter() - started)
    return path


def _all_synsets(wn: Any) -> list:
    """Every synset once, ordered by (data file, offset)."""
    seen = {}
    for pos in "nvar":  # all_synsets("a") also yields the satellites
        for s in wn.all_synsets(pos):
            seen.setdefault(s.name(), s)
    return sorted(seen.values(), key=lambda s: (FILE_POS[s.pos()], s.offset()))


def _relations(synset: Any) -> dict[str, list[str]]:
    out = {}
    for relation in STORED_RELATIONS:
        # Sorted: NLTK's order comes from a set and changes between runs.
        targets = sorted({t.name() for t in getattr(synset, relation)()})
        if targets:
            out[relation] = targets
    return out


def _depths(synsets: list, relations: list[dict[str, list[str]]],
            ids: dict[str, int]) -> tuple[list[int], list[int]]:
    """min/max depth over hypernyms and instance hypernyms (NLTK's definition), memoised."""
    n = len(synsets)
    lo, hi = [-1] * n, [-1] * n
    parents = [[ids[p] for key in ("hypernyms", "instance_hypernyms")
                for p in rel.get(key, ())] for rel in relations]
    for start in range(n):
        stack = [start]
        while stack:  # iterative post-order: WordNet's noun hierarchy is 20 deep, verbs loop-free
            node = stack[-1]
            pending = [p for p in parents[node] if lo[p] < 0]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if lo[node] >= 0:
                continue
            if parents[node]:
                lo[node] = 1 + min(lo[p] for p in parents[node])
                hi[node] = 1 + max(hi[p] for p in parents[node])
            else:
                lo[node] = hi[node] = 0
    return lo, hi


def _sense_counts(index_sense: Path) -> dict[tuple[str, str, int], int]:
    """(lemma, data-file pos, offset) -> how often that sense was tagged (index.sense)."""
    counts = {}
    with open(index_sense, encoding="utf-8") as f:
        for line in f:
            key, offset, _number, tag_count = line.split()
            lemma, rest = key.split("%", 1)
            counts[(lemma, _SENSE_KEY_POS[rest[0]], int(offset))] = int(tag_count)
    return counts


def _lemma_rows(directory: Path, by_offset: dict, counts: dict) -> Iterable[tuple]:
    """Rows of the lemma index, from the index.* files (senses in WordNet's order)."""
    for pos, name in (("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv")):
        with open(directory / f"index.{name}", encoding="utf-8") as f:
            for line in f:
                if line.startswith(" "):
                    continue  # the licence header
                fields = line.split()
                lemma, synset_count, pointer_count = fields[0], int(fields[2]), int(fields[3])
                offsets = fields[6 + pointer_count:6 + pointer_count + synset_count]
                for rank, offset in enumerate(offsets):
                    off = int(offset)
                    yield (lemma, pos, rank, by_offset[(pos, off)],
                           counts.get((lemma, pos, off), 0))


def _exception_rows(directory: Path) -> Iterable[tuple]:
    for pos, name in (("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv")):
        bases: dict[str, list[str]] = {}
        with open(directory / f"{name}.exc", encoding="utf-8") as f:
            for line in f:
                form, *more = line.split()
                known = bases.setdefault(form, [])
                known.extend(b for b in more if b not in known)
        for form, forms in bases.items():
            for rank, base in enumerate(forms):
                yield (pos, form, base, rank)
