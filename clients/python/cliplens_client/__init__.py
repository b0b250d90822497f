"""Python SDK and CLI for cliplens."""
