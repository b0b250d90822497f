"""Python SDK for cliplens.

    from cliplens.client import Client
    client = Client("127.0.0.1:50150", api_key="...")
    client.lexicon.GetSynset(lexicon_pb2.GetSynsetRequest(id="dog.n.01"))

`client.embedding`, `client.lexicon`, `client.explanation` and `client.gateway` are the raw
services (every RPC of `cliplens.v1`, with the key, deadline and typed errors applied); the
high-level helpers build on them.
"""

from __future__ import annotations

from cliplens.client.errors import (
    AlreadyExistsError,
    CliplensClientError,
    DeadlineExceededError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
)
from cliplens.client.sync import Client

__all__ = [
    "AlreadyExistsError", "Client", "CliplensClientError", "DeadlineExceededError",
    "InvalidArgumentError", "NotFoundError", "PermissionDeniedError", "ResourceExhaustedError",
    "UnauthenticatedError", "UnavailableError",
]
