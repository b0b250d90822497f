"""`cliplens eval quality | ood`: the quality table on held-out toyworld ground truth.

Runs through the services (started for the command if they are not running): every map comes
from the same code path a production caller uses.
"""

from __future__ import annotations

import sys

import numpy as np

from cliplens.client.cli.common import Progress, emit

# Held-out index ranges, disjoint from the zero-shot evaluation's (class * 100_000 + k).
LOCALIZATION_BASE = 5_000_000
HYPERNYM_BASE = 6_000_000
MUTUAL_BASE = 7_000_000
HYPERNYMS = ("vehicle.n.01", "plant.n.02")
METHODS = ("raw", "surgery", "convis_grid", "convis_dense")


def register(sub) -> None:
    """Add the `eval` command group."""
    p = sub.add_parser("eval", help="quality of the explanations on held-out toyworld scenes")
    ev = p.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    q = ev.add_parser("quality", help="pointing game, MaxBoxAcc, timing, deletion/insertion")
    q.add_argument("--n", type=int, default=100, help="held-out scenes for localization")
    q.add_argument("--hypernym-scenes", type=int, default=40,
                   help="scenes per hypernym (vehicle.n.01, plant.n.02)")
    q.add_argument("--mutual-images", type=int, default=30,
                   help="images for the deletion/insertion walks")
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=_quality)
    o = ev.add_parser("ood", help="ConVis OOD AUROC: scenes of one synset group vs another")
    o.add_argument("--id", dest="id_concept", default="vehicle.n.01")
    o.add_argument("--ood", dest="ood_concept", default="plant.n.02")
    o.add_argument("--n", type=int, default=60, help="scenes per group")
    o.set_defaults(func=_ood)


def _classes_under(synset: str) -> list[str]:
    from cliplens.toyworld.facts import load_facts

    facts = load_facts()["classes"]
    return [c for c, info in facts.items()
            if c == synset or synset in {h["synset"] for h in info["hypernyms"]}]


def _png(pixels: np.ndarray) -> bytes:
    from cliplens.core.images import encode_png

    return encode_png(pixels)


def _sample(scene, obj, concept: str):
    from cliplens.core.tensors import to_proto
    from cliplens.v1 import common_pb2
    from cliplens.v1 import explanation_pb2 as pb

    x0, y0, x1, y1 = obj.box
    return pb.LocalizationSample(image=common_pb2.Image(data=_png(scene.image)), concept=concept,
                                 mask=to_proto(obj.mask),
                                 boxes=[common_pb2.Box(x0=x0, y0=y0, x1=x1, y1=y1)])


def localization_samples(n: int):
    """One sample per object of `n` held-out scenes (1-3 objects each)."""
    from cliplens.toyworld.scene import render_scene

    samples = []
    for i in range(n):
        scene = render_scene("heldout", LOCALIZATION_BASE + i, kind="normal")
        samples += [_sample(scene, obj, obj.synset) for obj in scene.objects]
    return samples


def hypernym_samples(n_per: int):
    """Scenes with exactly one object under each hypernym and one distractor outside it."""
    from cliplens.toyworld.objects import CLASSES
    from cliplens.toyworld.scene import render_scene

    samples = []
    for h, hypernym in enumerate(HYPERNYMS):
        inside = _classes_under(hypernym)
        outside = [c.synset for c in CLASSES if c.synset not in inside]
        for i in range(n_per):
            index = HYPERNYM_BASE + h * 100_000 + i
            rng = np.random.default_rng(index)
            classes = (inside[i % len(inside)], outside[int(rng.integers(len(outside)))])
            scene = render_scene("heldout", index, classes=classes, kind="normal")
            target = [o for o in scene.objects if o.synset == classes[0]]
            if target:
                samples.append(_sample(scene, target[0], hypernym))
    return samples


def _evaluate(client, samples, methods, labels, surgery_mode, seed, label):
    from cliplens.v1 import explanation_pb2 as pb

    request = pb.EvaluateLocalizationRequest(
        samples=samples, labels=labels, seed=seed,
        methods=[pb.MapMethod.Value(f"MAP_METHOD_{m.upper()}") for m in methods],
        surgery_mode=pb.SurgeryMode.Value(f"SURGERY_MODE_{surgery_mode.upper()}"))
    bar = Progress(label)
    for reply in client.explanation.EvaluateLocalization(request):
        if reply.HasField("progress"):
            bar.update(reply.progress.done, reply.progress.total, reply.progress.stage)
            continue
        bar.close()
        return {pb.MapMethod.Name(s.method).removeprefix("MAP_METHOD_").lower(): s
                for s in reply.report.scores}, reply.report.model
    raise RuntimeError("evaluation stream ended without a report")


