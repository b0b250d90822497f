"""The prepared WordNet index: keyed by the WordNet hash, stale files refused, deterministic."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from cliplens.core.errors import FailedPrecondition
from cliplens.lexicon import index
from cliplens.lexicon.index import DEFAULT_INDEX, FORMAT_VERSION, ensure_index, index_is_current
from cliplens.lexicon.synsets import WordNet


def _table_digest(path, table: str) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    digest = hashlib.sha256()
    for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3"):
        digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


def test_prepared_index_matches_the_wordnet_files():
    path = ensure_index(DEFAULT_INDEX)
    meta = index.read_meta(path)
    assert meta["format_version"] == str(FORMAT_VERSION)
    assert meta["wordnet_sha256"] == index.wordnet_hash()
    assert index_is_current(path, check_hash=True)


def test_stale_or_foreign_files_are_not_current(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all")
    assert not index_is_current(junk, check_hash=False)
    assert not index_is_current(tmp_path / "missing.sqlite3", check_hash=False)
    old = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('format_version', '0')")
    conn.commit()
    conn.close()
    assert not index_is_current(old, check_hash=False)
    with pytest.raises(FailedPrecondition, match="expected format"):
        WordNet(old)


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(FailedPrecondition, match="python -m cliplens.lexicon.setup"):
        WordNet(tmp_path / "nothing.sqlite3")


@pytest.mark.slow
def test_rebuild_is_deterministic(tmp_path):
    fresh = index.build_index(tmp_path / "fresh.sqlite3")
    for table in ("synsets", "lemmas", "exceptions", "preset_words"):
        assert _table_digest(fresh, table) == _table_digest(DEFAULT_INDEX, table), table
