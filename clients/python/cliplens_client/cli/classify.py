"""`cliplens classify IMAGE... --labels ...` and `cliplens encode`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cliplens.client.cli.common import CommandError, client, emit


def register(sub) -> None:
    """Add `classify` and `encode`."""
    p = sub.add_parser("classify", help="zero-shot classification over labels")
    p.add_argument("images", type=Path, nargs="+")
    p.add_argument("--labels", nargs="+", required=True,
                   help="class names or synset ids (car.n.01, n02958343)")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--model", default="")
    p.set_defaults(func=_classify)
    p = sub.add_parser("encode", help="embeddings of images or texts (saved as .npy)")
    p.add_argument("--image", type=Path, action="append", default=[])
    p.add_argument("--text", action="append", default=[])
    p.add_argument("--out", type=Path, default=None, help=".npy file for the embeddings")
    p.add_argument("--model", default="")
    p.set_defaults(func=_encode)


def _classify(args) -> None:
    missing = [str(i) for i in args.images if not i.is_file()]
    if missing:
        raise CommandError(f"no such image: {', '.join(missing)}", 2)
    with client(args) as c:
        result = c.classify_many(args.images, args.labels, model=args.model)
    out, lines = [], []
    for path, probs in zip(args.images, result.probabilities, strict=True):
        order = np.argsort(-probs)[:args.top]
        ranked = [{"label": result.labels[k], "probability": float(probs[k])} for k in order]
        out.append({"image": str(path), "predictions": ranked})
        lines.append(f"{path}: " + ", ".join(f"{r['label']} {r['probability']:.3f}"
                                             for r in ranked))
    emit(args, {"model": result.model.__dict__, "results": out}, "\n".join(lines))


def _encode(args) -> None:
    if bool(args.image) == bool(args.text):
        raise CommandError("give --image ... or --text ... (one kind per call)", 2)
    with client(args) as c:
        emb = (c.encode_images_many(args.image, model=args.model) if args.image
               else c.encode_texts(args.text, model=args.model))
    if args.out:
        np.save(args.out, emb)
    emit(args, {"shape": list(emb.shape), "out": str(args.out) if args.out else None,
                "embeddings": None if args.out else emb.tolist()},
         f"{emb.shape[0]} embeddings of dimension {emb.shape[1]}"
         + (f" written to {args.out}" if args.out else ""))
