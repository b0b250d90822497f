"""Lexicon service settings (section `lexicon`, or CLIPLENS_LEXICON_*)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cliplens.core.config import ConfigError, ServiceConfig
from cliplens.lexicon.banks import BankLimits
from cliplens.lexicon.index import DEFAULT_INDEX

DEFAULT_DATABASE = Path.home() / ".cache" / "cliplens" / "lexicon.sqlite3"


@dataclasses.dataclass(frozen=True, kw_only=True)
class LexiconConfig(ServiceConfig):
    """Where the store and the prepared WordNet index live, and the limits of one request."""

    port: int = 50152
    metrics_port: int = 9152
    # Banks and user dictionaries (SQLite, WAL).
    database: str = str(DEFAULT_DATABASE)
    # The prepared WordNet index (`python -m cliplens.lexicon.setup`); built at start if absent.
    wordnet_index: str = str(DEFAULT_INDEX)
    max_bank_bytes: int = 5 * 1024 * 1024
    max_bank_classes: int = 5000
    max_class_descriptors: int = 200
    max_descriptor_chars: int = 200
    max_descriptor_words: int = 40
    # Words in one CreateDictionary call, and user dictionaries kept.
    max_words: int = 20000
    max_user_dictionaries: int = 1000

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("max_bank_bytes", "max_bank_classes", "max_class_descriptors",
                     "max_descriptor_chars", "max_descriptor_words", "max_words",
                     "max_user_dictionaries"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.max_bank_bytes > self.max_message_bytes:
            raise ConfigError(f"max_bank_bytes: expected <= max_message_mb * 2**20 "
                              f"({self.max_message_bytes}), got {self.max_bank_bytes}")
        for name in ("database", "wordnet_index"):
            if not getattr(self, name):
                raise ConfigError(f"{name}: expected a file path, got ''")

    @property
    def bank_limits(self) -> BankLimits:
        return BankLimits(max_bytes=self.max_bank_bytes, max_classes=self.max_bank_classes,
                          max_descriptors=self.max_class_descriptors,
                          max_descriptor_chars=self.max_descriptor_chars,
                          max_descriptor_words=self.max_descriptor_words)
