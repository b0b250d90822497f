"""Fixtures shared by every test: real servers on ephemeral loopback ports."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def free_port() -> int:
    """A TCP port nothing listens on right now (for processes that need one up front)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve():
    """Start a service in a background thread: `running = serve(lambda: start(config))`.

    Servers are stopped when the test ends.
    """
    from cliplens.core.server import ServerThread

    threads = []

    def _serve(start, *, wait_ready: bool = True):
        thread = ServerThread(start)
        threads.append(thread)
        return thread.start(wait_ready=wait_ready)

    yield _serve
    for thread in reversed(threads):
        thread.stop()
