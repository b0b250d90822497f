"""Held-out zero-shot evaluation of a CLIP on toyworld: `cliplens toyworld eval`."""

from __future__ import annotations

import numpy as np
import torch

from cliplens.toyworld.captions import class_prompts
from cliplens.toyworld.objects import CLASSES
from cliplens.toyworld.scene import render_scene

HELDOUT_PER_CLASS = 50


def heldout_single_object(n_per_class: int, size: int):
    """Held-out single-object scenes, `n_per_class` per class, class-major order."""
    for c, toy in enumerate(CLASSES):
        for k in range(n_per_class):
            yield c, render_scene("heldout", c * 100_000 + k, size=size, classes=(toy.synset,),
                                  kind="normal")


def _device(model) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def class_text_embeddings(model, tokenizer) -> torch.Tensor:
    """Normalised mean of the normalised prompt embeddings of each class (K x D)."""
    rows = []
    for toy in CLASSES:
        t = model.encode_text(tokenizer(class_prompts(toy.synset)).to(_device(model)))
        t = t / t.norm(dim=-1, keepdim=True)
        m = t.mean(0)
        rows.append(m / m.norm())
    return torch.stack(rows)


@torch.inference_mode()
def zero_shot_eval(model, tokenizer, *, n_per_class: int = HELDOUT_PER_CLASS,
                   batch: int = 256) -> dict:
    """Top-1 over all classes on held-out single-object scenes, with per-class accuracy."""
    from cliplens.toyworld.model import MEAN, STD

    size = model.visual.image_size[0]
    text = class_text_embeddings(model, tokenizer)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    labels, preds, chunk, chunk_labels = [], [], [], []

    def flush():
        x = torch.from_numpy(np.stack(chunk)).permute(0, 3, 1, 2).float() / 255.0
        f = model.encode_image(((x - mean) / std).to(_device(model)))
        f = f / f.norm(dim=-1, keepdim=True)
        preds.extend((f @ text.T).argmax(1).cpu().tolist())
        labels.extend(chunk_labels)
        chunk.clear()
        chunk_labels.clear()

    for c, scene in heldout_single_object(n_per_class, size):
        chunk.append(scene.image)
        chunk_labels.append(c)
        if len(chunk) == batch:
            flush()
    if chunk:
        flush()
    labels_a, preds_a = np.array(labels), np.array(preds)
    per_class = {toy.synset: float((preds_a[labels_a == c] == c).mean())
                 for c, toy in enumerate(CLASSES)}
    return {"top1": float((labels_a == preds_a).mean()), "per_class": per_class,
            "n": int(len(labels_a))}
