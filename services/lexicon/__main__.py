"""`python -m cliplens.lexicon`: serve WordNet, concept dictionaries and descriptor banks."""

from cliplens.core.server import service_main
from cliplens.lexicon.config import LexiconConfig
from cliplens.lexicon.service import start

if __name__ == "__main__":
    service_main(LexiconConfig, "lexicon", start)
