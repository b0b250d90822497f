"""cliplens.explanation."""
