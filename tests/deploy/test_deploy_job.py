"""The Indexed Job's shard script (deploy/k8s/examples/mutual-knowledge/shard_job.py).

Sharding, the per-image summaries and the aggregation, on small hand-computed cases; the
e2e suite runs the script against the real services.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from deploy_checks import K8S

from cliplens.v1 import explanation_pb2

SCRIPT = K8S / "examples" / "mutual-knowledge" / "shard_job.py"


@pytest.fixture(scope="module")
def job():
    spec = importlib.util.spec_from_file_location("shard_job", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["shard_job"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("shard_job", None)


def _dataset(tmp_path, n=7, labelled=True):
    (tmp_path / "labels.txt").write_text("car\ntree\n\n")
    lines = [f"img/{i}.png\t{'car' if i % 2 else 'tree'}" if labelled else f"img/{i}.png"
             for i in range(n)]
    (tmp_path / "images.txt").write_text("\n".join(lines) + "\n\n")
    return tmp_path


def test_listing_reads_labels_paths_and_true_labels(job, tmp_path):
    labels, items = job.read_listing(_dataset(tmp_path))
    assert labels == ["car", "tree"]
    assert [(i.index, i.path, i.true_label) for i in items[:2]] == [
        (0, "img/0.png", "tree"), (1, "img/1.png", "car")]
    _, unlabelled = job.read_listing(_dataset(tmp_path, labelled=False))
    assert all(i.true_label == "" for i in unlabelled)


@pytest.mark.parametrize("n, shards", [(7, 3), (3, 4), (10, 1), (0, 2)])
def test_shards_partition_the_dataset(job, n, shards):
    items = [job.Item(i, f"{i}.png") for i in range(n)]
    parts = [job.shard(items, i, shards) for i in range(shards)]
    indices = sorted(it.index for part in parts for it in part)
    assert indices == list(range(n))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert [it.index for it in parts[0]] == list(range(0, n, shards))


def test_index_out_of_range_is_refused(job):
    with pytest.raises(ValueError, match="JOB_COMPLETION_INDEX: expected 0..3, got 4"):
        job.shard([], 4, 4)


def test_summaries_index_back_into_the_dataset(job):
    batch = [job.Item(5, "a.png", "car"), job.Item(8, "b.png", "tree")]
    analysis = explanation_pb2.DatasetAnalysis(per_image=[
        explanation_pb2.ImageSummary(
            index=1, prediction=explanation_pb2.Prediction(label="tree", index=1,
                                                           probability=0.75),
            mutual_information=0.5, auc=0.25, mi_curve=[0.5, 0.25], visual_descriptors=3)])
    (s,) = job.summaries(analysis, batch, ["car", "tree"])
    assert s["index"] == 8 and s["path"] == "b.png" and s["true_label"] == "tree"
    assert s["true_index"] == 1
    assert s["prediction"] == {"label": "tree", "index": 1, "probability": 0.75}
    assert s["mi_curve"] == [0.5, 0.25] and s["visual_descriptors"] == 3


def test_aggregate_is_the_zero_padded_mean_curve(job):
    images = [
        {"mutual_information": 1.0, "mi_curve": [1.0, 0.5, 0.25],
         "prediction": {"label": "car", "index": 0}, "true_index": 0},
        {"mutual_information": 0.0, "mi_curve": [0.5],
         "prediction": {"label": "car", "index": 0}, "true_index": 1},
        # No true label: left out of the accuracy only.
        {"mutual_information": 0.5, "mi_curve": [],
         "prediction": {"label": "tree", "index": 1}, "true_index": -1},
    ]
    out = job.aggregate_summaries(images)
    # Curves padded to 3 points: [1, .5, .25], [.5, 0, 0], [0, 0, 0] -> mean [.5, 1/6, 1/12].
    assert out["mean_mi_curve"] == pytest.approx([0.5, 1 / 6, 1 / 12])
    assert out["auc"] == pytest.approx((0.5 + 1 / 6 + 1 / 12) / 3)
    assert out["mean_mutual_information"] == 0.5
    assert out["accuracy"] == 0.5 and out["images"] == 3


def test_aggregate_needs_every_shard(job, tmp_path):
    env = {"DATASET_DIR": str(tmp_path), "SHARDS": "2"}
    out = tmp_path / "out"
    out.mkdir()
    doc = {"shard": 0, "shards": 2, "model": {"name": "toyworld", "fingerprint": "sha256:x"},
           "images": [{"index": 0, "mutual_information": 1.0, "mi_curve": [1.0],
                       "prediction": {"label": "car", "index": 0}, "true_index": -1}]}
    job.shard_path(out, 0, 2).write_text(json.dumps(doc))
    with pytest.raises(FileNotFoundError, match=r"shards \[1\] of 2"):
        job.aggregate(env)
    job.shard_path(out, 1, 2).write_text(json.dumps({**doc, "shard": 1, "images": [
        {**doc["images"][0], "index": 1, "mi_curve": [0.0, 1.0]}]}))
    summary = json.loads(job.aggregate(env).read_text())
    assert summary["mean_mi_curve"] == [0.5, 0.5] and summary["accuracy"] is None
    assert summary["model"]["name"] == "toyworld"


def test_a_refused_image_does_not_sink_its_batch(job):
    import grpc

    from cliplens.client import InvalidArgumentError

    class Explanation:
        """Refuses any request holding image b"bad"; answers the others with one summary each."""

        def __init__(self):
            self.calls = []

        def MutualKnowledgeDataset(self, request):
            self.calls.append(len(request.images))
            if any(im.data == b"bad" for im in request.images):
                raise InvalidArgumentError(grpc.StatusCode.INVALID_ARGUMENT,
                                           "image: no foreground concept was found")
            yield explanation_pb2.MutualKnowledgeDatasetResponse(
                analysis=explanation_pb2.DatasetAnalysis(per_image=[
                    explanation_pb2.ImageSummary(index=i) for i in range(len(request.images))]))

    class Client:
        explanation = Explanation()

    batch = [job.Item(i, f"{i}.png") for i in range(3)]
    data = {0: b"ok", 1: b"bad", 2: b"ok"}

    def request_for(items):
        return explanation_pb2.MutualKnowledgeDatasetRequest(
            images=[{"data": data[it.index]} for it in items])

    analysed, refused = job.analyse(Client(), request_for, batch)
    assert [(b[0].index, len(a.per_image)) for a, b in analysed] == [(0, 1), (2, 1)]
    assert [(it.index, "foreground" in msg) for it, msg in refused] == [(1, True)]
    assert Client.explanation.calls == [3, 1, 1, 1]
