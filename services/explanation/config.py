"""Explanation service settings (section `explanation`, or CLIPLENS_EXPLANATION_*)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cliplens.core.config import ConfigError, ServiceConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExplanationConfig(ServiceConfig):
    """Where the peers are, the caches, and the limits of one call."""

    port: int = 50153
    metrics_port: int = 9153
    embedding_target: str = "127.0.0.1:50151"
    lexicon_target: str = "127.0.0.1:50152"
    # Text embeddings of dictionaries and banks, per (model fingerprint, content hash).
    cache_dir: str = str(Path.home() / ".cache" / "cliplens" / "explanation")
    cache_entries: int = 32
    # Dictionary used when a request names none: this for toyworld models, else `physical`.
    toyworld_dictionary: str = "toyworld"
    default_dictionary: str = "physical"
    max_images: int = 64
    # Images of one dataset-level call (EvaluateLocalization, MutualKnowledgeDataset), which
    # stream progress and work through their images a batch at a time.
    max_dataset_images: int = 1024
    max_labels: int = 1000
    max_concepts: int = 16
    # Decoded pixels of all the images of one call together (one 40-megapixel image fits).
    max_request_pixels: int = 50_000_000
    # ConVis grid: windows per EncodeRegions chunk.
    region_chunk: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("max_images", "max_dataset_images", "max_labels", "max_concepts",
                     "region_chunk", "cache_entries", "max_request_pixels"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if not self.embedding_target or not self.lexicon_target:
            raise ConfigError("embedding_target and lexicon_target: expected addresses")
