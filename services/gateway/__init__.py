"""cliplens.gateway."""
