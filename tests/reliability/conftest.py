"""A deployment with two embedding replicas, for the fault tests.

lexicon, embedding-a, embedding-b, explanation and gateway as real processes on free loopback
ports; the gateway and explanation list both replicas as one round-robin target.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from procs import Proc, start_all


@dataclass
class Cluster:
    """The processes of the fault-test deployment."""

    lexicon: Proc
    embedding_a: Proc
    embedding_b: Proc
    explanation: Proc
    gateway: Proc

    @property
    def all(self) -> list[Proc]:
        return [self.lexicon, self.embedding_a, self.embedding_b, self.explanation,
                self.gateway]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    run = tmp_path_factory.mktemp("cluster")
    lexicon = Proc("lexicon", run, env={"CLIPLENS_LEXICON_DATABASE": str(run / "lexicon.db")})
    embedding = {"CLIPLENS_EMBEDDING_TORCH_THREADS": "1"}
    a = Proc("embedding", run, name="embedding-a", env=embedding)
    b = Proc("embedding", run, name="embedding-b", env=embedding)
    replicas = f"{a.address},{b.address}"
    explanation = Proc("explanation", run, env={
        "CLIPLENS_EXPLANATION_EMBEDDING_TARGET": replicas,
        "CLIPLENS_EXPLANATION_LEXICON_TARGET": lexicon.address,
        "CLIPLENS_EXPLANATION_CACHE_DIR": str(run / "cache")})
    gateway = Proc("gateway", run, env={
        "CLIPLENS_GATEWAY_EMBEDDING_TARGET": replicas,
        "CLIPLENS_GATEWAY_LEXICON_TARGET": lexicon.address,
        "CLIPLENS_GATEWAY_EXPLANATION_TARGET": explanation.address,
        "CLIPLENS_GATEWAY_HEALTH_POLL_SECONDS": "0.5"})
    c = Cluster(lexicon, a, b, explanation, gateway)
    start_all(c.all)
    yield c
    for p in reversed(c.all):
        p.stop()
