"""Gateway settings (section `gateway` of the YAML file, or CLIPLENS_GATEWAY_* variables)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cliplens.core.config import ConfigError, ServiceConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class GatewayConfig(ServiceConfig):
    """Where the peers are, who may call, and how much."""

    port: int = 50150
    metrics_port: int = 9150
    # Peers: "host:port", "host:port,host:port" (replicas) or a gRPC URI ("dns:///name:port").
    embedding_target: str = "127.0.0.1:50151"
    lexicon_target: str = "127.0.0.1:50152"
    explanation_target: str = "127.0.0.1:50153"
    # API keys: a YAML file (see cliplens.gateway.auth) and/or "name:key[:scope+scope]" entries
    # separated by ';' in CLIPLENS_GATEWAY_API_KEYS. No keys: authentication is off.
    api_keys_file: str = ""
    api_keys: str = ""
    # Per-key token bucket: sustained requests per second and burst (0: unlimited).
    rate_per_second: float = 0.0
    rate_burst: int = 0
    # Largest request a caller may send.
    max_request_mb: int = 32
    # Attempts per idempotent call when a peer answers UNAVAILABLE.
    upstream_attempts: int = 4
    # Deadline given to an upstream call when the caller set none, so a hung peer cannot hold
    # a call (and its concurrency slot) forever; 0: none. A caller's own deadline always wins.
    upstream_timeout_seconds: float = 3600.0
    # How often peer health is polled for the aggregated health and GetStatus.
    health_poll_seconds: float = 2.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("embedding_target", "lexicon_target", "explanation_target"):
            if not getattr(self, name):
                raise ConfigError(f"{name}: expected an address, got ''")
        if self.api_keys_file and not Path(self.api_keys_file).is_file():
            raise ConfigError(f"api_keys_file: no such file {self.api_keys_file!r}")
        if self.rate_per_second < 0 or self.rate_burst < 0:
            raise ConfigError(f"rate_per_second/rate_burst: expected >= 0, got "
                              f"{self.rate_per_second}/{self.rate_burst}")
        if not 1 <= self.max_request_mb <= self.max_message_mb:
            raise ConfigError(f"max_request_mb: expected 1..max_message_mb "
                              f"({self.max_message_mb}), got {self.max_request_mb}")
        if self.upstream_timeout_seconds < 0:
            raise ConfigError(f"upstream_timeout_seconds: expected >= 0, got "
                              f"{self.upstream_timeout_seconds}")
        if not 1 <= self.upstream_attempts <= 5:
            raise ConfigError(f"upstream_attempts: expected 1..5, got {self.upstream_attempts}")
