"""ExplanationService over real gRPC with real in-thread peers (lexicon on the real WordNet,
embedding with the shipped toyworld model): the servicer, its pipelines, peers and cache."""

from __future__ import annotations

import io

import grpc
import numpy as np
import pytest
import stack as stacks
from PIL import Image
from prometheus_client import REGISTRY

from cliplens.core.tensors import from_proto
from cliplens.toyworld.objects import CLASSES
from cliplens.toyworld.scene import render_scene
from cliplens.v1 import common_pb2
from cliplens.v1 import explanation_pb2 as pb

LABELS = [c.synset for c in CLASSES]


@pytest.fixture(scope="module")
def stack(serve_module, tmp_path_factory):
    return stacks.start_stack(serve_module, tmp_path_factory.mktemp("explanation"),
                              extra_models=False, gateway=False)


@pytest.fixture(scope="module")
def stub(stack):
    return stack.explanation


def lexicon_calls() -> dict[str, float]:
    """RPCs the lexicon service has started so far, by method."""
    calls: dict[str, float] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if (sample.name == "cliplens_grpc_requests_started_total"
                    and sample.labels.get("service") == "lexicon"):
                method = sample.labels["method"].rsplit("/", 1)[-1]
                calls[method] = calls.get(method, 0.0) + sample.value
    return calls


def calls_during(action) -> dict[str, int]:
    before = lexicon_calls()
    action()
    after = lexicon_calls()
    return {m: int(v - before.get(m, 0.0)) for m, v in after.items() if v > before.get(m, 0.0)}


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _scene(index: int, classes=None) -> common_pb2.Image:
    scene = render_scene("heldout", 9_000_000 + index, classes=classes, kind="normal")
    return common_pb2.Image(data=_png(scene.image))


def _code(call, request) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as e:
        result = call(request)
        for _ in result if not hasattr(result, "model") else ():
            pass
    return e.value.code(), e.value.details()


def test_classify_predicts_the_drawn_class(stub):
    images = [_scene(i, classes=(c.synset,)) for i, c in enumerate(CLASSES[:4])]
    reply = stub.Classify(pb.ClassifyRequest(images=images, labels=LABELS))
    probs = from_proto(reply.probabilities)
    assert probs.shape == (4, len(LABELS)) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert reply.model.name == "toyworld" and reply.labels[0] == "car"
    assert sum(p.label == c.synset.split(".")[0] for p, c in zip(reply.predictions, CLASSES,
                                                                strict=False)) >= 3


def test_a_twenty_label_surgery_call_asks_the_lexicon_once(stub):
    labels = LABELS[:18] + ["n04490091", "a red kite"]  # truck.n.01 by wnid, and free text
    out: list = []
    calls = calls_during(lambda: out.append(stub.Surgery(pb.SurgeryRequest(
        images=[_scene(0)], labels=labels))))
    assert calls == {"GetSynsets": 1}
    reply = out[0]
    assert len(reply.labels) == 20 and reply.labels[18] == "truck"
    assert reply.parameters["mode"] == "label_set" and len(reply.results[0].maps) == 20


def test_a_hundred_image_dataset_call_asks_the_lexicon_a_handful_of_times(stub):
    images = [_scene(i, classes=(CLASSES[i % 3].synset,)) for i in range(100)]
    truths = [CLASSES[i % 3].synset for i in range(100)]
    out: list = []

    def run():
        request = pb.MutualKnowledgeDatasetRequest(
            images=images, labels=LABELS[:3], true_labels=truths,
            options=pb.MutualKnowledgeOptions(sinkhorn_iterations=50))
        out.extend(r.analysis for r in stub.MutualKnowledgeDataset(request)
                   if r.HasField("analysis"))

    calls = calls_during(run)
    # The labels and the true labels (one batch each), the bank generated and read once.
    assert calls == {"GetSynsets": 2, "GenerateBank": 1, "GetBank": 1}
    (analysis,) = out
    assert analysis.images == 100 and len(analysis.per_image) == 100
    # The defaults: the paper's estimator and the authors' code's choices (README's table).
    assert {k: analysis.parameters[k] for k in (
        "estimator", "token_stage", "connectivity", "relevance_text", "top_descriptors",
        "relevance_margin")} == {"estimator": "paper", "token_stage": "residual",
                                 "connectivity": "8", "relevance_text": "raw",
                                 "top_descriptors": "100", "relevance_margin": "0.01"}
    assert 0.0 <= analysis.accuracy <= 1.0 and np.isfinite(analysis.mean_mutual_information)


