"""Client channels between services: message limits, round-robin over replicas, retries.

A target is "host:port", a comma-separated list of replicas ("127.0.0.1:1,127.0.0.1:2",
dialled as one round-robin channel), or any gRPC URI ("dns:///embedding:50151", which
round-robins over every address a headless Kubernetes Service resolves to).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc

from cliplens.core.errors import PeerError

# Methods that change state are not retried: a retry after a lost reply could apply twice.
NON_IDEMPOTENT = (
    "/cliplens.v1.LexiconService/ImportBank",
    "/cliplens.v1.LexiconService/GenerateBank",
    "/cliplens.v1.LexiconService/DeleteBank",
)
RETRIED_SERVICES = ("cliplens.v1.EmbeddingService", "cliplens.v1.LexiconService",
                    "cliplens.v1.ExplanationService", "cliplens.v1.GatewayService")


def service_config(*, max_attempts: int = 4, initial_backoff: float = 0.05,
                   max_backoff: float = 1.0) -> str:
    """gRPC service config: round_robin, and retries on UNAVAILABLE for idempotent methods."""
    retry = {"maxAttempts": max_attempts, "initialBackoff": f"{initial_backoff}s",
             "maxBackoff": f"{max_backoff}s", "backoffMultiplier": 2,
             "retryableStatusCodes": ["UNAVAILABLE"]}
    no_retry = [{"service": m.split("/")[1], "method": m.split("/")[2]} for m in NON_IDEMPOTENT]
    return json.dumps({
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {"name": [{"service": s} for s in RETRIED_SERVICES], "retryPolicy": retry},
            {"name": no_retry},
        ],
    })


def normalize_target(target: str) -> str:
    """'a:1,b:2' -> 'ipv4:a:1,b:2' so one channel balances over the listed replicas."""
    if "," in target and ":///" not in target and not target.startswith(("ipv4:", "ipv6:")):
        return "ipv4:" + target
    return target


def channel_options(max_message_bytes: int, *, retries: bool = True,
                    max_attempts: int = 4) -> list[tuple[str, object]]:
    """Channel options: message limits, keepalive, retry policy, fast reconnects."""
    opts: list[tuple[str, object]] = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.enable_retries", 1 if retries else 0),
        ("grpc.service_config", service_config(max_attempts=min(5, max_attempts))),
        # Reconnect quickly after a peer restarts instead of waiting out a long backoff.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ]
    return opts


def channel_credentials(ca: str = "", cert: str = "", key: str = "") -> grpc.ChannelCredentials:
    """TLS credentials (with a client certificate for mutual TLS when given)."""
    return grpc.ssl_channel_credentials(
        root_certificates=Path(ca).read_bytes() if ca else None,
        private_key=Path(key).read_bytes() if key else None,
        certificate_chain=Path(cert).read_bytes() if cert else None)


def peer_credentials(config: Any) -> grpc.ChannelCredentials | None:
    """How a service dials its peers: TLS (mutual with its client certificate) or plaintext.

    `config` is a ServiceConfig (its tls_peer_ca, tls_peer_cert and tls_peer_key).
    """
    if not config.tls_peer_ca:
        return None
    return channel_credentials(config.tls_peer_ca, config.tls_peer_cert, config.tls_peer_key)


def aio_channel(target: str, *, max_message_bytes: int = 64 << 20,
                credentials: grpc.ChannelCredentials | None = None,
                retries: bool = True, max_attempts: int = 4) -> grpc.aio.Channel:
    """An asyncio channel to a peer service."""
    opts = channel_options(max_message_bytes, retries=retries and max_attempts > 1,
                           max_attempts=max(2, max_attempts))
    target = normalize_target(target)
    if credentials is not None:
        return grpc.aio.secure_channel(target, credentials, options=opts)
    return grpc.aio.insecure_channel(target, options=opts)


def sync_channel(target: str, *, max_message_bytes: int = 64 << 20,
                 credentials: grpc.ChannelCredentials | None = None,
                 retries: bool = True, max_attempts: int = 4) -> grpc.Channel:
    """A blocking channel (SDK, CLI, tests)."""
    opts = channel_options(max_message_bytes, retries=retries and max_attempts > 1,
                           max_attempts=max(2, max_attempts))
    target = normalize_target(target)
    if credentials is not None:
        return grpc.secure_channel(target, credentials, options=opts)
    return grpc.insecure_channel(target, options=opts)


def from_peer(error: grpc.RpcError, peer: str) -> PeerError:
    """The error to raise when a call to `peer` failed (UNAVAILABLE names the peer)."""
    code = error.code()
    details = error.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        details = f"{peer} unavailable: {details}"
    return PeerError(code.name, details)
