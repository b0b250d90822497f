"""One shard of a mutual-knowledge analysis over a dataset, for a Kubernetes Indexed Job.

Each pod of the Job takes the images i, i+N, i+2N, ... of the dataset listing (i is
JOB_COMPLETION_INDEX, N is SHARDS, equal to the Job's completions), sends them in batches to
the gateway's ExplanationService/MutualKnowledgeDataset, and writes its per-image summaries to
OUTPUT_DIR/shard-<i>-of-<N>.json. `aggregate` then combines the shard files into summary.json:
the mean mutual information, and the AUC as the mean of the point-wise mean of the per-image MI
curves, each zero-padded to the longest (as DatasetAnalysis defines them).

Dataset layout (on a shared volume):
    DATASET_DIR/labels.txt   one class label per line (the zero-shot label set): WordNet synset
                             ids (car.n.01), or any text when CLIPLENS_BANK names a bank
    DATASET_DIR/images.txt   one image per line: a path relative to DATASET_DIR, optionally a tab
                             and its true label, one of labels.txt (enables accuracy)

    python shard_job.py run          # one shard (environment as below)
    python shard_job.py aggregate    # after every index has succeeded

Environment: CLIPLENS_TARGET (the gateway), CLIPLENS_API_KEY, CLIPLENS_CA (PEM file of the CA
that signed the gateway's certificate, for a gateway serving TLS as the gpu overlay's does),
DATASET_DIR, OUTPUT_DIR (default DATASET_DIR/out), SHARDS, JOB_COMPLETION_INDEX,
CLIPLENS_MODEL, CLIPLENS_BANK, BATCH_SIZE, CLIPLENS_TIMEOUT (seconds per batch).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("shard_job")


@dataclass(frozen=True)
class Item:
    """One image of the dataset: its position in the listing, path and optional true label."""

    index: int
    path: str
    true_label: str = ""


def read_listing(dataset_dir: Path) -> tuple[list[str], list[Item]]:
    """The label set and the images of a dataset directory (see the module doc)."""
    labels = [line.strip() for line in (dataset_dir / "labels.txt").read_text().splitlines()
              if line.strip()]
    if not labels:
        raise ValueError(f"{dataset_dir / 'labels.txt'}: expected at least one label, got none")
    items = []
    for line in (dataset_dir / "images.txt").read_text().splitlines():
        if not line.strip():
            continue
        path, _, true_label = line.rstrip("\n").partition("\t")
        items.append(Item(len(items), path.strip(), true_label.strip()))
    return labels, items


def shard(items: list[Item], index: int, shards: int) -> list[Item]:
    """The items of shard `index` of `shards`: every shards-th item from position index."""
    if shards < 1 or not 0 <= index < shards:
        raise ValueError(f"JOB_COMPLETION_INDEX: expected 0..{shards - 1}, got {index} "
                         f"(SHARDS={shards})")
    return items[index::shards]


def shard_path(output_dir: Path, index: int, shards: int) -> Path:
    """Where shard `index` writes its summaries."""
    return output_dir / f"shard-{index:05d}-of-{shards:05d}.json"


def summaries(analysis, batch: list[Item], labels: list[str]) -> list[dict]:
    """Per-image summaries of one DatasetAnalysis, indexed back into the whole dataset.

    `true_index` is the true label's position in `labels` (-1 if none): predictions are
    compared by index, since the service may answer a synset id label with its lemma.
    """
    out = []
    for s in analysis.per_image:
        item = batch[s.index]
        true_index = labels.index(item.true_label) if item.true_label in labels else -1
        out.append({"index": item.index, "path": item.path, "true_label": item.true_label,
                    "true_index": true_index,
                    "prediction": {"label": s.prediction.label, "index": s.prediction.index,
                                   "probability": s.prediction.probability},
                    "mutual_information": s.mutual_information, "auc": s.auc,
                    "mi_curve": list(s.mi_curve), "visual_descriptors": s.visual_descriptors})
    return out


def analyse(client, request_for, batch: list[Item]):
    """(DatasetAnalysis, []) for a batch; on INVALID_ARGUMENT, each image on its own.

    One unusable image (undecodable, no foreground concept) must not sink its batch: the
    others are analysed one by one and the refused ones come back as (item, message) pairs.
    """
    from cliplens.client import InvalidArgumentError

    try:
        analysis = None
        for reply in client.explanation.MutualKnowledgeDataset(request_for(batch)):
            if reply.HasField("analysis"):
                analysis = reply.analysis
    except InvalidArgumentError as e:
        if len(batch) == 1:
            return [], [(batch[0], str(e))]
        results, failed = [], []
        for item in batch:
            part, bad = analyse(client, request_for, [item])
            results += part
            failed += bad
        return results, failed
    if analysis is None:
        raise RuntimeError(f"the stream ended without an analysis (images "
                           f"{batch[0].index}..{batch[-1].index})")
    return [(analysis, batch)], []


def run(env: dict[str, str]) -> Path:
    """Analyse this pod's shard through the gateway; returns the shard file written."""
    from cliplens.client import Client
    from cliplens.v1 import common_pb2, explanation_pb2

    dataset_dir = Path(env["DATASET_DIR"])
    output_dir = Path(env.get("OUTPUT_DIR") or dataset_dir / "out")
    shards = int(env["SHARDS"])
    index = int(env["JOB_COMPLETION_INDEX"])
    batch_size = int(env.get("BATCH_SIZE", "16"))
    labels, items = read_listing(dataset_dir)
    mine = shard(items, index, shards)
    target = shard_path(output_dir, index, shards)
    if target.exists():  # a retried pod of an index that already finished
        log.info("shard %d/%d already written to %s", index, shards, target)
        return target

    def request_for(batch: list[Item]):
        return explanation_pb2.MutualKnowledgeDatasetRequest(
            model=env.get("CLIPLENS_MODEL", ""), bank=env.get("CLIPLENS_BANK", ""),
            labels=labels,
            images=[common_pb2.Image(data=(dataset_dir / it.path).read_bytes()) for it in batch],
            true_labels=([it.true_label for it in batch]
                         if all(it.true_label for it in batch) else []))

    results: list[dict] = []
    failed: list[dict] = []
    model: dict[str, str] = {}
    with Client(env.get("CLIPLENS_TARGET", "127.0.0.1:50150"),
                api_key=env.get("CLIPLENS_API_KEY") or None,
                ca=env.get("CLIPLENS_CA") or None,
                timeout=float(env.get("CLIPLENS_TIMEOUT", "600"))) as client:
        for start in range(0, len(mine), batch_size):
            analysed, refused = analyse(client, request_for, mine[start:start + batch_size])
            for analysis, batch in analysed:
                model = {"name": analysis.model.name,
                         "fingerprint": analysis.model.fingerprint}
                results.extend(summaries(analysis, batch, labels))
            failed += [{"index": it.index, "path": it.path, "error": message}
                       for it, message in refused]
            log.info("shard %d/%d: %d of %d images (%d refused)", index, shards,
                     len(results) + len(failed), len(mine), len(failed))
    output_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"shard": index, "shards": shards, "model": model,
                               "labels": labels, "images": results, "failed": failed}))
    tmp.replace(target)  # atomic: a shard file is complete or absent
    return target


