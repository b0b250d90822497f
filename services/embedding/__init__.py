"""cliplens.embedding."""
