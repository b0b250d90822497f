"""The lexicon's SQLite store: descriptor banks and dictionaries built from user word lists.

One file (config `database`), WAL journal, `synchronous=FULL`, a `schema_version` table and
numbered migrations applied in order at open (a file from a newer cliplens is refused). Every
write is one transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error), so a failed or
interrupted import leaves the store as it was. Callers validate before writing; the store only
persists. One connection guarded by a lock: calls come from worker threads.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cliplens.core.errors import AlreadyExists, FailedPrecondition
from cliplens.lexicon.banks import Bank, BankClass, BankInfo
from cliplens.lexicon.dictionaries import Dictionary, Entry

log = logging.getLogger(__name__)

# Migration k (1-based) brings the schema from version k-1 to k. Append, never edit.
MIGRATIONS = (
    """
    CREATE TABLE banks (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT NOT NULL,
      content_hash TEXT NOT NULL, class_count INTEGER NOT NULL,
      descriptor_count INTEGER NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE bank_classes (
      bank_id TEXT NOT NULL, position INTEGER NOT NULL, class_name TEXT NOT NULL,
      synset TEXT NOT NULL, descriptors TEXT NOT NULL,
      PRIMARY KEY (bank_id, position)) WITHOUT ROWID;
    CREATE TABLE dictionaries (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, content_hash TEXT NOT NULL,
      words TEXT NOT NULL, unknown_words TEXT NOT NULL, entries TEXT NOT NULL,
      created_at TEXT NOT NULL);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def utc_now() -> str:
    """The current time as stored (ISO 8601, UTC, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Store:
    """Banks and user dictionaries in one SQLite file."""

    def __init__(self, path: Path | str):
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) in `_transaction`.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=10.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _migrate(self) -> None:
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise FailedPrecondition(
                    f"database: {self.path} has schema version {version}; this cliplens "
                    f"knows up to {SCHEMA_VERSION}")
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
            if row is None:
                db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif version != SCHEMA_VERSION:
                db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            if version != SCHEMA_VERSION:
                log.info("lexicon store %s: schema %d -> %d", self.path, version,
                         SCHEMA_VERSION)

    def schema_version(self) -> int:
        """The schema version the file is at."""
        return self._read("SELECT version FROM schema_version")[0][0]

    # -- banks -----------------------------------------------------------------------------

    def list_banks(self) -> list[BankInfo]:
        """Every bank's info, by id."""
        return [_bank_info(r) for r in self._read(
            "SELECT id, name, content_hash, class_count, descriptor_count, source, created_at "
            "FROM banks ORDER BY id")]

    def get_bank(self, bank_id: str) -> Bank | None:
        """A bank in full, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id, name, content_hash, class_count, descriptor_count, source, "
                "created_at FROM banks WHERE id = ?", (bank_id,)).fetchone()
            if row is None:
                return None
            classes = self._conn.execute(
                "SELECT class_name, synset, descriptors FROM bank_classes WHERE bank_id = ? "
                "ORDER BY position", (bank_id,)).fetchall()
        return Bank(_bank_info(row), tuple(BankClass(c, s, tuple(json.loads(d)))
                                           for c, s, d in classes))

    def save_bank(self, bank: Bank, *, replace: bool) -> None:
        """Store `bank` in one transaction; AlreadyExists if its id is taken and not `replace`."""
        info = bank.info
        with self._transaction() as db:
            exists = db.execute("SELECT 1 FROM banks WHERE id = ?", (info.id,)).fetchone()
            if exists and not replace:
                raise AlreadyExists(f"name: bank {info.id!r} already exists (set replace to "
                                    "overwrite it)")
            db.execute("DELETE FROM bank_classes WHERE bank_id = ?", (info.id,))
            db.execute("DELETE FROM banks WHERE id = ?", (info.id,))
            db.execute("INSERT INTO banks VALUES (?,?,?,?,?,?,?)",
                       (info.id, info.name, info.source, info.content_hash, info.class_count,
                        info.descriptor_count, info.created_at))
            insert_classes(db, info.id, bank.classes)

    def delete_bank(self, bank_id: str) -> bool:
        """Remove a bank; whether it existed."""
        with self._transaction() as db:
            db.execute("DELETE FROM bank_classes WHERE bank_id = ?", (bank_id,))
            return db.execute("DELETE FROM banks WHERE id = ?", (bank_id,)).rowcount > 0

    # -- dictionaries ----------------------------------------------------------------------

    def load_dictionaries(self) -> list[Dictionary]:
        """Every stored user dictionary, by id."""
        return [Dictionary(id=i, name=n, source="words", content_hash=h,
                           words=tuple(json.loads(w)), unknown_words=tuple(json.loads(u)),
                           entries=tuple(Entry(s, d, tuple(lem)) for s, d, lem in json.loads(e)),
                           created_at=c)
                for i, n, h, w, u, e, c in self._read(
                    "SELECT id, name, content_hash, words, unknown_words, entries, created_at "
                    "FROM dictionaries ORDER BY id")]

    def count_dictionaries(self) -> int:
        return self._read("SELECT COUNT(*) FROM dictionaries")[0][0]

    def save_dictionary(self, d: Dictionary) -> bool:
        """Store a user dictionary unless one with its id exists; whether it was new."""
        entries = json.dumps([[e.synset, e.definition, list(e.lemmas)] for e in d.entries],
                             ensure_ascii=False, separators=(",", ":"))
        with self._transaction() as db:
            return db.execute(
                "INSERT OR IGNORE INTO dictionaries VALUES (?,?,?,?,?,?,?)",
                (d.id, d.name, d.content_hash, json.dumps(list(d.words)),
                 json.dumps(list(d.unknown_words)), entries, d.created_at)).rowcount > 0


def insert_classes(db: sqlite3.Connection, bank_id: str, classes: tuple[BankClass, ...]) -> None:
    """Write a bank's classes (inside the caller's transaction)."""
    db.executemany("INSERT INTO bank_classes VALUES (?,?,?,?,?)",
                   ((bank_id, i, c.class_name, c.synset,
                     json.dumps(list(c.descriptors), ensure_ascii=False))
                    for i, c in enumerate(classes)))


def _bank_info(row: tuple) -> BankInfo:
    i, name, digest, classes, descriptors, source, created = row
    return BankInfo(id=i, name=name, content_hash=digest, class_count=classes,
                    descriptor_count=descriptors, source=source, created_at=created)
