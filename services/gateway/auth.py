"""API keys, scopes and per-key rate limits.

Keys file (YAML):

    keys:
      - name: ci-pipeline
        key: "s3cr3t..."            # or sha256: "<hex of the key>" to keep keys out of files
        scopes: [read, admin]       # default [read]
        rate_per_second: 20         # optional, overrides the gateway default
        burst: 40

Scopes: `read` covers every query and explanation; `admin` is also needed to change stored
state (import, generate or delete descriptor banks). Keys are compared in constant time over
their sha256 digests and never logged; callers are identified by the key's name.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cliplens.core.config import ConfigError
from cliplens.core.errors import Overloaded, PermissionDenied, Unauthenticated

ADMIN_METHODS = frozenset({
    "/cliplens.v1.LexiconService/ImportBank",
    "/cliplens.v1.LexiconService/GenerateBank",
    "/cliplens.v1.LexiconService/DeleteBank",
})
SCOPES = ("read", "admin")


@dataclass
class ApiKey:
    """A configured key: its name, digest, scopes and rate limit."""

    name: str
    digest: bytes  # sha256 of the key
    scopes: frozenset[str]
    rate_per_second: float = 0.0
    burst: int = 0


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """0 when a token was taken, else seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_keys(file: str = "", inline: str = "") -> list[ApiKey]:
    """Keys from the YAML file and the inline 'name:key[:scope+scope]' list."""
    keys: list[ApiKey] = []
    if file:
        try:
            doc = yaml.safe_load(Path(file).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"api_keys_file {file}: {e}") from None
        for i, entry in enumerate(doc.get("keys") or []):
            where = f"api_keys_file {file}: keys[{i}]"
            if not isinstance(entry, dict) or not entry.get("name"):
                raise ConfigError(f"{where}: expected a mapping with a name")
            if entry.get("key"):
                digest = _digest(str(entry["key"]))
            elif entry.get("sha256"):
                try:
                    digest = bytes.fromhex(str(entry["sha256"]))
                except ValueError:
                    raise ConfigError(f"{where}: sha256 is not hex") from None
            else:
                raise ConfigError(f"{where}: needs key or sha256")
            scopes = frozenset(entry.get("scopes") or ["read"])
            if not scopes <= set(SCOPES):
                raise ConfigError(f"{where}: scopes must be among {SCOPES}, got {sorted(scopes)}")
            keys.append(ApiKey(str(entry["name"]), digest, scopes,
                               float(entry.get("rate_per_second", 0)), int(entry.get("burst", 0))))
    for i, item in enumerate(s for s in inline.split(";") if s.strip()):
        parts = item.strip().split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ConfigError(f"api_keys entry {i}: expected name:key[:scope+scope]")
        scopes = frozenset(parts[2].split("+")) if len(parts) == 3 else frozenset({"read"})
        if not scopes <= set(SCOPES):
            raise ConfigError(f"api_keys entry {i}: scopes must be among {SCOPES}")
        keys.append(ApiKey(parts[0], _digest(parts[1]), scopes))
    names = [k.name for k in keys]
    if len(names) != len(set(names)):
        raise ConfigError("api keys: names must be unique")
    return keys


@dataclass(frozen=True)
class Caller:
    """Who is calling (the key's name) and what they may do."""

    name: str
    scopes: frozenset[str]


ANONYMOUS = Caller("anonymous", frozenset(SCOPES))


class Guard:
    """Authenticates a call, checks its scope and charges its rate limit."""

    def __init__(self, keys: list[ApiKey], *, rate_per_second: float = 0.0, burst: int = 0):
        self.keys = keys
        self.rate = rate_per_second
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def authenticate(self, metadata) -> Caller:
        if not self.keys:
            return ANONYMOUS
        presented = None
        for k, v in metadata or ():
            if k == "authorization" and v.lower().startswith("bearer "):
                presented = v[7:].strip()
            elif k == "x-api-key":
                presented = v.strip()
        if not presented:
            raise Unauthenticated("missing API key: send 'authorization: Bearer <key>'")
        digest = _digest(presented)
        found = None
        for key in self.keys:  # compare against every key: timing says nothing about which
            if hmac.compare_digest(digest, key.digest):
                found = key
        if found is None:
            raise Unauthenticated("unknown API key")
        return Caller(found.name, found.scopes)

    def authorize(self, caller: Caller, method: str) -> None:
        needed = "admin" if method in ADMIN_METHODS else "read"
        if needed not in caller.scopes:
            raise PermissionDenied(
                f"API key {caller.name!r} lacks scope {needed!r} for {method}")

    def charge(self, caller: Caller) -> None:
        key = next((k for k in self.keys if k.name == caller.name), None)
        rate = key.rate_per_second if key and key.rate_per_second else self.rate
        burst = key.burst if key and key.burst else (self.burst or max(1, int(rate)))
        if rate <= 0:
            return
        with self._lock:
            bucket = self._buckets.get(caller.name)
            if bucket is None or bucket.rate != rate:
                bucket = self._buckets[caller.name] = _Bucket(rate, burst, burst)
            wait = bucket.take()
        if wait > 0:
            raise Overloaded(
                f"rate limit of {rate:g} requests/s for {caller.name!r} exceeded; "
                f"retry in {wait * 1000:.0f} ms",
                trailers={"retry-after-ms": str(max(1, round(wait * 1000)))})

    def check(self, metadata, method: str) -> Caller:
        """Authenticate, authorize and rate-limit one call (raises the matching error)."""
        caller = self.authenticate(metadata)
        self.authorize(caller, method)
        self.charge(caller)
        return caller
