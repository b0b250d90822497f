"""Lexicon metrics (names are the dashboard's contract)."""

from prometheus_client import Gauge

WORDNET_LOAD_SECONDS = Gauge("cliplens_lexicon_wordnet_load_seconds",
                             "Time to open WordNet and build the preset dictionaries at start.")
BANKS = Gauge("cliplens_lexicon_banks", "Descriptor banks in the store.")
DICTIONARIES = Gauge("cliplens_lexicon_dictionaries",
                     "Concept dictionaries served (presets and user word lists).")
