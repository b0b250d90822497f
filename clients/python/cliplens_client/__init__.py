"""Python SDK for cliplens.

    from cliplens.client import Client
    client = Client("127.0.0.1:50150", api_key="...")
    maps = client.surgery("scene.png", ["car.n.01", "tree.n.01"])   # numpy maps
    client.lexicon.GetSynset(lexicon_pb2.GetSynsetRequest(id="dog.n.01"))   # any raw RPC

High-level calls take paths, bytes, PIL images or numpy arrays and return numpy arrays and
small dataclasses; `client.embedding`, `client.lexicon`, `client.explanation` and
`client.gateway` expose every RPC of `cliplens.v1` with the key, deadline and typed errors
applied. `AsyncClient` is the same for asyncio.
"""

from __future__ import annotations

from cliplens.client.aio import AsyncClient
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
from cliplens.client.operations import overlay
from cliplens.client.sync import Client

__all__ = [
    "AlreadyExistsError", "AsyncClient", "Client", "CliplensClientError",
    "DeadlineExceededError", "InvalidArgumentError", "NotFoundError", "PermissionDeniedError",
    "ResourceExhaustedError", "UnauthenticatedError", "UnavailableError", "overlay",
]