def _mutual(client, n: int, labels, seed: int):
    from cliplens.toyworld.objects import CLASSES
    from cliplens.toyworld.scene import render_scene
    from cliplens.v1 import common_pb2
    from cliplens.v1 import explanation_pb2 as pb

    images, truths = [], []
    for i in range(n):
        toy = CLASSES[i % len(CLASSES)]
        scene = render_scene("heldout", MUTUAL_BASE + i, classes=(toy.synset,), kind="normal")
        images.append(common_pb2.Image(data=_png(scene.image)))
        truths.append(toy.synset)
    request = pb.MutualKnowledgeDatasetRequest(
        images=images, labels=labels, true_labels=truths,
        options=pb.MutualKnowledgeOptions(evaluate=True, seed=seed))
    bar = Progress("mutual knowledge")
    for reply in client.explanation.MutualKnowledgeDataset(request):
        if reply.HasField("progress"):
            bar.update(reply.progress.done, reply.progress.total, reply.progress.stage)
            continue
        bar.close()
        return reply.analysis
    raise RuntimeError("analysis stream ended without a result")


def quality_table(client, *, n: int, hypernym_scenes: int, mutual_images: int,
                  seed: int = 0) -> dict:
    """The whole quality table as one JSON-ready dict.

    `surgery` is single-text surgery (each object's class against the empty string), the mode
    for asking where one named thing is; `surgery_label_set` is the paper's label-set mode over
    the 18 classes, whose softmax weights come from the whole image's class token and so favour
    one object of a multi-object scene. Both are measured; the table shows both.
    """
    from cliplens.toyworld.objects import CLASSES

    labels = [c.synset for c in CLASSES]
    samples = localization_samples(n)
    scores, model = _evaluate(client, samples, METHODS, labels, "single_text", seed,
                              "localization")
    label_set, _ = _evaluate(client, samples, ("surgery",), labels, "label_set", seed,
                             "surgery (label set)")
    scores["surgery_label_set"] = label_set["surgery"]
    hyper = hypernym_samples(hypernym_scenes)
    hyper_scores, _ = _evaluate(client, hyper, ("convis_grid", "convis_dense"), labels,
                                "single_text", seed, "hypernyms")
    # Surgery of the hypernym's own text ("vehicle"): no label set holds it.
    hyper_surgery, _ = _evaluate(client, hyper, ("surgery",), [], "single_text", seed,
                                 "hypernyms (surgery)")
    analysis = _mutual(client, mutual_images, labels, seed)
    rows = (*METHODS, "surgery_label_set")
    pointing = {m: scores[m].pointing for m in rows}
    boxes = {m: scores[m].maxboxacc for m in rows}
    pointing["hypernym"] = hyper_scores["convis_grid"].pointing
    boxes["hypernym"] = hyper_scores["convis_grid"].maxboxacc
    per_hypernym = {}
    for h in HYPERNYMS:
        idx = [i for i, s in enumerate(hyper) if s.concept == h]
        per_hypernym[h] = float(np.mean([hyper_scores["convis_grid"].hits[i] for i in idx]))
    seconds = {m: scores[m].seconds for m in rows}
    return {
        "model": {"name": model.name, "fingerprint": model.fingerprint},
        "pointing": pointing, "maxboxacc": boxes, "seconds": seconds,
        "hypernym": {"convis_grid": hyper_scores["convis_grid"].pointing,
                     "convis_dense": hyper_scores["convis_dense"].pointing,
                     "surgery": hyper_surgery["surgery"].pointing,
                     "per_concept": per_hypernym},
        "grid_over_dense_time": seconds["convis_grid"] / max(seconds["convis_dense"], 1e-9),
        "deletion": analysis.deletion, "insertion": analysis.insertion,
        "deletion_random": analysis.deletion_random,
        "insertion_random": analysis.insertion_random,
        "acc_drop": analysis.acc_drop, "acc_inc": analysis.acc_inc,
        "mutual_information": analysis.mean_mutual_information, "mi_auc": analysis.auc,
        "zero_shot_accuracy": analysis.accuracy,
        "n": {"localization_samples": len(samples), "scenes": n,
              "hypernym_samples": len(hyper), "mutual_images": analysis.images},
        "surgery_mode": {"surgery": "single_text", "surgery_label_set": "label_set"},
    }


