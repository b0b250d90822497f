"""TLS between every service and at the gateway (mutual TLS option), with certificates made here.

    .venv/bin/pytest tests/reliability/test_tls.py

The four services run as processes, each requiring a client certificate signed by the test CA
(mutual TLS) and dialling its peers with its own; a caller reaches the chain only through the
gateway with a certificate. A second gateway runs TLS without client certificates (the plain
TLS option). Certificates come from the `openssl` command (EC P-256, SAN 127.0.0.1/localhost).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest
from procs import Proc, start_all
from support import make_ca, make_leaf

from cliplens.client import Client, CliplensClientError
from cliplens.core.channels import channel_credentials
from cliplens.toyworld.examples import load_examples
from cliplens.v1 import embedding_pb2, embedding_pb2_grpc

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")]

IMAGE = load_examples()[0].image_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """ca (trusted), service + client certificates it signed; rogue-ca and a client it signed."""
    folder = tmp_path_factory.mktemp("pki")
    make_ca(folder, "ca")
    make_leaf(folder, "service", "ca")
    make_leaf(folder, "client", "ca")
    make_ca(folder, "rogue-ca")
    make_leaf(folder, "rogue", "rogue-ca")
    return folder


def _tls_env(module: str, pki: Path, *, client_ca: bool = True) -> dict[str, str]:
    p = f"CLIPLENS_{module.upper()}_"
    env = {f"{p}TLS_CERT": str(pki / "service.pem"), f"{p}TLS_KEY": str(pki / "service.key"),
           f"{p}TLS_PEER_CA": str(pki / "ca.pem"), f"{p}TLS_PEER_CERT": str(pki / "service.pem"),
           f"{p}TLS_PEER_KEY": str(pki / "service.key")}
    if client_ca:
        env[f"{p}TLS_CLIENT_CA"] = str(pki / "ca.pem")
    return env


def _creds(pki: Path, ca: str = "ca", cert: str | None = "client") -> grpc.ChannelCredentials:
    return channel_credentials(str(pki / f"{ca}.pem"), str(pki / f"{cert}.pem") if cert else "",
                               str(pki / f"{cert}.key") if cert else "")


@pytest.fixture(scope="module")
def tls(pki, tmp_path_factory):
    run = tmp_path_factory.mktemp("tls")
    creds = _creds(pki)
    lexicon = Proc("lexicon", run, credentials=creds, env={
        **_tls_env("lexicon", pki), "CLIPLENS_LEXICON_DATABASE": str(run / "lexicon.db")})
    embedding = Proc("embedding", run, credentials=creds, env={
        **_tls_env("embedding", pki), "CLIPLENS_EMBEDDING_TORCH_THREADS": "1"})
    explanation = Proc("explanation", run, credentials=creds, env={
        **_tls_env("explanation", pki),
        "CLIPLENS_EXPLANATION_EMBEDDING_TARGET": embedding.address,
        "CLIPLENS_EXPLANATION_LEXICON_TARGET": lexicon.address,
        "CLIPLENS_EXPLANATION_CACHE_DIR": str(run / "cache")})
    peers = {"CLIPLENS_GATEWAY_EMBEDDING_TARGET": embedding.address,
             "CLIPLENS_GATEWAY_LEXICON_TARGET": lexicon.address,
             "CLIPLENS_GATEWAY_EXPLANATION_TARGET": explanation.address}
    gateway = Proc("gateway", run, credentials=creds,
                   env={**_tls_env("gateway", pki), **peers})
    tls_only = Proc("gateway", run, name="gateway-tls-only", credentials=_creds(pki, cert=None),
                    env={**_tls_env("gateway", pki, client_ca=False), **peers})
    procs = [lexicon, embedding, explanation, gateway, tls_only]
    start_all(procs)
    yield {p.name: p for p in procs}
    for p in reversed(procs):
        p.stop()


def _client(proc: Proc, pki: Path, **tls_files) -> Client:
    return Client(proc.address, timeout=30, retries=0, **tls_files)


def _files(pki: Path, ca: str = "ca", cert: str | None = "client") -> dict[str, str]:
    out = {"ca": str(pki / f"{ca}.pem")}
    if cert:
        out |= {"cert": str(pki / f"{cert}.pem"), "key": str(pki / f"{cert}.key")}
    return out


def test_the_whole_chain_runs_over_mutual_tls(tls, pki):
    """gateway -> explanation -> embedding + lexicon, every hop mutual TLS."""
    with _client(tls["gateway"], pki, **_files(pki)) as client:
        top = client.classify(IMAGE, labels=["car.n.01", "bird.n.01", "tree.n.01"])
        assert top is not None
        assert client.synset("dog.n.01").name == "dog.n.01"
        assert client.encode_texts(["a car"]).shape == (1, 128)
        status = client.status()
    assert {p.service for p in status.peers} == {"embedding", "lexicon", "explanation"}
    assert all(p.state == 1 for p in status.peers), status.peers  # PEER_STATE_SERVING


@pytest.mark.parametrize("files, why", [
    ({}, "plaintext"),
    ({"ca": "ca", "cert": None}, "no client certificate"),
    ({"ca": "ca", "cert": "rogue"}, "client certificate from another CA"),
    ({"ca": "rogue-ca", "cert": "client"}, "server certificate not trusted"),
])
def test_the_mtls_gateway_refuses(tls, pki, files, why):
    tls_files = _files(pki, files["ca"], files["cert"]) if files else {}
    with _client(tls["gateway"], pki, **tls_files) as client:
        with pytest.raises(CliplensClientError) as e:
            client.status()
    assert e.value.code == grpc.StatusCode.UNAVAILABLE, why


@pytest.mark.parametrize("service", ["embedding", "lexicon", "explanation"])
def test_internal_services_require_a_client_certificate(tls, pki, service):
    """Going around the gateway needs a certificate the services' CA signed."""
    target = tls[service]
    for creds in (_creds(pki, cert=None), _creds(pki, cert="rogue")):
        with grpc.secure_channel(target.address, creds) as channel:
            with pytest.raises(grpc.RpcError) as e:
                embedding_pb2_grpc.EmbeddingServiceStub(channel).ListModels(
                    embedding_pb2.ListModelsRequest(), timeout=10)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        with grpc.insecure_channel(target.address) as channel:
            with pytest.raises(grpc.RpcError) as e:
                embedding_pb2_grpc.EmbeddingServiceStub(channel).ListModels(
                    embedding_pb2.ListModelsRequest(), timeout=10)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert target.health() == "SERVING"  # with the client certificate it answers


def test_the_tls_only_gateway_needs_no_client_certificate(tls, pki):
    gateway = tls["gateway-tls-only"]
    with _client(gateway, pki, **_files(pki, cert=None)) as client:
        assert client.synset("car.n.01").name == "car.n.01"
    with _client(gateway, pki) as client:  # plaintext
        with pytest.raises(CliplensClientError) as e:
            client.status()
    assert e.value.code == grpc.StatusCode.UNAVAILABLE
