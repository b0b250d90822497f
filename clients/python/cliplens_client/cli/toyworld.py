"""`cliplens toyworld ...`: the embedded default model's world, training and evaluation."""

from __future__ import annotations

from pathlib import Path

from cliplens.client.cli.common import CommandError, emit


def register(sub) -> None:
    """Add the `toyworld` command group."""
    p = sub.add_parser("toyworld", help="the drawn world and the small CLIP trained on it")
    tw = p.add_subparsers(dest="toyworld_command", metavar="ACTION", required=True)

    ev = tw.add_parser("eval", help="held-out zero-shot accuracy of a toyworld checkpoint "
                                    "(in-process, no services needed)")
    ev.add_argument("--per-class", type=int, default=50, help="held-out scenes per class")
    ev.add_argument("--weights", type=Path, default=None,
                    help="checkpoint (default: the shipped one)")
    ev.set_defaults(func=_eval)

    tr = tw.add_parser("train", help="train the toyworld CLIP from a seed (about 50 min on "
                                     "2 cores)")
    tr.add_argument("train_args", nargs="*", help="passed to `python -m cliplens.toyworld.train`"
                                                  " (e.g. --seed 0 --out DIR)")
    tr.set_defaults(func=_train)

    fa = tw.add_parser("facts", help="rewrite the toyworld classes' WordNet facts "
                                     "(wordnet_facts.json) from the lexicon's WordNet")
    fa.set_defaults(func=_facts)

    rd = tw.add_parser("render", help="draw one scene with its masks")
    rd.add_argument("--split", default="heldout", choices=("train", "heldout", "examples"))
    rd.add_argument("--index", type=int, default=0)
    rd.add_argument("--size", type=int, default=160)
    rd.add_argument("--out", type=Path, required=True, help="PNG to write")
    rd.set_defaults(func=_render)


def _eval(args) -> None:
    from cliplens.toyworld import model as toymodel
    from cliplens.toyworld.evaluate import zero_shot_eval

    weights = args.weights or toymodel.WEIGHTS_PATH
    if not Path(weights).is_file():
        raise CommandError(f"no checkpoint at {weights}")
    model = toymodel.create(weights=weights)
    result = zero_shot_eval(model, toymodel.tokenizer(), n_per_class=args.per_class)
    result["weights"] = str(weights)
    result["sha256"] = toymodel.sha256(Path(weights))
    lines = [f"held-out zero-shot top-1: {result['top1']:.3f} over {result['n']} scenes",
             *(f"  {k:<16} {v:.2f}" for k, v in result["per_class"].items())]
    emit(args, result, "\n".join(lines))


def _train(args) -> None:
    from cliplens.toyworld.train import main

    main(args.train_args)


def _facts(args) -> None:
    from cliplens.lexicon.wordnet import open_wordnet
    from cliplens.toyworld.facts import write_facts

    path = write_facts(open_wordnet())
    emit(args, {"path": str(path)}, f"wrote {path}")


def _render(args) -> None:
    import numpy as np
    from PIL import Image

    from cliplens.toyworld.scene import render_scene

    scene = render_scene(args.split, args.index, size=args.size)
    Image.fromarray(scene.image).save(args.out)
    objects = []
    for i, obj in enumerate(scene.objects):
        mask_path = args.out.with_name(f"{args.out.stem}_obj{i}_mask.png")
        Image.fromarray(obj.mask.astype(np.uint8) * 255).save(mask_path)
        objects.append({"synset": obj.synset, "colour": obj.colour, "box": list(obj.box),
                        "position": obj.position, "mask": str(mask_path)})
    emit(args, {"image": str(args.out), "objects": objects},
         f"wrote {args.out}: " + ", ".join(f"{o['colour']} {o['synset']} at {o['box']}"
                                             for o in objects))
