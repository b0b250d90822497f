"""Descriptor banks: the JSON format {class: [descriptor, ...]}, its validation, identity and
mapping of classes to WordNet.

Validation (`parse_bank`) is pure and happens before anything is stored, so a rejected document
changes nothing. It refuses, naming the entry: a document over the byte limit, anything but an
object of non-empty class names to non-empty lists of strings, repeated class names, empty or
over-long descriptors (characters or words), and too many classes or descriptors per class.
Descriptors are trimmed (inner whitespace collapsed); duplicates within a class are dropped with
a warning.

Identity: a bank's id is its name (`^[a-z0-9][a-z0-9_-]{0,63}$`); its content hash is the
sha256 of the canonical JSON of {class: [descriptor, ...]} (keys sorted, compact separators,
UTF-8), so class order does not change it but descriptor order does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cliplens.core.errors import InvalidArgument, NotFound
from cliplens.lexicon.ids import is_synset_id
from cliplens.lexicon.synsets import WordNet

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SOURCES = ("wordnet", "json")


@dataclass(frozen=True, kw_only=True)
class BankLimits:
    """What one bank may hold."""

    max_bytes: int = 5 * 1024 * 1024
    max_classes: int = 5000
    max_descriptors: int = 200
    max_descriptor_chars: int = 200
    max_descriptor_words: int = 40
    max_class_chars: int = 200


@dataclass(frozen=True)
class BankClass:
    """One class of a bank: its name, the synset it maps to ("" if none), its descriptors."""

    class_name: str
    synset: str
    descriptors: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class BankInfo:
    """A bank's identity and size, as listed."""

    id: str
    name: str
    content_hash: str
    class_count: int
    descriptor_count: int
    source: str
    created_at: str


@dataclass(frozen=True)
class Bank:
    """A bank in full: its info and its classes in their original order."""

    info: BankInfo
    classes: tuple[BankClass, ...]

    def document(self) -> dict[str, list[str]]:
        """The bank as the JSON import format {class: [descriptor, ...]}."""
        return {c.class_name: list(c.descriptors) for c in self.classes}


def check_name(name: str) -> str:
    """A valid bank name (it becomes the id); InvalidArgument otherwise."""
    if not NAME_PATTERN.match(name):
        raise InvalidArgument(f"name: expected lowercase letters, digits, '-' or '_' (1..64, "
                              f"starting with a letter or digit), got {name!r}")
    return name


def canonical_json(document: dict[str, Sequence[str]]) -> bytes:
    """The bytes a bank's content hash is taken over."""
    return json.dumps({k: list(v) for k, v in document.items()}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(document: dict[str, Sequence[str]]) -> str:
    """sha256 hex of the canonical JSON."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise InvalidArgument(f"json: class {key!r} appears more than once")
        seen[key] = value
    return seen


def parse_bank(text: str, limits: BankLimits) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Validate a JSON bank: ([(class, descriptors)] in document order, warnings)."""
    size = len(text.encode("utf-8"))
    if size > limits.max_bytes:
        raise InvalidArgument(f"json: expected at most {limits.max_bytes} bytes, got {size}")
    try:
        doc = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as e:
        raise InvalidArgument(f"json: not valid JSON ({e.msg} at line {e.lineno} column "
                              f"{e.colno})") from None
    except RecursionError:
        raise InvalidArgument("json: nested too deeply (a bank is {class: [descriptor, ...]}, "
                              "two levels)") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"json: expected an object {{class: [descriptor, ...]}}, got "
                              f"{type(doc).__name__}")
    if not doc:
        raise InvalidArgument("json: expected at least one class, got an empty object")
    if len(doc) > limits.max_classes:
        raise InvalidArgument(f"json: expected at most {limits.max_classes} classes, got "
                              f"{len(doc)}")
    classes, warnings = [], []
    for raw_name, items in doc.items():
        _check_unicode(raw_name, "json: class name")
        name = " ".join(raw_name.split())
        if not name or len(name) > limits.max_class_chars:
            raise InvalidArgument(f"json: class name {raw_name[:80]!r}: expected 1.."
                                  f"{limits.max_class_chars} characters")
        where = f"json[{name!r}]"
        if not isinstance(items, list) or not items:
            raise InvalidArgument(f"{where}: expected a non-empty list of descriptors, got "
                                  f"{_show(items)}")
        if len(items) > limits.max_descriptors:
            raise InvalidArgument(f"{where}: expected at most {limits.max_descriptors} "
                                  f"descriptors, got {len(items)}")
        kept = _descriptors(name, items, limits, warnings)
        if any(name == c for c, _ in classes):
            raise InvalidArgument(f"json: class {name!r} appears more than once")
        classes.append((name, kept))
    return classes, warnings


def _descriptors(name: str, items: list, limits: BankLimits, warnings: list[str]) -> list[str]:
    """One class's descriptors, normalised, repeats dropped (with a warning)."""
    where = f"json[{name!r}]"
    kept: dict[str, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidArgument(f"{where}[{i}]: expected a string, got {_show(item)}")
        _check_unicode(item, f"{where}[{i}]")
        text = " ".join(item.split())
        if not text:
            raise InvalidArgument(f"{where}[{i}]: expected a non-empty descriptor, got "
                                  f"{item!r}")
        words = len(text.split())
        if len(text) > limits.max_descriptor_chars or words > limits.max_descriptor_words:
            raise InvalidArgument(
                f"{where}[{i}]: expected at most {limits.max_descriptor_chars} characters "
                f"and {limits.max_descriptor_words} words, got {len(text)} characters "
                f"and {words} words")
        if text in kept:
            warnings.append(f"class {name!r}: descriptor {i} {text!r} repeats "
                            f"descriptor {kept[text]}; dropped")
            continue
        kept[text] = i
    return list(kept)


def _check_unicode(text: str, where: str) -> None:
    """JSON's \\ud800-style escapes can spell lone surrogates, which are not text (UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgument(f"{where}: contains the lone surrogate "
                              f"\\u{ord(text[e.start]):04x} (not valid Unicode text)") from None


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def map_class(wordnet: WordNet, name: str) -> str:
    """The synset a class name stands for ("" when none).

    A synset id (name, wnid or offset) maps to that synset; otherwise the name is read as a
    lemma and maps to its first noun sense ("great white shark" -> great_white_shark.n.01).
    """
    if is_synset_id(name):
        try:
            return wordnet.get(name, "class").name
        except NotFound:
            return ""
    senses = wordnet.noun_senses(name)
    return senses[0].name if senses else ""
