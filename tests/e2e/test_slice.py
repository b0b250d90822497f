"""One request through all four real processes: gateway -> explanation -> lexicon + embedding."""

import urllib.request

import grpc
import numpy as np
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cliplens.client import Client, InvalidArgumentError, NotFoundError
from cliplens.toyworld.examples import load_examples
from cliplens.v1 import common_pb2, explanation_pb2

pytestmark = pytest.mark.e2e


def test_surgery_map_of_a_wordnet_concept_through_the_gateway(deployment):
    example = load_examples()[0]  # a car and a tree
    with Client(deployment.address("gateway"), timeout=60) as client:
        result = client.surgery(example.image_path, ["car.n.01"], overlay=True)
    assert result.labels == ["car"]              # resolved through WordNet by lexicon
    assert result.model.name == "toyworld"
    assert result.model.fingerprint.startswith("sha256:")
    (m,) = result.maps[0]
    h, w = example.image().shape[:2]
    assert m.full.shape == (h, w) and m.grid.ndim == 2
    assert 0.0 <= m.full.min() and m.full.max() <= 1.0
    assert m.overlay_png.startswith(b"\x89PNG")


def test_bad_input_gets_the_right_status_and_services_keep_serving(deployment):
    with Client(deployment.address("gateway"), timeout=30) as client:
        with pytest.raises(InvalidArgumentError, match="images\\[0\\]"):
            client.surgery(b"this is not an image", ["car.n.01"])
        with pytest.raises(NotFoundError, match="nosuch.n.01"):
            client.surgery(load_examples()[0].image_path, ["nosuch.n.01"])
        with pytest.raises(NotFoundError, match="model"):
            client.surgery(load_examples()[0].image_path, ["car"], model="no-such-model")
        assert client.surgery(load_examples()[0].image_path, ["car"]).maps[0][0].full.size


def test_reflection_lists_every_service_at_the_gateway(deployment):
    with grpc.insecure_channel(deployment.address("gateway")) as ch:
        replies = list(reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in replies[0].list_services_response.service}
    assert {"cliplens.v1.EmbeddingService", "cliplens.v1.LexiconService",
            "cliplens.v1.ExplanationService", "cliplens.v1.GatewayService"} <= names


@pytest.mark.parametrize("service", ["gateway", "explanation", "lexicon", "embedding"])
def test_every_metrics_endpoint_counts_calls(deployment, service):
    with Client(deployment.address("gateway"), timeout=60) as client:
        client.surgery(load_examples()[0].image_path, ["tree.n.01"])
    url = f"http://127.0.0.1:{deployment.metrics_port(service)}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    lines = [line for line in text.splitlines()
             if line.startswith("cliplens_grpc_requests_handled_total{")
             and f'service="{service}"' in line and 'code="OK"' in line]
    assert lines, f"no per-method counters on {service}"
    assert all(float(line.rsplit(" ", 1)[1]) >= 1 for line in lines)


def test_overlay_png_decodes_to_the_image_size(deployment):
    import io

    from PIL import Image

    example = load_examples()[2]
    with Client(deployment.address("gateway"), timeout=60) as client:
        result = client.surgery(example.image_path, ["vehicle.n.01", "plant.n.02"],
                                overlay=True)
    for m in result.maps[0]:
        img = Image.open(io.BytesIO(m.overlay_png))
        assert img.size == (example.image().shape[1], example.image().shape[0])
        assert np.isfinite(m.full).all()


def test_peer_down_is_unavailable_then_recovers(deployment):
    import os
    import signal
    import time

    from cliplens.client import UnavailableError, local

    pid = int((local.run_dir() / "lexicon.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    while local._alive(pid):
        time.sleep(0.05)
    image = load_examples()[0].image_path
    with Client(deployment.address("gateway"), timeout=30) as client:
        with pytest.raises(UnavailableError, match="lexicon unavailable"):
            client.surgery(image, ["car.n.01"])
        # Free-text labels need no lexicon: the rest of the house keeps serving.
        assert client.surgery(image, ["car"]).labels == ["car"]
        local.up(deployment, timeout=120)  # restarts what is missing
        assert client.surgery(image, ["car.n.01"]).labels == ["car"]


def _lexicon_calls(deployment, method: str) -> float:
    url = f"http://127.0.0.1:{deployment.metrics_port('lexicon')}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("cliplens_grpc_requests_handled_total{")
               and f'method="/cliplens.v1.LexiconService/{method}"' in line)


def test_a_cached_dictionary_is_not_fetched_again(deployment):
    """ConVis learns the dictionary's content hash from GetSubtree; once its embeddings are
    cached, no call fetches the entries (35 ms for the general dictionary)."""
    image = common_pb2.Image(data=load_examples()[0].image_path.read_bytes())

    def convis(concept):
        request = explanation_pb2.ConvisRequest(image=image, concepts=[concept],
                                                mode=explanation_pb2.CONVIS_MODE_DENSE)
        return list(client.explanation.Convis(request, timeout=60))[-1].result

    with Client(deployment.address("gateway"), timeout=60) as client:
        first = convis("vehicle.n.01")
        fetched = _lexicon_calls(deployment, "GetDictionary")
        subtrees = _lexicon_calls(deployment, "GetSubtree")
        for concept in ("plant.n.02", "vehicle.n.01"):
            again = convis(concept)
            assert again.dictionary_content_hash == first.dictionary_content_hash
            assert again.dictionary_size == first.dictionary_size > 100
        assert _lexicon_calls(deployment, "GetSubtree") == subtrees + 2
        assert _lexicon_calls(deployment, "GetDictionary") == fetched
        assert again.maps[0].map.full == first.maps[0].map.full


def test_ood_of_a_concept_outside_the_dictionary_is_not_found(deployment):
    request = explanation_pb2.ScoreOodRequest(
        images=[common_pb2.Image(data=load_examples()[0].image_path.read_bytes())],
        concept="dog.n.01")
    with Client(deployment.address("gateway"), timeout=60) as client:
        with pytest.raises(NotFoundError, match="'dog.n.01' is not in dictionary 'toyworld'"):
            client.explanation.ScoreOod(request, timeout=60)
