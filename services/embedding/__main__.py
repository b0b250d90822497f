"""`python -m cliplens.embedding`: serve the embedding service."""

from __future__ import annotations

import sys

from cliplens.core.config import ConfigError, load_config
from cliplens.core.logs import setup_logging
from cliplens.core.server import run_service
from cliplens.embedding.config import EmbeddingConfig
from cliplens.embedding.service import start


def main() -> None:
    """Load the configuration, then serve until SIGTERM (exit 2 on a bad configuration)."""
    try:
        config = load_config(EmbeddingConfig, "embedding")
    except ConfigError as e:
        sys.stderr.write(f"cliplens embedding: {e}\n")
        raise SystemExit(2) from None
    setup_logging("embedding", level=config.log_level, fmt=config.log_format)
    run_service(lambda: start(config))


if __name__ == "__main__":
    main()
