"""Parity of cliplens' Hugging Face conversion with transformers' own forward, as a table.

Builds CLIPModel and SiglipModel checkpoints with random weights (tests/hf_models.py, saved by
transformers' `save_pretrained`; `--size base` for the shapes of openai/clip-vit-base-patch32
and google/siglip-base-patch16-224, `tiny` by default), serves them through cliplens' loader
and tokenizer, and prints the cosine and the largest absolute difference of the image and text
embeddings and of the zero-shot logits. Needs the dev extras (transformers).

    python scripts/hf_parity.py [--size tiny|base]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TEXTS = ["a photo of a cat", "A red car on the street!", "two people walking in the park",
         "bird " * 100]
BASE = {"clip": dict(text=dict(hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                               num_attention_heads=8),
                     vision=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                 num_attention_heads=12, image_size=224, patch_size=32),
                     projection=512),
        "siglip": dict(text=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                 num_attention_heads=12),
                       vision=dict(hidden_size=768, intermediate_size=3072,
                                   num_hidden_layers=12, num_attention_heads=12,
                                   image_size=224, patch_size=16))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("tiny", "base"), default="tiny")
    args = parser.parse_args()
    import hf_models
    from transformers import AutoModel

    from cliplens.embedding import tokenization
    from cliplens.embedding.facts import read_facts
    from cliplens.embedding.loading import build
    from cliplens.embedding.registry import Registry

    if args.size == "base":
        hf_models.TINY_TEXT.update(BASE["clip"]["text"])
        hf_models.TINY_VISION.update(BASE["clip"]["vision"])
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for kind, make in (("clip", hf_models.clip_checkpoint),
                           ("siglip", hf_models.siglip_checkpoint)):
            if args.size == "base":
                hf_models.TINY_TEXT.update(BASE[kind]["text"])
                hf_models.TINY_VISION.update(BASE[kind]["vision"])
            folder = make(root / kind)
            (root / f"{kind}.yaml").write_text(f"name: {kind}\nhf_dir: {folder}\n")
            entry = Registry([root], model_dir=root).resolve(kind)
            built = build(entry)
            tok = tokenization.for_entry(entry, built.architecture)
            hf = AutoModel.from_pretrained(folder).eval()
            size = hf.config.vision_config.image_size
            pixels = torch.randn(4, 3, size, size, generator=torch.Generator().manual_seed(0))
            ids = tok(TEXTS)
            with torch.no_grad():
                ours = built.model.encode_image(pixels), built.model.encode_text(ids)
                out = hf(input_ids=ids, pixel_values=pixels)
            facts = read_facts(built.model, built.preprocess_cfg, tok)
            img, txt = F.normalize(ours[0], dim=-1), F.normalize(ours[1], dim=-1)
            logits = facts.logit_scale * img @ txt.T + (facts.logit_bias or 0.0)
            for what, a, b in (("image", ours[0], out.image_embeds),
                               ("text", ours[1], out.text_embeds),
                               (f"logits ({facts.head})", logits, out.logits_per_image)):
                if what in ("image", "text"):  # transformers' *_embeds are normalised
                    a = F.normalize(a, dim=-1)
                cos = F.cosine_similarity(a.flatten(1), b.flatten(1)).min().item()
                rows.append((kind, what, cos, (a - b).abs().max().item()))
    print(f"{'layout':8} {'output':20} {'min cosine':>12} {'max |diff|':>12}")
    for kind, what, cos, diff in rows:
        print(f"{kind:8} {what:20} {cos:12.7f} {diff:12.2e}")


if __name__ == "__main__":
    main()
