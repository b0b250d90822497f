"""`cliplens eval quality | ood`: the quality table on held-out toyworld ground truth.

Runs through the services (started for the command if they are not running): every map comes
from the same code path a production caller uses.
"""

from __future__ import annotations

import sys

import numpy as np

from cliplens.client.cli.common import Progress, emit
from cliplens.explanation.methods import (
    CONCEPT_FEATURES,
    DESCRIPTOR_TEXTS,
    KEY_BIASES,
    MAP_METHODS,
    MAP_METHODS_BY_VALUE,
    MI_ESTIMATORS,
    SURGERY_MODES,
    TEMPLATE_SETS,
    TOKEN_STAGES,
)

# Held-out index ranges, disjoint from the zero-shot evaluation's (class * 100_000 + k).
LOCALIZATION_BASE = 5_000_000
HYPERNYM_BASE = 6_000_000
MUTUAL_BASE = 7_000_000
HYPERNYMS = ("vehicle.n.01", "plant.n.02")
# Every registered map method but the stochastic sampler, which costs a third of the grid and
# has its own unit tests (`--methods convis_stochastic` adds it).
METHODS = tuple(m for m in MAP_METHODS if m != "convis_stochastic")
PARTS = ("localization", "label_set", "hypernym", "mutual")


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
    q.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                   help="run only these parts of the table")
    q.add_argument("--methods", nargs="+", choices=tuple(MAP_METHODS), default=list(METHODS),
                   help="map methods of the localization part")
    q.add_argument("--template-set", choices=TEMPLATE_SETS.names, default="default",
                   help="surgery's prompt templates")
    mk = q.add_argument_group("mutual-knowledge options (default: the service's)")
    mk.add_argument("--estimator", choices=MI_ESTIMATORS.names, default=None)
    mk.add_argument("--connectivity", type=int, choices=(4, 8), default=None)
    mk.add_argument("--relevance-text", choices=DESCRIPTOR_TEXTS.names, default=None)
    mk.add_argument("--top-descriptors", type=int, default=None)
    mk.add_argument("--relevance-margin", type=float, default=None)
    mk.add_argument("--features", choices=CONCEPT_FEATURES.names, default=None)
    mk.add_argument("--token-stage", choices=TOKEN_STAGES.names, default=None)
    mk.add_argument("--key-bias", choices=KEY_BIASES.names, default=None)
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


def _evaluate(client, samples, methods, labels, surgery_mode, seed, label,
              template_set: str = "default"):
    from cliplens.v1 import explanation_pb2 as pb

    request = pb.EvaluateLocalizationRequest(
        samples=samples, labels=labels, seed=seed,
        methods=[MAP_METHODS[m].value for m in methods],
        surgery_mode=SURGERY_MODES[surgery_mode], template_set=TEMPLATE_SETS[template_set])
    bar = Progress(label)
    for reply in client.explanation.EvaluateLocalization(request):
        if reply.HasField("progress"):
            bar.update(reply.progress.done, reply.progress.total, reply.progress.stage)
            continue
        bar.close()
        return {MAP_METHODS_BY_VALUE[s.method].name: s for s in reply.report.scores}, \
            reply.report.model
    raise RuntimeError("evaluation stream ended without a report")


def mutual_options(*, seed: int = 0, estimator: str | None = None,
                   connectivity: int | None = None, relevance_text: str | None = None,
                   top_descriptors: int | None = None, relevance_margin: float | None = None,
                   features: str | None = None, token_stage: str | None = None,
                   key_bias: str | None = None):
    """MutualKnowledgeOptions for the walks: evaluate, and the choices asked for (None: the
    service's default)."""
    from cliplens.v1 import explanation_pb2 as pb

    def value(table, name: str | None) -> int:
        return table[name] if name else 0

    return pb.MutualKnowledgeOptions(
        evaluate=True, seed=seed, estimator=value(MI_ESTIMATORS, estimator),
        connectivity=connectivity or 0,
        relevance_text=value(DESCRIPTOR_TEXTS, relevance_text),
        top_descriptors=top_descriptors or 0,
        relevance_margin=relevance_margin if relevance_margin is not None else 0.0,
        features=value(CONCEPT_FEATURES, features),
        token_stage=value(TOKEN_STAGES, token_stage), key_bias=value(KEY_BIASES, key_bias))


