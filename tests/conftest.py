"""Fixtures shared by every test: real servers on ephemeral loopback ports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import support` in any test


def _servers():
    from cliplens.core.server import ServerThread

    threads = []

    def _serve(start, *, wait_ready: bool = True):
        thread = ServerThread(start)
        threads.append(thread)
        return thread.start(wait_ready=wait_ready)

    yield _serve
    for thread in reversed(threads):
        thread.stop()


@pytest.fixture
def serve():
    """Start a service in a background thread: `running = serve(lambda: start(config))`.

    Servers are stopped when the test ends.
    """
    yield from _servers()


@pytest.fixture(scope="module")
def serve_module():
    """`serve` for servers a whole test module shares (stopped after its last test)."""
    yield from _servers()


@pytest.fixture(scope="session")
def hf_checkpoints(tmp_path_factory):
    """transformers-layout CLIPModel and SiglipModel folders, tiny random towers (built once)."""
    import hf_models

    root = tmp_path_factory.mktemp("hf-checkpoints")
    return {"clip": hf_models.clip_checkpoint(root / "clip"),
            "siglip": hf_models.siglip_checkpoint(root / "siglip")}
