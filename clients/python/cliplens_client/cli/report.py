"""`cliplens report IMAGE --labels ...`: one self-contained HTML page of every view."""

from __future__ import annotations

from pathlib import Path

from cliplens.client.cli.common import CommandError, Progress, client, emit
from cliplens.explanation.methods import CONVIS_MODES


def register(sub) -> None:
    """Add the `report` command."""
    p = sub.add_parser("report", help="write one HTML page: prediction, ConVis, surgery and "
                                      "mutual knowledge side by side")
    p.add_argument("image", type=Path)
    p.add_argument("--labels", nargs="+", required=True,
                   help="zero-shot classes (synset ids such as car.n.01 enable ConVis and "
                        "WordNet descriptors)")
    p.add_argument("--out", type=Path, default=None, help="HTML file (default IMAGE.html)")
    p.add_argument("--convis-mode", choices=CONVIS_MODES.names, default="grid")
    p.add_argument("--model", default="")
    p.set_defaults(func=_report)


def _report(args) -> None:
    from cliplens.client.report import build, render

    if not args.image.is_file():
        raise CommandError(f"no such image: {args.image}", 2)
    if len(args.labels) < 2:
        raise CommandError("give two or more --labels", 2)
    out = args.out or args.image.with_suffix(".html")
    bar = Progress("report")
    with client(args) as c:
        data = build(c, args.image, args.labels, convis_mode=args.convis_mode, model=args.model,
                     progress=lambda d, t, s: bar.update(d, t, s))
    bar.close()
    out.write_text(render(data))
    probs = data.classification.probabilities[0]
    top = int(probs.argmax())
    emit(args, {"report": str(out.resolve()), "label": data.classification.labels[top],
                "probability": float(probs[top]),
                "mutual_information": data.mutual.mutual_information,
                "auc": data.mutual.auc},
         f"wrote {out.resolve()} ({data.classification.labels[top]}, {probs[top]:.2f})")