def format_table(t: dict) -> str:
    """The human-readable table."""
    rows = [f"{'method':<18}{'pointing':>10}{'MaxBoxAcc':>11}{'seconds':>10}"]
    for m in (*METHODS, "surgery_label_set", "hypernym"):
        secs = f"{t['seconds'][m]:10.2f}" if m in t["seconds"] else f"{'':>10}"
        rows.append(f"{m:<18}{t['pointing'][m]:10.3f}{t['maxboxacc'][m]:11.3f}{secs}")
    rows += [
        f"ConVis grid / dense wall time: {t['grid_over_dense_time']:.0f}x",
        "hypernyms (ConVis grid): " + ", ".join(
            f"{k} {v:.2f}" for k, v in t["hypernym"]["per_concept"].items())
        + f"; dense {t['hypernym']['convis_dense']:.3f}, surgery of the hypernym's text "
        f"{t['hypernym']['surgery']:.3f}",
        f"mutual knowledge ({t['n']['mutual_images']} images): deletion {t['deletion']:.3f} "
        f"(random {t['deletion_random']:.3f}, lower is better), insertion "
        f"{t['insertion']:.3f} (random {t['insertion_random']:.3f}, higher is better)",
        f"  AccDrop {t['acc_drop']:.3f}  AccInc {t['acc_inc']:.3f}  "
        f"MI {t['mutual_information']:.2f}  MI-AUC {t['mi_auc']:.2f}  "
        f"zero-shot {t['zero_shot_accuracy']:.3f}",
        f"model {t['model']['name']} {t['model']['fingerprint'][:23]}...; "
        f"{t['n']['localization_samples']} objects in {t['n']['scenes']} scenes",
    ]
    return "\n".join(rows)


def _quality(args) -> None:
    from cliplens.client import Client, local

    with local.running(progress=lambda s: print(f"  {s} SERVING", file=sys.stderr)) as layout:
        target = args.target if args.target != "127.0.0.1:50150" else layout.address("gateway")
        with Client(target, api_key=args.api_key or None, timeout=args.timeout) as client:
            table = quality_table(client, n=args.n, hypernym_scenes=args.hypernym_scenes,
                                  mutual_images=args.mutual_images,
                                  seed=args.seed)
    emit(args, table, format_table(table))


def _ood(args) -> None:
    from cliplens.client import Client, local
    from cliplens.explanation.evaluation import auroc
    from cliplens.toyworld.scene import render_scene
    from cliplens.v1 import common_pb2
    from cliplens.v1 import explanation_pb2 as pb

    def scenes(concept: str, base: int):
        classes = _classes_under(concept)
        return [common_pb2.Image(data=_png(render_scene(
            "heldout", base + i, classes=(classes[i % len(classes)],), kind="normal").image))
            for i in range(args.n)]

    with local.running() as layout:
        target = args.target if args.target != "127.0.0.1:50150" else layout.address("gateway")
        with Client(target, api_key=args.api_key or None, timeout=args.timeout) as client:
            ids, oods = scenes(args.id_concept, 8_000_000), scenes(args.ood_concept, 8_500_000)
            out = {}
            for method in ("naive", "hierarchy"):
                code = pb.OodMethod.Value(f"OOD_METHOD_{method.upper()}")
                a = client.explanation.ScoreOod(pb.ScoreOodRequest(
                    images=ids, concept=args.id_concept, method=code)).scores
                b = client.explanation.ScoreOod(pb.ScoreOodRequest(
                    images=oods, concept=args.id_concept, method=code)).scores
                out[method] = auroc(np.asarray(a), np.asarray(b))
    result = {"id": args.id_concept, "ood": args.ood_concept, "n": args.n, "auroc": out}
    emit(args, result, f"OOD AUROC, {args.id_concept} (ID) vs {args.ood_concept} (OOD), "
                       f"{args.n} scenes each: naive {out['naive']:.3f}, "
                       f"hierarchy {out['hierarchy']:.3f}")