def aggregate_summaries(images: list[dict]) -> dict:
    """Mean MI, the zero-padded mean MI curve, its AUC (the curve's mean) and the accuracy."""
    if not images:
        raise ValueError("no per-image summaries to aggregate")
    length = max(len(im["mi_curve"]) for im in images)
    curve = [0.0] * length
    for im in images:
        for k, v in enumerate(im["mi_curve"]):
            curve[k] += v
    curve = [v / len(images) for v in curve]
    labelled = [im for im in images if im.get("true_index", -1) >= 0]
    return {
        "images": len(images),
        "mean_mutual_information": sum(im["mutual_information"] for im in images) / len(images),
        "mean_mi_curve": curve,
        "auc": sum(curve) / length if length else 0.0,
        "accuracy": (sum(im["prediction"]["index"] == im["true_index"] for im in labelled)
                     / len(labelled)) if labelled else None,
    }


def aggregate(env: dict[str, str]) -> Path:
    """Combine every shard file into OUTPUT_DIR/summary.json (fails if a shard is missing)."""
    dataset_dir = Path(env["DATASET_DIR"])
    output_dir = Path(env.get("OUTPUT_DIR") or dataset_dir / "out")
    shards = int(env["SHARDS"])
    missing = [i for i in range(shards) if not shard_path(output_dir, i, shards).exists()]
    if missing:
        raise FileNotFoundError(f"{output_dir}: shards {missing} of {shards} not written yet")
    docs = [json.loads(shard_path(output_dir, i, shards).read_text()) for i in range(shards)]
    images = sorted((im for d in docs for im in d["images"]), key=lambda im: im["index"])
    failed = sorted((f for d in docs for f in d.get("failed", [])), key=lambda f: f["index"])
    summary = {"model": next((d["model"] for d in docs if d["model"]), {}),
               **aggregate_summaries(images), "failed": failed}
    path = output_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2))
    return path


def main(argv: list[str]) -> int:
    """`run` or `aggregate`, configured by the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    command = argv[1] if len(argv) > 1 else "run"
    if command not in ("run", "aggregate"):
        sys.stderr.write(__doc__)
        return 2
    path = (run if command == "run" else aggregate)(dict(os.environ))
    log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
