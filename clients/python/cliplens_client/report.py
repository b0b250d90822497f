"""One self-contained HTML page explaining one prediction: `cliplens report IMAGE --labels ...`.

The page carries everything inline (images as data: URIs, the MI curve as SVG), so it can be
mailed or attached to a ticket and opens offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cliplens.client.convert import Classification, ConvisResult, MutualKnowledge, SurgeryResult


@dataclass
class ReportData:
    """What the page shows."""

    image_name: str
    image_png: bytes
    classification: Classification
    surgery: SurgeryResult
    convis: ConvisResult | None
    mutual: MutualKnowledge
    convis_note: str = ""


def _img(png: bytes, alt: str, cls: str = "map") -> str:
    data = base64.b64encode(png).decode()
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _figure(png: bytes, caption: str) -> str:
    return f"<figure>{_img(png, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _curve_svg(curve: np.ndarray, width: int = 260, height: int = 120) -> str:
    """The MI dynamics curve as an inline SVG polyline."""
    if len(curve) < 2:
        return "<p>(curve has a single point)</p>"
    top = max(float(np.max(curve)), 1e-9)
    xs = np.linspace(10, width - 10, len(curve))
    ys = height - 10 - (np.asarray(curve) / top) * (height - 20)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (f'<svg class="curve" width="{width}" height="{height}" role="img" '
            f'aria-label="MI dynamics"><polyline fill="none" stroke="#c0392b" stroke-width="2" '
            f'points="{points}"/><line x1="10" y1="{height - 10}" x2="{width - 10}" '
            f'y2="{height - 10}" stroke="#888"/></svg>')


def _list(items, fmt="{:.2f}") -> str:
    return "<ol>" + "".join(f"<li>{html.escape(t)} <span class='s'>{fmt.format(s)}</span></li>"
                            for t, s in items) + "</ol>"


def render(data: ReportData) -> str:
    """The HTML page."""
    cls = data.classification
    probs = cls.probabilities[0]
    order = np.argsort(-probs)[:5]
    label, p = cls.labels[order[0]], float(probs[order[0]])
    model = cls.model
    surgery_figs = "".join(_figure(m.overlay_png, f"surgery: {m.label}")
                           for m in data.surgery.maps[0])
    convis_figs = ("".join(_figure(c.map.overlay_png, f"ConVis: {c.concept} "
                                                     f"({c.subtree_size} synsets)")
                           for c in data.convis.maps) if data.convis
                   else f"<p>{html.escape(data.convis_note)}</p>")
    mk = data.mutual
    concept_figs = "".join(
        _figure(c.mask.overlay_png, f"concept {c.index} (importance {c.importance:.2f}): "
                + "; ".join(t for t, _ in c.descriptors))
        for c in mk.concepts)
    rows = "".join(f"<tr><td>{html.escape(cls.labels[k])}</td><td>{probs[k]:.3f}</td></tr>"
                   for k in order)
    warning = ("<p class='warn'>This model has random weights: its explanations mean "
               "nothing.</p>" if model.random_weights else "")
    evaluation = ""
    if mk.evaluation:
        e = mk.evaluation
        evaluation = (f"<p>Deletion {e['deletion_auc']:.3f} (random order "
                      f"{e['deletion_random_auc']:.3f}); insertion {e['insertion_auc']:.3f} "
                      f"(random order {e['insertion_random_auc']:.3f}).</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>cliplens report: {html.escape(data.image_name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
.views {{ display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }}
section {{ border: 1px solid #ddd; border-radius: 6px; padding: 1em; }}
figure {{ margin: 0.5em; display: inline-block; max-width: 240px; }}
img.map, img.input {{ width: 220px; height: auto; image-rendering: pixelated; }}
figcaption {{ font-size: 0.85em; }}
.s {{ color: #777; font-size: 0.85em; }}
.warn {{ color: #b00; font-weight: bold; }}
table td {{ padding: 0 1em 0 0; }}
</style></head><body>
<h1>What {html.escape(model.name)} sees in {html.escape(data.image_name)}</h1>
<p>Model <code>{html.escape(model.name)}</code>, weights
<code>{html.escape(model.fingerprint)}</code>. Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M
} UTC.</p>
{warning}
<div class="views">
<section id="prediction"><h2>Prediction</h2>{_img(data.image_png, "input image", "input")}
<p><b>{html.escape(label)}</b> ({p:.2f})</p><table>{rows}</table></section>
<section id="surgery"><h2>CLIP Surgery</h2>{surgery_figs}</section>
<section id="convis"><h2>ConVis</h2>{convis_figs}</section>
<section id="mutual"><h2>Mutual knowledge</h2>{concept_figs}
<p>Mutual information <b>{mk.mutual_information:.3f}</b>, AUC <b>{mk.auc:.3f}</b></p>
{_curve_svg(mk.mi_curve)}{evaluation}
<h3>Visual descriptors (D<sub>v</sub>)</h3>{_list(mk.visual_descriptors)}
<h3>Textual descriptors of "{html.escape(mk.label)}" (D<sub>y</sub>, top 10)</h3>
{_list(mk.textual_descriptors[:10])}</section>
</div>
<script>
// Lets a headless browser (and a reader) check that every image decoded.
window.addEventListener("load", () => {{
  const imgs = [...document.images];
  document.body.dataset.imagesTotal = imgs.length;
  document.body.dataset.imagesRendered = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
}});
</script>
</body></html>
"""


def build(client, image: Path, labels: list[str], *, convis_mode: str = "grid",
          model: str = "", progress=None) -> ReportData:
    """Run every explanation for the report through `client`."""
    from cliplens.client.convert import to_image
    from cliplens.core.images import decode_image, encode_png, to_array
    from cliplens.lexicon.ids import is_synset_id

    png = encode_png(to_array(decode_image(to_image(image).data)))
    classification = client.classify(png, labels, model=model)
    top = int(np.argmax(classification.probabilities[0]))
    surgery = client.surgery(png, labels, overlay=True, model=model)
    convis, note = None, ""
    if is_synset_id(labels[top]):
        convis = client.convis(png, [labels[top]], mode=convis_mode, overlay=True, model=model,
                               progress=progress)
    else:
        note = "ConVis needs WordNet synset labels (e.g. car.n.01)."
    mutual = client.mutual_knowledge(png, labels, overlay=True, evaluate=True, model=model)
    return ReportData(Path(image).name, png, classification, surgery, convis, mutual, note)