def _mutual(client, n: int, labels, options):
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
        images=images, labels=labels, true_labels=truths, options=options)
    bar = Progress("mutual knowledge")
    for reply in client.explanation.MutualKnowledgeDataset(request):
        if reply.HasField("progress"):
            bar.update(reply.progress.done, reply.progress.total, reply.progress.stage)
            continue
        bar.close()
        return reply.analysis
    raise RuntimeError("analysis stream ended without a result")


def _localization(client, labels, *, n: int, methods, seed: int, template_set: str,
                  label_set: bool) -> dict:
    samples = localization_samples(n)
    scores, model = ({}, None)
    if methods:
        scores, model = _evaluate(client, samples, methods, labels, "single_text", seed,
                                  "localization", template_set)
    if label_set:
        found, model = _evaluate(client, samples, ("surgery",), labels, "label_set", seed,
                                 "surgery (label set)", template_set)
        scores["surgery_label_set"] = found["surgery"]
    return {"model": model, "n": len(samples),
            "pointing": {m: s.pointing for m, s in scores.items()},
            "maxboxacc": {m: s.maxboxacc for m, s in scores.items()},
            "seconds": {m: s.seconds for m, s in scores.items()}}


def _hypernyms(client, labels, *, n: int, seed: int, template_set: str) -> dict:
    hyper = hypernym_samples(n)
    scores, model = _evaluate(client, hyper, ("convis_grid", "convis_dense"), labels,
                              "single_text", seed, "hypernyms")
    # Surgery of the hypernym's own text ("vehicle"): no label set holds it.
    surgery, _ = _evaluate(client, hyper, ("surgery",), [], "single_text", seed,
                           "hypernyms (surgery)", template_set)
    per_concept = {}
    for h in HYPERNYMS:
        idx = [i for i, s in enumerate(hyper) if s.concept == h]
        per_concept[h] = float(np.mean([scores["convis_grid"].hits[i] for i in idx]))
    return {"model": model, "n": len(hyper),
            "pointing": scores["convis_grid"].pointing,
            "maxboxacc": scores["convis_grid"].maxboxacc,
            "convis_grid": scores["convis_grid"].pointing,
            "convis_dense": scores["convis_dense"].pointing,
            "surgery": surgery["surgery"].pointing, "per_concept": per_concept}


def quality_table(client, *, n: int, hypernym_scenes: int, mutual_images: int,
                  seed: int = 0, parts=PARTS, methods=METHODS, template_set: str = "default",
                  mutual=None) -> dict:
    """The quality table (the parts asked for) as one JSON-ready dict.

    `surgery` is single-text surgery (each object's class against the empty string), the mode
    for asking where one named thing is; `surgery_label_set` is the paper's label-set mode over
    the 18 classes, whose softmax weights come from the whole image's class token and so favour
    one object of a multi-object scene. Both are measured; the table shows both. `mutual`:
    the MutualKnowledgeOptions of the walks (default: `mutual_options(seed=seed)`).
    """
    from cliplens.toyworld.objects import CLASSES

    labels = [c.synset for c in CLASSES]
    table: dict = {"pointing": {}, "maxboxacc": {}, "seconds": {}, "n": {}, "seed": seed,
                   "template_set": template_set,
                   "surgery_mode": {"surgery": "single_text", "surgery_label_set": "label_set"}}
    model = None
    if "localization" in parts or "label_set" in parts:
        loc = _localization(client, labels, n=n, seed=seed, template_set=template_set,
                            methods=methods if "localization" in parts else (),
                            label_set="label_set" in parts)
        model = loc["model"]
        for key in ("pointing", "maxboxacc", "seconds"):
            table[key].update(loc[key])
        table["n"].update(localization_samples=loc["n"], scenes=n)
        if {"convis_grid", "convis_dense"} <= set(table["seconds"]):
            table["grid_over_dense_time"] = (table["seconds"]["convis_grid"]
                                             / max(table["seconds"]["convis_dense"], 1e-9))
    if "hypernym" in parts:
        hyper = _hypernyms(client, labels, n=hypernym_scenes, seed=seed,
                           template_set=template_set)
        model = model or hyper["model"]
        table["pointing"]["hypernym"] = hyper.pop("pointing")
        table["maxboxacc"]["hypernym"] = hyper.pop("maxboxacc")
        table["n"]["hypernym_samples"] = hyper.pop("n")
        hyper.pop("model")
        table["hypernym"] = hyper
    if "mutual" in parts:
        a = _mutual(client, mutual_images, labels, mutual or mutual_options(seed=seed))
        model = model or a.model
        table.update(
            deletion=a.deletion, insertion=a.insertion, deletion_random=a.deletion_random,
            insertion_random=a.insertion_random, acc_drop=a.acc_drop, acc_inc=a.acc_inc,
            mutual_information=a.mean_mutual_information, mi_auc=a.auc,
            zero_shot_accuracy=a.accuracy, mutual_parameters=dict(a.parameters))
        table["n"]["mutual_images"] = a.images
    table["model"] = {"name": model.name, "fingerprint": model.fingerprint}
    return table


