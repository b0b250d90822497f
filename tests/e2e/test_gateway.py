"""The public surface through the gateway, with the real processes.

Every public RPC answers through the gateway; authentication on (a second gateway process
with keys, in front of the same peers) and off; a rate limit is hit; a peer killed in the
middle of a run gives UNAVAILABLE, and the gateway recovers when the peer returns.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import grpc
import numpy as np
import pytest
from support import free_port

from cliplens.client import (
    Client,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    local,
)
from cliplens.client.local import health
from cliplens.core.tensors import to_proto
from cliplens.toyworld.examples import load_examples
from cliplens.v1 import common_pb2, embedding_pb2, explanation_pb2, gateway_pb2, lexicon_pb2

pytestmark = pytest.mark.e2e

IMAGE = common_pb2.Image(data=load_examples()[0].image_path.read_bytes())
BANK_JSON = json.dumps({"car": ["four wheels", "a windshield"], "tree": ["a trunk", "leaves"]})


def _mask():
    return to_proto(load_examples()[0].mask(0))


def _box():
    x0, y0, x1, y1 = load_examples()[0].objects[0]["box"]
    return common_pb2.Box(x0=x0, y0=y0, x1=x1, y1=y1)


# Every public RPC with a valid request and a check of its reply.
PUBLIC_RPCS = {
    ("embedding", "ListModels"): (embedding_pb2.ListModelsRequest(),
                                  lambda r: "toyworld" in [m.ref.name for m in r.models]),
    ("embedding", "GetModel"): (embedding_pb2.GetModelRequest(model="toyworld"),
                                lambda r: r.model.grid_height == 10),
    ("embedding", "EncodeImages"): (embedding_pb2.EncodeImagesRequest(images=[IMAGE]),
                                    lambda r: list(r.embeddings.shape) == [1, 128]),
    ("embedding", "EncodeTexts"): (embedding_pb2.EncodeTextsRequest(texts=["a car", ""]),
                                   lambda r: list(r.embeddings.shape) == [2, 128]),
    ("embedding", "EncodeDense"): (embedding_pb2.EncodeDenseRequest(
        images=[IMAGE], mode=embedding_pb2.DENSE_MODE_SURGERY),
        lambda r: list(r.tokens.shape) == [1, 101, 128]),
    ("embedding", "EncodeRegions"): (embedding_pb2.EncodeRegionsRequest(
        image=IMAGE, windows=[common_pb2.Box(x0=0, y0=0, x1=40, y1=40)] * 3),
        lambda rs: sum(r.embeddings.shape[0] for r in rs) == 3),
    ("lexicon", "GetSynset"): (lexicon_pb2.GetSynsetRequest(id="n02084071"),
                               lambda r: r.synset.name == "dog.n.01"),
    ("lexicon", "GetSynsets"): (lexicon_pb2.GetSynsetsRequest(ids=["n02084071", "car.n.01"]),
                                lambda r: [s.name for s in r.synsets] == ["dog.n.01",
                                                                          "car.n.01"]),
    ("lexicon", "SearchSynsets"): (lexicon_pb2.SearchSynsetsRequest(lemma="Dogs"),
                                   lambda r: "dog.n.01" in [s.name for s in r.synsets]),
    ("lexicon", "ExpandSynset"): (lexicon_pb2.ExpandSynsetRequest(id="vehicle.n.01",
                                                                 max_depth=1),
                                  lambda r: len(r.synsets) > 3),
    ("lexicon", "GetLowestCommonHypernyms"): (
        lexicon_pb2.GetLowestCommonHypernymsRequest(ids=["car.n.01", "bicycle.n.01"]),
        lambda r: "wheeled_vehicle.n.01" in r.synsets),
    ("lexicon", "ListDictionaries"): (lexicon_pb2.ListDictionariesRequest(),
                                      lambda r: {"toyworld", "physical"} <= {
                                          d.id for d in r.dictionaries}),
    ("lexicon", "GetDictionary"): (lexicon_pb2.GetDictionaryRequest(id="toyworld"),
                                   lambda r: r.info.size == len(r.entries) > 100),
    ("lexicon", "CreateDictionary"): (lexicon_pb2.CreateDictionaryRequest(
        name="mine", words=["kite", "tent"]), lambda r: r.info.id.startswith("words-")),
    ("lexicon", "GetSubtree"): (lexicon_pb2.GetSubtreeRequest(dictionary_id="toyworld",
                                                             synset="vehicle.n.01"),
                                lambda r: "car.n.01" in r.synsets),
    ("lexicon", "ImportBank"): (lexicon_pb2.ImportBankRequest(name="e2e", json=BANK_JSON,
                                                             replace=True),
                                lambda r: r.info.descriptor_count == 4),
    ("lexicon", "ListBanks"): (lexicon_pb2.ListBanksRequest(), lambda r: True),
    ("lexicon", "GetBank"): (lexicon_pb2.GetBankRequest(id="e2e"),
                             lambda r: len(r.classes) == 2),
    ("lexicon", "GenerateBank"): (lexicon_pb2.GenerateBankRequest(
        name="e2e-wordnet", synsets=["car.n.01"], replace=True),
        lambda r: r.info.descriptor_count > 0),
    ("lexicon", "DeleteBank"): (lexicon_pb2.DeleteBankRequest(id="e2e-wordnet"),
                                lambda r: True),
    ("explanation", "Classify"): (explanation_pb2.ClassifyRequest(
        images=[IMAGE], labels=["car.n.01", "bird.n.01"]),
        lambda r: r.predictions[0].label in ("car", "bird")),
    ("explanation", "Rank"): (explanation_pb2.RankRequest(images=[IMAGE],
                                                          texts=["a car", "a fish"]),
                              lambda r: len(r.rankings[0].texts) == 2),
    ("explanation", "Surgery"): (explanation_pb2.SurgeryRequest(
        images=[IMAGE], labels=["car.n.01", "tree.n.01"], point_prompts=True),
        lambda r: len(r.results[0].maps) == 2 and r.results[0].points),
    ("explanation", "Convis"): (explanation_pb2.ConvisRequest(
        image=IMAGE, concepts=["vehicle.n.01"], mode=explanation_pb2.CONVIS_MODE_DENSE),
        lambda rs: rs[-1].result.maps[0].subtree_size > 1),
    ("explanation", "ScoreOod"): (explanation_pb2.ScoreOodRequest(images=[IMAGE],
                                                                  concept="vehicle.n.01"),
                                  lambda r: len(r.scores) == 1),
    ("explanation", "MutualKnowledge"): (explanation_pb2.MutualKnowledgeRequest(
        image=IMAGE, labels=["car.n.01", "tree.n.01", "bird.n.01"]),
        lambda rs: rs[-1].result.prediction.label != ""),
    ("explanation", "MutualKnowledgeDataset"): (explanation_pb2.MutualKnowledgeDatasetRequest(
        images=[IMAGE, IMAGE], labels=["car.n.01", "tree.n.01"]),
        lambda rs: rs[-1].analysis.images == 2),
    ("explanation", "EvaluateLocalization"): (explanation_pb2.EvaluateLocalizationRequest(
        samples=[explanation_pb2.LocalizationSample(image=IMAGE, concept="car.n.01",
                                                    mask=_mask(), boxes=[_box()])],
        methods=[explanation_pb2.MAP_METHOD_SURGERY, explanation_pb2.MAP_METHOD_CONVIS_DENSE],
        labels=["car.n.01", "tree.n.01"]),
        lambda rs: len(rs[-1].report.scores) == 2),
    ("gateway", "GetStatus"): (gateway_pb2.GetStatusRequest(),
                               lambda r: all(p.state == gateway_pb2.PEER_STATE_SERVING
                                             for p in r.peers)),
}


def test_the_table_covers_every_public_rpc():
    from cliplens.v1 import embedding_pb2 as e
    from cliplens.v1 import explanation_pb2 as x
    from cliplens.v1 import gateway_pb2 as g
    from cliplens.v1 import lexicon_pb2 as lx

    every = {(name, m.name) for name, mod, svc in (
        ("embedding", e, "EmbeddingService"), ("lexicon", lx, "LexiconService"),
        ("explanation", x, "ExplanationService"), ("gateway", g, "GatewayService"))
        for m in mod.DESCRIPTOR.services_by_name[svc].methods}
    assert every == set(PUBLIC_RPCS)


@pytest.mark.parametrize("service, method", list(PUBLIC_RPCS), ids=lambda x: str(x))
def test_every_public_rpc_through_the_gateway(deployment, service, method):
    request, check = PUBLIC_RPCS[(service, method)]
    with Client(deployment.address("gateway"), timeout=120) as client:
        reply = getattr(getattr(client, service), method)(request)
        if not hasattr(reply, "SerializeToString"):
            reply = list(reply)
        assert check(reply)


@pytest.fixture(scope="module")
def keyed_gateway(deployment, tmp_path_factory):
    """A second gateway process with API keys and a rate limit, in front of the same peers."""
    port, metrics = free_port(), free_port()
    keys = tmp_path_factory.mktemp("keys") / "keys.yaml"
    keys.write_text("keys:\n  - name: reader\n    key: r-key\n"
                    "  - name: admin\n    key: a-key\n    scopes: [read, admin]\n"
                    "  - name: slow\n    key: s-key\n    rate_per_second: 1\n    burst: 2\n")
    env = {**os.environ, "CLIPLENS_GATEWAY_PORT": str(port),
           "CLIPLENS_GATEWAY_METRICS_PORT": str(metrics),
           "CLIPLENS_GATEWAY_API_KEYS_FILE": str(keys),
           **{f"CLIPLENS_GATEWAY_{p.upper()}_TARGET": deployment.address(p)
              for p in ("embedding", "lexicon", "explanation")}}
    proc = subprocess.Popen([sys.executable, "-m", "cliplens.gateway"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while health(f"127.0.0.1:{port}") != "SERVING":
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode()
        time.sleep(0.1)
    yield f"127.0.0.1:{port}", metrics
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)


def test_auth_on(keyed_gateway):
    address, _ = keyed_gateway
    with pytest.raises(UnauthenticatedError, match="missing API key"):
        Client(address, timeout=10).status()
    with pytest.raises(UnauthenticatedError, match="unknown API key"):
        Client(address, api_key="nope", timeout=10).status()
    reader = Client(address, api_key="r-key", timeout=30)
    assert reader.status().caller == "reader"
    assert reader.synset("dog.n.01").name == "dog.n.01"
    with pytest.raises(PermissionDeniedError, match="scope 'admin'"):
        reader.lexicon.ImportBank(lexicon_pb2.ImportBankRequest(name="x", json=BANK_JSON))
    admin = Client(address, api_key="a-key", timeout=30)
    assert admin.lexicon.ImportBank(lexicon_pb2.ImportBankRequest(
        name="keyed", json=BANK_JSON, replace=True)).info.class_count == 2


def test_auth_off_at_the_default_gateway(deployment):
    with Client(deployment.address("gateway"), timeout=10) as client:
        status = client.status()
    assert not status.auth_enabled and status.caller == "anonymous"


def test_rate_limit_is_hit_with_a_retry_hint(keyed_gateway):
    address, _ = keyed_gateway
    client = Client(address, api_key="s-key", timeout=10, retries=0)
    errors = []
    for _ in range(6):
        try:
            client.synset("dog.n.01")
        except ResourceExhaustedError as e:
            errors.append(e)
    assert errors, "six calls at once should exceed 1/s with a burst of 2"
    assert "rate limit" in errors[0].details and 0 < errors[0].retry_after <= 2.0
    time.sleep(errors[-1].retry_after + 0.1)
    assert client.synset("dog.n.01").name == "dog.n.01"  # allowed again after the hint


def test_key_is_never_logged(deployment, keyed_gateway):
    logs = "".join(p.read_text() for p in local.run_dir().glob("*.log"))
    assert "r-key" not in logs and "a-key" not in logs


def test_peer_killed_mid_run_then_recovers(deployment):
    """Calls in flight while embedding dies fail UNAVAILABLE; after restart they succeed."""
    pid = int((local.run_dir() / "embedding.pid").read_text())
    outcomes: list[str] = []
    stop = threading.Event()

    def hammer():
        with Client(deployment.address("gateway"), timeout=20, retries=0) as client:
            while not stop.is_set():
                try:
                    client.encode_images(load_examples()[1].image_path)
                    outcomes.append("ok")
                except UnavailableError:
                    outcomes.append("unavailable")
                time.sleep(0.02)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    os.kill(pid, signal.SIGKILL)
    time.sleep(2.0)
    n_before_restart = len(outcomes)
    local.up(deployment, timeout=180)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(30)
    assert "ok" in outcomes[:n_before_restart], "calls succeeded before the kill"
    assert "unavailable" in outcomes, "a dead peer must surface as UNAVAILABLE"
    assert outcomes[-1] == "ok", "the gateway recovers when the peer returns"
    with Client(deployment.address("gateway"), timeout=60) as client:
        emb = client.encode_images(load_examples()[1].image_path)
    assert np.isfinite(emb).all()


def test_deadline_propagates_to_the_peer(deployment):
    request = explanation_pb2.ConvisRequest(image=IMAGE, concepts=["vehicle.n.01"],
                                            dictionary="physical")
    with Client(deployment.address("gateway"), timeout=0.5, retries=0) as client:
        with pytest.raises(Exception) as e:
            list(client.explanation.Convis(request))
    assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
