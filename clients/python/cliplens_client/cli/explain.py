"""`cliplens explain IMAGE ...`: a map (surgery, ConVis) or a mutual-knowledge analysis."""

from __future__ import annotations

from pathlib import Path

from cliplens.client.cli.common import CommandError, Progress, client, emit
from cliplens.explanation.methods import (
    CONCEPT_METHODS,
    EXPLANATIONS,
    FAMILIES,
    TEMPLATE_SETS,
)

MODES = tuple(dict.fromkeys(mode for modes in FAMILIES.values() for mode in modes))


def register(sub) -> None:
    """Add the `explain` command."""
    p = sub.add_parser("explain", help="explain what the model sees in an image")
    p.add_argument("image", type=Path)
    p.add_argument("--method", choices=EXPLANATIONS, default="surgery")
    p.add_argument("--concept", action="append", default=[],
                   help="WordNet synset (car.n.01, n02958343) or, for surgery, free text; "
                        "repeat for several")
    p.add_argument("--labels", nargs="+", default=[],
                   help="surgery label set / mutual-knowledge zero-shot classes")
    p.add_argument("--mode", default=None, choices=MODES,
                   help="; ".join(f"{family}: {'|'.join(modes)}"
                                  for family, modes in FAMILIES.items()))
    p.add_argument("--template-set", choices=TEMPLATE_SETS.names, default="default",
                   help="surgery: the prompt templates (default: the model's own, else the "
                        "service's default set)")
    p.add_argument("--dictionary", default="", help="ConVis dictionary id")
    p.add_argument("--bank", default="", help="descriptor bank id (mutual)")
    p.add_argument("--concepts-method", choices=CONCEPT_METHODS.names, default="pca")
    p.add_argument("--evaluate", action="store_true", help="mutual: deletion/insertion curves")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="", help="model name (default: the service's default)")
    p.add_argument("--out", type=Path, default=None,
                   help="PNG to write (with several maps: a directory)")
    p.set_defaults(func=_explain)


def _outputs(out: Path | None, image: Path, names: list[str], method: str) -> list[Path]:
    if out is None:
        return [Path(f"{image.stem}_{method}_{n.replace('/', '_')}.png") for n in names]
    if len(names) == 1 and out.suffix.lower() == ".png":
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    return [out / f"{image.stem}_{method}_{n.replace('/', '_')}.png" for n in names]


def _explain(args) -> None:
    if not args.image.is_file():
        raise CommandError(f"no such image: {args.image}", 2)
    modes = FAMILIES.get(args.method, ())
    if args.mode is not None and args.mode not in modes:
        raise CommandError(f"--mode {args.mode}: {args.method} takes "
                           f"{'|'.join(modes) or 'no mode'}", 2)
    with client(args) as c:
        if args.method == "surgery":
            return _surgery(args, c)
        if args.method == "convis":
            return _convis(args, c)
        return _mutual(args, c)


def _surgery(args, c) -> None:
    labels = args.labels or args.concept
    if not labels:
        raise CommandError("give --concept (or --labels) to explain", 2)
    result = c.surgery(args.image, labels, mode=args.mode or "auto", overlay=True,
                       template_set=args.template_set, model=args.model)
    maps = result.maps[0]
    wanted = args.concept or labels
    chosen = [m for m, label in zip(maps, labels, strict=True) if label in wanted]
    paths = _outputs(args.out, args.image, [m.label for m in chosen], "surgery")
    for m, path in zip(chosen, paths, strict=True):
        path.write_bytes(m.overlay_png)
    emit(args, {"model": result.model.__dict__, "labels": result.labels,
                "maps": [str(p) for p in paths], "parameters": result.parameters},
         "\n".join([f"CLIP Surgery ({result.parameters.get('mode')}) with "
                    f"{result.model.name} {result.model.fingerprint[:19]}...",
                    *(f"  {m.label}: wrote {p}" for m, p in zip(chosen, paths, strict=True))]))


def _convis(args, c) -> None:
    if not args.concept:
        raise CommandError("give --concept SYNSET (e.g. vehicle.n.01)", 2)
    bar = Progress("convis")
    result = c.convis(args.image, args.concept, mode=args.mode or "grid",
                      dictionary=args.dictionary, overlay=True, seed=args.seed,
                      progress=lambda d, t, s: bar.update(d, t, s), model=args.model)
    bar.close()
    paths = _outputs(args.out, args.image, [m.concept for m in result.maps], "convis")
    for m, path in zip(result.maps, paths, strict=True):
        path.write_bytes(m.map.overlay_png)
    emit(args, {"model": result.model.__dict__, "dictionary": result.dictionary,
                "windows": result.windows, "seconds": result.seconds,
                "maps": [{"concept": m.concept, "subtree_size": m.subtree_size, "path": str(p)}
                         for m, p in zip(result.maps, paths, strict=True)],
                "parameters": result.parameters},
         "\n".join([f"ConVis ({result.parameters.get('mode')}) over dictionary "
                    f"{result.dictionary}: {result.windows} windows in {result.seconds:.2f} s",
                    *(f"  {m.concept} (subtree of {m.subtree_size}): wrote {p}"
                      for m, p in zip(result.maps, paths, strict=True))]))


def _mutual(args, c) -> None:
    labels = args.labels
    if len(labels) < 2:
        raise CommandError("give the zero-shot classes with --labels (two or more)", 2)
    bar = Progress("mutual knowledge")
    result = c.mutual_knowledge(args.image, labels, bank=args.bank,
                                method=args.concepts_method, evaluate=args.evaluate,
                                seed=args.seed, overlay=args.out is not None,
                                progress=lambda d, t, s: bar.update(d, t, s), model=args.model)
    bar.close()
    paths = []
    if args.out is not None:  # a directory: one overlay per concept
        args.out.mkdir(parents=True, exist_ok=True)
        for i, concept in enumerate(result.concepts):
            paths.append(args.out / f"{args.image.stem}_mutual_concept{i}.png")
            paths[-1].write_bytes(concept.mask.overlay_png)
    lines = [f"prediction: {result.label} ({result.probability:.2f})",
             f"mutual information {result.mutual_information:.3f}, AUC {result.auc:.3f}",
             "visual concepts:"]
    for i, concept in enumerate(result.concepts):
        lines.append(f"  {i}: importance {concept.importance:.3f}: "
                     + "; ".join(t for t, _ in concept.descriptors))
    lines.append("D_v: " + "; ".join(t for t, _ in result.visual_descriptors))
    lines.append("D_y (top 10): " + "; ".join(t for t, _ in result.textual_descriptors[:10]))
    lines += [f"wrote {p}" for p in paths]
    emit(args, {**result.as_dict(), "maps": [str(p) for p in paths]}, "\n".join(lines))
