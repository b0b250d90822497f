"""cliplens.core."""
