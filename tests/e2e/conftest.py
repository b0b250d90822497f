"""The real processes: `cliplens up` on free ports in a private run directory."""

from __future__ import annotations

import os
import socket

import pytest


def _free_base(span: int = 4) -> int:
    """A base port with `span` consecutive free ports after it."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + span >= 65535:
            continue
        ok = True
        for p in range(base, base + span):
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    """The four services started as processes (toyworld model), stopped at the end."""
    from cliplens.client import local

    run_dir = tmp_path_factory.mktemp("run")
    os.environ["CLIPLENS_RUN_DIR"] = str(run_dir)
    env = {"CLIPLENS_LEXICON_DATABASE": str(run_dir / "lexicon.sqlite3"),
           "CLIPLENS_EXPLANATION_CACHE_DIR": str(run_dir / "cache")}
    layout = local.Layout(base_port=_free_base(), metrics_base=_free_base())
    try:
        local.up(layout, timeout=300, env=env)
    except local.LocalError:
        local.down()
        raise
    yield layout
    local.down()