def format_table(t: dict) -> str:
    """The human-readable table (of the parts that were run)."""
    rows = [f"{'method':<18}{'pointing':>10}{'MaxBoxAcc':>11}{'seconds':>10}"]
    for m in t["pointing"]:
        secs = f"{t['seconds'][m]:10.2f}" if m in t["seconds"] else f"{'':>10}"
        rows.append(f"{m:<18}{t['pointing'][m]:10.3f}{t['maxboxacc'][m]:11.3f}{secs}")
    if "grid_over_dense_time" in t:
        rows.append(f"ConVis grid / dense wall time: {t['grid_over_dense_time']:.0f}x")
    if "hypernym" in t:
        rows.append("hypernyms (ConVis grid): " + ", ".join(
            f"{k} {v:.2f}" for k, v in t["hypernym"]["per_concept"].items())
            + f"; dense {t['hypernym']['convis_dense']:.3f}, surgery of the hypernym's text "
            f"{t['hypernym']['surgery']:.3f}")
    if "deletion" in t:
        rows += [
            f"mutual knowledge ({t['n']['mutual_images']} images): deletion "
            f"{t['deletion']:.3f} (random {t['deletion_random']:.3f}, lower is better), "
            f"insertion {t['insertion']:.3f} (random {t['insertion_random']:.3f}, higher is "
            f"better)",
            f"  AccDrop {t['acc_drop']:.3f}  AccInc {t['acc_inc']:.3f}  "
            f"MI {t['mutual_information']:.2f}  MI-AUC {t['mi_auc']:.2f}  "
            f"zero-shot {t['zero_shot_accuracy']:.3f}"]
    where = (f"; {t['n']['localization_samples']} objects in {t['n']['scenes']} scenes"
             if "localization_samples" in t["n"] else "")
    rows.append(f"model {t['model']['name']} {t['model']['fingerprint'][:23]}...{where}")
    return "\n".join(rows)


def _quality(args) -> None:
    from cliplens.client import Client, local

    mutual = mutual_options(seed=args.seed, estimator=args.estimator,
                            connectivity=args.connectivity, relevance_text=args.relevance_text,
                            top_descriptors=args.top_descriptors,
                            relevance_margin=args.relevance_margin, features=args.features,
                            token_stage=args.token_stage, key_bias=args.key_bias)
    with local.running(progress=lambda s: print(f"  {s} SERVING", file=sys.stderr)) as layout:
        target = args.target if args.target != "127.0.0.1:50150" else layout.address("gateway")
        with Client(target, api_key=args.api_key or None, timeout=args.timeout) as client:
            table = quality_table(client, n=args.n, hypernym_scenes=args.hypernym_scenes,
                                  mutual_images=args.mutual_images, seed=args.seed,
                                  parts=args.parts, methods=args.methods,
                                  template_set=args.template_set, mutual=mutual)
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