def test_mutual_knowledge_streams_progress_then_the_result_with_the_options_echoed(stub):
    options = pb.MutualKnowledgeOptions(connectivity=4,
                                        relevance_text=pb.DESCRIPTOR_TEXT_TEMPLATED,
                                        token_stage=pb.TOKEN_STAGE_PROJECTED,
                                        estimator=pb.MI_ESTIMATOR_CONTINGENCY, evaluate=True)
    replies = list(stub.MutualKnowledge(pb.MutualKnowledgeRequest(
        image=_scene(1, classes=("car.n.01",)), labels=LABELS[:4], options=options)))
    stages = [r.progress.stage for r in replies if r.HasField("progress")]
    assert stages == ["prediction", "descriptors", "concepts", "transport", "evaluation"]
    result = replies[-1].result
    assert result.parameters["connectivity"] == "4"
    assert result.parameters["relevance_text"] == "templated"
    assert result.parameters["token_stage"] == "projected"
    assert result.parameters["estimator"] == "contingency"
    assert len(result.mi_curve) == len(result.visual_descriptors) + 1
    assert result.concepts and len(result.evaluation.deletion) == len(result.concepts) + 1


def test_convis_streams_windows_and_a_cached_dictionary_costs_no_lexicon_entries(stub):
    request = pb.ConvisRequest(image=_scene(2), concepts=["vehicle.n.01", "n04490091"],
                               mode=pb.CONVIS_MODE_DENSE)
    first = list(stub.Convis(request))
    calls = calls_during(lambda: list(stub.Convis(request)))
    assert "GetDictionary" not in calls and calls.get("GetSynsets") == 1
    result = first[-1].result
    assert [m.concept for m in result.maps] == ["vehicle.n.01", "truck.n.01"]
    assert result.dictionary_id == "toyworld" and result.parameters["mode"] == "dense"
    grid = list(stub.Convis(pb.ConvisRequest(image=_scene(2), concepts=["car.n.01"])))
    assert sum(r.HasField("progress") for r in grid) > 2
    assert grid[-1].result.windows > 100 and grid[-1].result.parameters["mode"] == "grid"


def test_evaluate_localization_scores_every_method_asked(stub):
    scene = render_scene("heldout", 9_100_000, kind="normal")
    from cliplens.core.tensors import to_proto

    samples = [pb.LocalizationSample(image=common_pb2.Image(data=_png(scene.image)),
                                     concept=o.synset, mask=to_proto(o.mask),
                                     boxes=[common_pb2.Box(x0=o.box[0], y0=o.box[1],
                                                           x1=o.box[2], y1=o.box[3])])
               for o in scene.objects]
    methods = [pb.MAP_METHOD_RAW, pb.MAP_METHOD_SURGERY, pb.MAP_METHOD_CONVIS_DENSE]
    replies = list(stub.EvaluateLocalization(pb.EvaluateLocalizationRequest(
        samples=samples, methods=methods, labels=LABELS,
        template_set=pb.TEMPLATE_SET_CLIP_SURGERY)))
    report = replies[-1].report
    assert [s.method for s in report.scores] == methods
    assert report.parameters["template_set"] == "clip_surgery"
    for s in report.scores:
        assert 0.0 <= s.pointing <= 1.0 and len(s.hits) == len(samples)


@pytest.mark.parametrize("call, request_, code, words", [
    ("Surgery", pb.SurgeryRequest(labels=["car.n.01"], mode=7), "INVALID_ARGUMENT", "mode"),
    ("Surgery", pb.SurgeryRequest(labels=["car.n.01", "dgo.n.01"]), "NOT_FOUND", "ids[1]"),
    ("Convis", pb.ConvisRequest(concepts=["car.n.01"], padding=9), "INVALID_ARGUMENT",
     "padding"),
    ("Convis", pb.ConvisRequest(concepts=["a car"]), "INVALID_ARGUMENT", "concepts[0]"),
    ("MutualKnowledge", pb.MutualKnowledgeRequest(
        labels=["car.n.01", "tree.n.01"], options=pb.MutualKnowledgeOptions(connectivity=6)),
     "INVALID_ARGUMENT", "options.connectivity"),
    ("EvaluateLocalization", pb.EvaluateLocalizationRequest(
        methods=[pb.MAP_METHOD_RAW], surgery_mode=9), "INVALID_ARGUMENT", "surgery_mode"),
])
def test_bad_requests_get_a_precise_status(stub, call, request_, code, words):
    image = _scene(3)
    if hasattr(request_, "images"):
        request_.images.append(image)
    elif hasattr(request_, "image"):
        request_.image.CopyFrom(image)
    if isinstance(request_, pb.EvaluateLocalizationRequest):
        request_.samples.append(pb.LocalizationSample(image=image, concept="car.n.01"))
    got, details = _code(getattr(stub, call), request_)
    assert (got.name, words in details) == (code, True), details
