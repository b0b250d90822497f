"""The SQLite store: WAL, schema version, all-or-nothing writes, persistence."""

from __future__ import annotations

import sqlite3

import pytest

from cliplens.core.errors import AlreadyExists, FailedPrecondition
from cliplens.lexicon import store as store_module
from cliplens.lexicon.banks import Bank, BankClass, BankInfo
from cliplens.lexicon.dictionaries import Dictionary, Entry
from cliplens.lexicon.store import SCHEMA_VERSION, Store


def _bank(name: str, n: int = 3, tag: str = "") -> Bank:
    classes = tuple(BankClass(f"class {i}", f"c{i}.n.01", (f"thing {i}{tag}", f"other {i}"))
                    for i in range(n))
    info = BankInfo(id=name, name=name, content_hash=f"h-{name}{tag}", class_count=n,
                    descriptor_count=2 * n, source="json", created_at="2025-01-01T00:00:00Z")
    return Bank(info, classes)


def _snapshot(store: Store):
    return [(b, store.get_bank(b.id)) for b in store.list_banks()]


def test_new_file_is_wal_at_current_schema(tmp_path):
    s = Store(tmp_path / "lex.sqlite3")
    assert s.schema_version() == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "lex.sqlite3").execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal",)
    s.close()


def test_banks_round_trip_across_reopen(tmp_path):
    s = Store(tmp_path / "lex.sqlite3")
    s.save_bank(_bank("b"), replace=False)
    s.save_bank(_bank("a", 2), replace=False)
    before = _snapshot(s)
    s.close()
    again = Store(tmp_path / "lex.sqlite3")
    assert _snapshot(again) == before
    assert [b.id for b in again.list_banks()] == ["a", "b"]
    assert again.get_bank("b") == _bank("b")
    assert again.get_bank("missing") is None
    again.close()


def test_existing_name_needs_replace(tmp_path):
    s = Store(tmp_path / "lex.sqlite3")
    s.save_bank(_bank("x"), replace=False)
    with pytest.raises(AlreadyExists, match="'x' already exists"):
        s.save_bank(_bank("x", 1, "new"), replace=False)
    assert s.get_bank("x") == _bank("x")
    s.save_bank(_bank("x", 1, "new"), replace=True)
    assert s.get_bank("x") == _bank("x", 1, "new")


def test_failure_mid_write_changes_nothing(tmp_path, monkeypatch):
    s = Store(tmp_path / "lex.sqlite3")
    s.save_bank(_bank("keep"), replace=False)
    s.save_bank(_bank("old"), replace=False)
    before = _snapshot(s)
    real = store_module.insert_classes

    def crash_after_first_row(db, bank_id, classes):
        real(db, bank_id, classes[:1])
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_module, "insert_classes", crash_after_first_row)
    with pytest.raises(RuntimeError):
        s.save_bank(_bank("old", 5, "replacement"), replace=True)
    with pytest.raises(RuntimeError):
        s.save_bank(_bank("new"), replace=False)
    assert _snapshot(s) == before
    s.close()
    assert _snapshot(Store(tmp_path / "lex.sqlite3")) == before


def test_delete(tmp_path):
    s = Store(tmp_path / "lex.sqlite3")
    s.save_bank(_bank("x"), replace=False)
    assert s.delete_bank("x") is True
    assert s.delete_bank("x") is False
    assert s.list_banks() == [] and s.get_bank("x") is None


def test_dictionaries_persist_and_are_content_addressed(tmp_path):
    s = Store(tmp_path / "lex.sqlite3")
    d = Dictionary(id="words-0123456789ab", name="mine", source="words", words=("dog",),
                   entries=(Entry("dog.n.01", "a dog", ("dog", "domestic_dog")),),
                   content_hash="0123456789ab" + "0" * 52, unknown_words=("zzz",),
                   created_at="2025-01-01T00:00:00Z")
    assert s.save_dictionary(d) is True
    assert s.save_dictionary(d) is False
    s.close()
    assert Store(tmp_path / "lex.sqlite3").load_dictionaries() == [d]


def test_newer_schema_is_refused(tmp_path):
    Store(tmp_path / "lex.sqlite3").close()
    conn = sqlite3.connect(tmp_path / "lex.sqlite3")
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(FailedPrecondition, match=f"schema version {SCHEMA_VERSION + 1}"):
        Store(tmp_path / "lex.sqlite3")
