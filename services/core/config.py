"""Service configuration: keyword-only dataclasses filled from YAML and environment variables.

Precedence, lowest first: the dataclass defaults, the service's section of the YAML file named
by `CLIPLENS_CONFIG` (or passed explicitly), then `CLIPLENS_<SERVICE>_<FIELD>` variables.
Unknown keys are warned about; invalid values stop the service at start with a message naming
the key, the expected type and the value found.

    # cliplens.yaml
    embedding:
      port: 50151
      device: cuda
    gateway:
      api_keys_file: /etc/cliplens/keys.yaml
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

log = logging.getLogger(__name__)
T = TypeVar("T")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    """Settings every service shares. Services subclass this with their own fields."""

    host: str = "127.0.0.1"
    port: int = 0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0  # 0: pick a free port; -1: no metrics endpoint
    # A plaintext port serving only grpc.health.v1 (on `host`), for probes that cannot speak
    # TLS (the kubelet's gRPC probes) when `port` serves TLS; -1: none.
    health_port: int = -1
    max_message_mb: int = 64
    max_concurrent_rpcs: int = 256
    grace_seconds: float = 10.0
    log_level: str = "INFO"
    log_format: str = "json"  # "json" or "text"
    # TLS: server certificate and key (PEM paths); client CA for mutual TLS. Re-read when the
    # files change (cert-manager renewing the Secret), for the connections made after.
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    # CA that signs the peers' certificates, used when this service dials other services, and
    # this service's client certificate and key for peers that require mutual TLS.
    tls_peer_ca: str = ""
    tls_peer_cert: str = ""
    tls_peer_key: str = ""

    def __post_init__(self) -> None:
        _check(0 <= self.port <= 65535, "port", "0..65535", self.port)
        _check(-1 <= self.metrics_port <= 65535, "metrics_port", "-1..65535", self.metrics_port)
        _check(-1 <= self.health_port <= 65535, "health_port", "-1..65535", self.health_port)
        _check(1 <= self.max_message_mb <= 2047, "max_message_mb", "1..2047", self.max_message_mb)
        _check(self.max_concurrent_rpcs >= 1, "max_concurrent_rpcs", ">= 1",
               self.max_concurrent_rpcs)
        _check(self.grace_seconds >= 0, "grace_seconds", ">= 0", self.grace_seconds)
        _check(self.log_level.upper() in logging.getLevelNamesMapping(), "log_level",
               "a logging level name", self.log_level)
        _check(self.log_format in ("json", "text"), "log_format", "json or text",
               self.log_format)
        _check(bool(self.tls_cert) == bool(self.tls_key), "tls_cert/tls_key",
               "both or neither", (self.tls_cert, self.tls_key))
        _check(not self.tls_client_ca or bool(self.tls_cert), "tls_client_ca",
               "only with tls_cert and tls_key", self.tls_client_ca)
        _check(bool(self.tls_peer_cert) == bool(self.tls_peer_key), "tls_peer_cert/tls_peer_key",
               "both or neither", (self.tls_peer_cert, self.tls_peer_key))
        _check(not self.tls_peer_cert or bool(self.tls_peer_ca), "tls_peer_cert",
               "only with tls_peer_ca", self.tls_peer_cert)
        for name in ("tls_cert", "tls_key", "tls_client_ca", "tls_peer_ca", "tls_peer_cert",
                     "tls_peer_key"):
            value = getattr(self, name)
            _check(not value or Path(value).is_file(), name, "an existing PEM file", value)

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mb * 1024 * 1024


def _check(ok: bool, key: str, expected: str, actual: Any) -> None:
    if not ok:
        raise ConfigError(f"{key}: expected {expected}, got {actual!r}")


def _parse(raw: Any, annotation: Any, key: str) -> Any:
    """Coerce a YAML value or an environment string to the field's type."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if raw is None or raw == "":
            return None
        return _parse(raw, inner[0], key)
    try:
        if annotation is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if annotation in (int, float, str):
            if annotation is int and isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return annotation(raw)
        if annotation is Path:
            return Path(raw)
        if origin is tuple:
            items = raw if isinstance(raw, (list, tuple)) else [
                s.strip() for s in str(raw).split(",") if s.strip()]
            return tuple(_parse(x, args[0], key) for x in items)
        if origin is dict or annotation is dict:
            return dict(json.loads(raw) if isinstance(raw, str) else raw)
    except (TypeError, ValueError, json.JSONDecodeError) as e:
        raise ConfigError(f"{key}: expected {getattr(annotation, '__name__', annotation)}, "
                          f"got {raw!r}") from e
    return raw


def load_config(cls: type[T], service: str, *, path: str | os.PathLike | None = None,
                env: typing.Mapping[str, str] | None = None, **overrides: Any) -> T:
    """Build `cls` for `service` from defaults, the YAML file, the environment and overrides."""
    env = os.environ if env is None else env
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    path = path or env.get("CLIPLENS_CONFIG")
    if path:
        try:
            doc = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read configuration file {path}: {e}") from e
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: expected a mapping of service sections")
        section = doc.get(service) or {}
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: section {service!r} must be a mapping")
        for key, raw in section.items():
            if key not in names:
                log.warning("%s: unknown key %s.%s ignored", path, service, key)
                continue
            values[key] = _parse(raw, hints[key], f"{service}.{key}")
    prefix = f"CLIPLENS_{service.upper()}_"
    for var, raw in env.items():
        if not var.startswith(prefix):
            continue
        key = var[len(prefix):].lower()
        if key not in names:
            log.warning("unknown environment variable %s ignored", var)
            continue
        values[key] = _parse(raw, hints[key], var)
    values.update(overrides)
    try:
        return cls(**values)
    except ConfigError as e:
        raise ConfigError(f"invalid {service} configuration: {e}") from None
