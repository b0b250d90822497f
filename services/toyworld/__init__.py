"""cliplens.toyworld."""
