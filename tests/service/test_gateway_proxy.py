"""The gateway's byte-level proxy over real in-thread peers: replies identical to the peers',
streams passed through, the peers' statuses passed on, keys and scopes enforced, peers' health
reported."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
import stack as stacks

from cliplens.core.tensors import from_proto
from cliplens.v1 import (
    common_pb2,
    embedding_pb2,
    explanation_pb2,
    explanation_pb2_grpc,
    gateway_pb2,
    gateway_pb2_grpc,
    lexicon_pb2,
    lexicon_pb2_grpc,
)

KEYS = "reader:r-secret:read;keeper:k-secret:read+admin"


@pytest.fixture(scope="module")
def stack(serve_module, tmp_path_factory):
    return stacks.start_stack(serve_module, tmp_path_factory.mktemp("gateway"),
                              extra_models=False)


@pytest.fixture(scope="module")
def keyed(serve_module, stack):
    """A second gateway in front of the same peers, with API keys."""
    from cliplens.gateway.config import GatewayConfig
    from cliplens.gateway.service import start

    running = serve_module(lambda: start(GatewayConfig(
        port=0, metrics_port=-1, grace_seconds=0, api_keys=KEYS,
        **{f"{s}_target": stack.targets[s] for s in ("embedding", "lexicon", "explanation")})))
    return grpc.insecure_channel(f"127.0.0.1:{running.port}")


def test_unary_replies_are_the_peers_own_bytes(stack):
    request = embedding_pb2.EncodeTextsRequest(texts=["a red car", "a tree"], normalize=True)
    direct = stack.embedding.EncodeTexts(request)
    through = stack.channel("gateway").unary_unary(
        "/cliplens.v1.EmbeddingService/EncodeTexts",
        request_serializer=embedding_pb2.EncodeTextsRequest.SerializeToString,
        response_deserializer=embedding_pb2.EncodeTextsResponse.FromString)(request)
    assert through.SerializeToString() == direct.SerializeToString()
    assert from_proto(through.embeddings).shape[0] == 2


def test_streams_pass_through_progress_then_the_result(stack):
    from cliplens.toyworld.examples import load_examples

    stub = explanation_pb2_grpc.ExplanationServiceStub(stack.channel("gateway"))
    data = load_examples()[0].image_path.read_bytes()
    replies = list(stub.Convis(explanation_pb2.ConvisRequest(
        image=common_pb2.Image(data=data), concepts=["vehicle.n.01"],
        mode=explanation_pb2.CONVIS_MODE_DENSE)))
    assert replies[0].HasField("progress") and replies[-1].HasField("result")
    grid = from_proto(replies[-1].result.maps[0].map.grid)
    assert grid.ndim == 2 and np.isfinite(grid).all()


@pytest.mark.parametrize("ident, code", [("dgo.n.01", grpc.StatusCode.NOT_FOUND),
                                         ("dog", grpc.StatusCode.INVALID_ARGUMENT)])
def test_a_peers_status_and_message_are_passed_on(stack, ident, code):
    through = lexicon_pb2_grpc.LexiconServiceStub(stack.channel("gateway"))
    with pytest.raises(grpc.RpcError) as via_gateway:
        through.GetSynset(lexicon_pb2.GetSynsetRequest(id=ident))
    with pytest.raises(grpc.RpcError) as direct:
        stack.lexicon.GetSynset(lexicon_pb2.GetSynsetRequest(id=ident))
    assert via_gateway.value.code() == direct.value.code() == code
    assert via_gateway.value.details() == direct.value.details()


def test_status_reports_every_peer_serving(stack):
    deadline = time.monotonic() + 30
    while True:
        reply = stack.gateway.GetStatus(gateway_pb2.GetStatusRequest())
        states = {p.service: p.state for p in reply.peers}
        if set(states.values()) == {gateway_pb2.PEER_STATE_SERVING} or \
                time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert states == dict.fromkeys(("embedding", "lexicon", "explanation"),
                                   gateway_pb2.PEER_STATE_SERVING)
    assert not reply.auth_enabled and reply.caller == "anonymous"
    assert "cliplens.v1.ExplanationService" in reply.services


def test_keys_and_scopes_are_enforced(keyed):
    lexicon = lexicon_pb2_grpc.LexiconServiceStub(keyed)
    request = lexicon_pb2.GetSynsetRequest(id="dog.n.01")
    with pytest.raises(grpc.RpcError) as e:
        lexicon.GetSynset(request)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as e:
        lexicon.GetSynset(request, metadata=(("authorization", "Bearer wrong"),))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    reader = (("authorization", "Bearer r-secret"),)
    assert lexicon.GetSynset(request, metadata=reader).synset.name == "dog.n.01"
    delete = lexicon_pb2.DeleteBankRequest(id="no-such-bank")
    with pytest.raises(grpc.RpcError) as e:
        lexicon.DeleteBank(delete, metadata=reader)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as e:  # admin passes the gateway; lexicon answers
        lexicon.DeleteBank(delete, metadata=(("x-api-key", "k-secret"),))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    status = gateway_pb2_grpc.GatewayServiceStub(keyed).GetStatus(
        gateway_pb2.GetStatusRequest(), metadata=reader)
    assert status.auth_enabled and status.caller == "reader" and list(status.scopes) == ["read"]
