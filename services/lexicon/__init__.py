"""cliplens.lexicon."""
