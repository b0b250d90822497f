"""Train the toyworld CLIP from a seed: `python -m cliplens.toyworld.train`.

Contrastive (CLIP) training of the open_clip `toyworld` config on procedurally drawn scenes.
Everything is a function of the seed: the scene pool, the captions, the initial weights and the
batch order, so a rerun on the same software and thread count reproduces the checkpoint. The
result is a fp16 safetensors file plus a model card with the held-out accuracy and sha256.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cliplens.toyworld import model as toymodel
from cliplens.toyworld.captions import caption
from cliplens.toyworld.evaluate import HELDOUT_PER_CLASS, zero_shot_eval
from cliplens.toyworld.scene import render_scene

log = logging.getLogger("cliplens.toyworld.train")

EXTRA_SINGLE = 0.35  # share of the pool drawn as one whole object, on top of the world's own


def _draw(args: tuple[int, int, int, int]) -> tuple[np.ndarray, list[str]]:
    """Scenes [start, stop) of the pool with their captions; a function of the seed alone."""
    seed, start, stop, captions_per_scene = args
    images = np.empty((stop - start, toymodel.IMAGE_SIZE, toymodel.IMAGE_SIZE, 3), np.uint8)
    texts: list[str] = []
    for i in range(start, stop):
        # One generator per scene, so the pool does not depend on how the work is split.
        rng = np.random.default_rng([seed, 1, i])
        # Zero-shot classification is asked about lone objects: extra single-object scenes
        # (two thirds of the pool in all) buy held-out accuracy at no cost to the rest.
        alone = {"n_objects": 1, "kind": "normal"} if rng.random() < EXTRA_SINGLE else {}
        scene = render_scene("train", seed * 10_000_000 + i, size=toymodel.IMAGE_SIZE, **alone)
        images[i - start] = scene.image
        texts.extend(caption(rng, scene) for _ in range(captions_per_scene))
    return images, texts


def build_pool(n_scenes: int, captions_per_scene: int, seed: int, tokenizer, context: int,
               workers: int = 1):
    """Render the training scenes and tokenise several sampled captions for each."""
    chunk = 2_000
    jobs = [(seed, a, min(a + chunk, n_scenes), captions_per_scene)
            for a in range(0, n_scenes, chunk)]
    images = np.empty((n_scenes, toymodel.IMAGE_SIZE, toymodel.IMAGE_SIZE, 3), np.uint8)
    texts: list[str] = []
    start = time.time()
    with multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else nullcontext() \
            as pool:
        results = pool.imap(_draw, jobs) if pool else map(_draw, jobs)
        for (_, a, b, _), (imgs, txt) in zip(jobs, results, strict=True):
            images[a:b] = imgs
            texts.extend(txt)
            if b % 20_000 == 0 or b == n_scenes:
                log.info("drew %d/%d scenes (%.0f s)", b, n_scenes, time.time() - start)
    tokens = tokenizer(texts, context_length=context).view(n_scenes, captions_per_scene, -1)
    return torch.from_numpy(images), tokens


def _lr(step: int, steps: int, warmup: int, peak: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return 0.5 * peak * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def train(*, seed: int, steps: int, batch: int, n_scenes: int, lr: float, out: Path,
          threads: int, eval_every: int, snapshots: Path | None = None,
          config: Path = toymodel.CONFIG_PATH,
          heldout_per_class: int = HELDOUT_PER_CLASS, device: str = "cpu",
          bf16: bool = True) -> dict:
    """Train from `seed` and write the fp16 checkpoint and model card into `out`.

    The scenes and captions are a function of the seed alone; the weights are reproducible bit
    for bit where BLAS sums in the same order (same software, CPU and thread count) and agree
    up to that order elsewhere.
    `bf16` runs the forward pass under bfloat16 autocast (fp32 master weights): 15% faster on
    the 2-core CPU it was made on, which buys more steps in the hour.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    t0 = time.time()
    model = toymodel.create(pretrained=False, config=config)
    tokenizer = toymodel.tokenizer(config)
    context = model.context_length
    images, tokens = build_pool(n_scenes, 6, seed, tokenizer, context, workers=threads)
    model.to(device)
    t_data = time.time() - t0
    log.info("scene pool ready: %d scenes in %.0f s", n_scenes, t_data)
    mean = torch.tensor(toymodel.MEAN).view(1, 3, 1, 1)
    std = torch.tensor(toymodel.STD).view(1, 3, 1, 1)

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters()
                if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-6)
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(batch, device=device)
    history = []
    model.train()
    t_train = time.time()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, warmup=max(1, steps // 20), peak=lr)
        idx = torch.randint(0, n_scenes, (batch,), generator=gen)
        which = torch.randint(0, tokens.shape[1], (batch,), generator=gen)
        x = (images[idx].permute(0, 3, 1, 2).float() / 255.0 - mean) / std
        t = tokens[idx, which].to(device)
        x = x.to(device)
        with torch.autocast(torch.device(device).type, torch.bfloat16, enabled=bf16):
            img_f, txt_f, scale = model(x, t)
        logits = scale * img_f.float() @ txt_f.float().T
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 50 == 0 or step == steps - 1:
            elapsed = time.time() - t_train
            eta = elapsed / (step + 1) * (steps - step - 1)
            log.info("step %d/%d loss %.3f scale %.1f lr %.2e %.0f s (eta %.0f s)", step + 1,
                     steps, loss.item(), scale.item(), opt.param_groups[0]["lr"], elapsed, eta)
        if eval_every and (step + 1) % eval_every == 0 and step + 1 < steps:
            model.eval()
            acc = zero_shot_eval(model, tokenizer, n_per_class=10)["top1"]
            model.train()
            history.append({"step": step + 1, "heldout_top1_quick": acc})
            if snapshots:
                snapshots.mkdir(parents=True, exist_ok=True)
                toymodel.save_fp16(model, snapshots / f"step{step + 1}.safetensors")
            log.info("step %d held-out top-1 (quick, 10/class) %.3f", step + 1, acc)
    t_total = time.time() - t0
    model.eval().cpu()
    out.mkdir(parents=True, exist_ok=True)
    weights = toymodel.save_fp16(model, out / toymodel.WEIGHTS_NAME)
    reloaded = toymodel.create(pretrained=True, weights=weights, config=config)
    result = zero_shot_eval(reloaded, tokenizer, n_per_class=heldout_per_class)
    card = {
        "name": "toyworld",
        "config": json.loads(Path(config).read_text()),
        "seed": seed, "steps": steps, "batch": batch, "scenes": n_scenes, "lr": lr,
        "threads": threads, "device": device, "bf16_autocast": bf16,
        "extra_single_object_share": EXTRA_SINGLE, "torch": torch.__version__,
        "seconds": {"data": round(t_data), "total": round(t_total)},
        "heldout": {"top1": result["top1"], "per_class": result["per_class"],
                    "n": result["n"]},
        "history": history,
        "sha256": toymodel.sha256(weights),
        "bytes": weights.stat().st_size,
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=1) + "\n")
    log.info("wrote %s (%.1f MB), held-out top-1 %.3f, %.0f s in all", weights,
             card["bytes"] / 1e6, result["top1"], t_total)
    return card


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=4800)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--scenes", type=int, default=80_000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu",
                   help="where to train (the shipped checkpoint: cpu, 2 threads)")
    p.add_argument("--fp32", action="store_true", help="no bfloat16 autocast")
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--out", type=Path, default=toymodel.MODEL_DIR)
    p.add_argument("--snapshots", type=Path, help="also save the weights at every evaluation")
    p.add_argument("--config", type=Path, default=toymodel.CONFIG_PATH,
                   help="open_clip model config (for experiments; the shipped model uses "
                        "the default)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(seed=args.seed, steps=args.steps, batch=args.batch, n_scenes=args.scenes, lr=args.lr,
          out=args.out, threads=args.threads, eval_every=args.eval_every,
          snapshots=args.snapshots, config=args.config, device=args.device,
          bf16=not args.fp32)


if __name__ == "__main__":
    main()
